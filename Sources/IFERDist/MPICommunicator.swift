import CMPI
import IFERTensor
import Foundation

/// The Open MPI backend of `Communicator`.
///
/// Thread level: we ask for MPI_THREAD_MULTIPLE. Collectives themselves are serialized (a lock,
/// and in practice one thread at a time: the data-parallel communication thread during a backward
/// pass, the main thread otherwise), which SERIALIZED would allow. MULTIPLE is needed for the
/// watchdog: it calls MPI_Abort from its own thread while another thread is blocked inside a
/// collective, which SERIALIZED forbids. If the library grants less, the watchdog falls back to
/// printing its message and `_exit` (mpirun then ends the job because a rank died).
///
/// Errors: MPI_COMM_WORLD's handler is MPI_ERRORS_RETURN, so a failed call returns a code that we
/// turn into `DistError.mpi` naming the rank and the operation instead of MPI's default abort.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let worldSize: Int
    public let localRank: Int
    public let localSize: Int
    /// The thread level the library granted (MPI_THREAD_*).
    public let threadLevel: Int32
    public var watchdog: Watchdog?

    /// Collectives must be issued in the same order on every rank; the lock keeps two threads of
    /// one rank from interleaving theirs.
    private let lock = NSLock()
    private let world: MPI_Comm
    private var finalized = false

    /// Initializes MPI. Call once per process (use `makeCommunicator()`).
    init() throws {
        var provided: Int32 = 0
        let rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided)
        guard rc == MPI_SUCCESS else { throw DistError.mpi(op: "MPI_Init_thread", rank: -1, code: rc) }
        threadLevel = provided
        world = cmpi_comm_world()
        MPI_Comm_set_errhandler(world, cmpi_errors_return())
        var r: Int32 = 0, n: Int32 = 0
        try MPICommunicator.check(MPI_Comm_rank(world, &r), "MPI_Comm_rank", rank: -1)
        try MPICommunicator.check(MPI_Comm_size(world, &n), "MPI_Comm_size", rank: Int(r))
        rank = Int(r)
        worldSize = Int(n)
        // Ranks that share memory (one node): their count sets the BLAS threads per rank.
        var local: MPI_Comm? = nil
        try MPICommunicator.check(MPI_Comm_split_type(world, cmpi_comm_type_shared(), r, cmpi_info_null(), &local),
                                  "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)", rank: rank)
        var lr: Int32 = 0, ln: Int32 = 0
        try MPICommunicator.check(MPI_Comm_rank(local, &lr), "MPI_Comm_rank(local)", rank: rank)
        try MPICommunicator.check(MPI_Comm_size(local, &ln), "MPI_Comm_size(local)", rank: rank)
        MPI_Comm_free(&local)
        localRank = Int(lr)
        localSize = Int(ln)
    }

    static func check(_ rc: Int32, _ op: String, rank: Int) throws {
        if rc != MPI_SUCCESS { throw DistError.mpi(op: op + ": " + errorString(rc), rank: rank, code: rc) }
    }

    static func errorString(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var len: Int32 = 0
        guard MPI_Error_string(code, &buf, &len) == MPI_SUCCESS else { return "unknown error" }
        return String(decoding: buf.prefix(Int(len)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs one MPI call under the collective lock and the watchdog, and maps its error code.
    private func call(_ op: String, _ body: () -> Int32) throws {
        guard !finalized else { throw DistError.mpi(op: op + " after finalize", rank: rank, code: -1) }
        let token = watchdog?.enter(op)
        lock.lock()
        let rc = body()
        lock.unlock()
        if let t = token { watchdog?.leave(t) }
        try MPICommunicator.check(rc, op, rank: rank)
    }

    /// MPI counts are Int32: larger buffers go in pieces of at most this many elements (one call
    /// below that, so `allReduce(average: false)` is one raw MPI_Allreduce for the benchmark).
    static let maxCount = Int(Int32.max)

    public func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws {
        var start = 0
        while start < count {
            let n = min(MPICommunicator.maxCount, count - start)
            try call("MPI_Allreduce(\(n) floats)") {
                MPI_Allreduce(cmpi_in_place(), buffer + start, Int32(n), cmpi_float(), cmpi_op_sum(), world)
            }
            start += n
        }
        if average && worldSize > 1 {
            let s = 1 / Float(worldSize)
            for i in 0..<count { buffer[i] *= s }
        }
    }

    public func allReduce(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        var start = 0
        while start < count {
            let n = min(MPICommunicator.maxCount, count - start)
            try call("MPI_Allreduce(\(n) doubles)") {
                MPI_Allreduce(cmpi_in_place(), buffer + start, Int32(n), cmpi_double(), cmpi_op_sum(), world)
            }
            start += n
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {
        guard root >= 0 && root < worldSize else {
            throw DistError.mpi(op: "MPI_Bcast: root \(root) outside 0..<\(worldSize)", rank: rank, code: -1)
        }
        var start = 0
        while start < bytes {
            let n = min(MPICommunicator.maxCount, bytes - start)
            try call("MPI_Bcast(\(n) bytes from rank \(root))") {
                MPI_Bcast(buffer + start, Int32(n), cmpi_byte(), Int32(root), world)
            }
            start += n
        }
    }

    public func allGather(_ values: [Int64]) throws -> [Int64] {
        var out = [Int64](repeating: 0, count: values.count * worldSize)
        try values.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try call("MPI_Allgather(\(values.count) int64)") {
                    MPI_Allgather(src.baseAddress, Int32(values.count), cmpi_int64(),
                                  dst.baseAddress, Int32(values.count), cmpi_int64(), world)
                }
            }
        }
        return out
    }

    /// A deliberately invalid call (negative count), to check that MPI errors come back as
    /// `DistError` naming rank and operation instead of aborting (used by CommCheck).
    public func invalidCallForTesting() throws {
        var x: Float = 0
        try call("MPI_Allreduce(count -1, deliberate)") {
            MPI_Allreduce(cmpi_in_place(), &x, -1, cmpi_float(), cmpi_op_sum(), world)
        }
    }

    public func barrier() throws {
        try call("MPI_Barrier") { MPI_Barrier(world) }
    }

    /// Prints the message (prefixed with the rank) and ends every rank of the job. Safe to call
    /// from any thread, also while another thread is blocked in a collective (see the thread
    /// level above); never takes the collective lock.
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("[rank \(rank)] \(message)\n".utf8))
        if threadLevel >= Int32(MPI_THREAD_MULTIPLE) && !finalized {
            MPI_Abort(world, code)
        }
        // MPI_Abort returned (it should not) or is not allowed here: dying ends the job too.
        fflush(stdout)
        _exit(code)
    }

    func finalize() {
        guard !finalized else { return }
        watchdog?.stop()
        lock.lock()
        finalized = true
        MPI_Finalize()
        lock.unlock()
    }
}

// MARK: - Factory

/// True when this process was started by mpirun / srun (Open MPI, MPICH/PMI or PMIx variables).
public var launchedUnderMPI: Bool {
    let env = ProcessInfo.processInfo.environment
    return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMI_SIZE"] != nil || env["PMIX_RANK"] != nil
}

private let communicatorLock = NSLock()
private var sharedCommunicator: Communicator?

/// The process's communicator: MPI when launched under mpirun, a world of one otherwise.
/// Initializes MPI on the first call; later calls return the same object. If MPI cannot start,
/// prints why and exits with status 1 (nothing sensible can run without the launcher's world).
public func makeCommunicator() -> Communicator {
    communicatorLock.lock()
    defer { communicatorLock.unlock() }
    if let c = sharedCommunicator { return c }
    let c: Communicator
    if launchedUnderMPI {
        do {
            c = try MPICommunicator()
        } catch {
            FileHandle.standardError.write(Data("ifer: cannot start MPI: \(error)\n".utf8))
            exit(1)
        }
    } else {
        c = SingleProcess()
    }
    sharedCommunicator = c
    return c
}

/// Stops the watchdog and finalizes MPI (if it was started). Call once at the end of `main`,
/// after every rank's last collective.
public func finalizeCommunicator() {
    communicatorLock.lock()
    defer { communicatorLock.unlock() }
    sharedCommunicator?.watchdog?.stop()
    (sharedCommunicator as? MPICommunicator)?.finalize()
}

/// Sets the BLAS threads of this rank to the node's cores shared evenly by the ranks on the node,
/// unless the user chose with OPENBLAS_NUM_THREADS. Returns the number in use.
@discardableResult
public func setDefaultThreads(_ comm: Communicator) -> Int {
    if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil {
        Threads.setBLAS(Threads.defaultBLAS(localRanks: comm.localSize))
    }
    return Threads.blas
}
