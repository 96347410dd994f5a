import Foundation

/// A background thread that prepares the next `depth` batches, in (epoch, step) order and across
/// epoch boundaries, while the caller trains. `restart` discards everything prepared and begins
/// again at a new position (used when a cursor is restored).
final class Prefetcher {
    typealias Item = (epoch: Int, step: Int, result: Result<Batch, Error>)

    /// Dropped when the thread exits, so the thread (whose closure keeps the prefetcher alive a
    /// moment longer) never releases the shard files.
    private var source: BatchSource?
    private let depth: Int
    private let stepsPerEpoch: Int
    private let cond = NSCondition()
    private var queue: [Item] = []
    private var nextEpoch: Int
    private var nextStep: Int
    private var generation = 0
    private var stopped = false
    private var exited = false

    init(source: BatchSource, depth: Int, stepsPerEpoch: Int, epoch: Int, step: Int) {
        self.source = source
        self.depth = max(1, depth)
        self.stepsPerEpoch = stepsPerEpoch
        self.nextEpoch = epoch
        self.nextStep = step
        // The thread holds the prefetcher (not the loader), so the loader's deinit can stop it.
        let t = Thread { [self] in self.run() }
        t.name = "ifer-loader-prefetch"
        t.start()
    }

    /// The prepared batch of (epoch, step); waits for it. Restarts the producer if it is elsewhere.
    func take(epoch: Int, step: Int) -> Result<Batch, Error> {
        cond.lock()
        defer { cond.unlock() }
        while true {
            if let first = queue.first {
                if first.epoch == epoch && first.step == step {
                    queue.removeFirst()
                    cond.broadcast()
                    return first.result
                }
                restartLocked(epoch: epoch, step: step)
            } else if !(nextEpoch == epoch && nextStep == step) && !inFlight(epoch: epoch, step: step) {
                restartLocked(epoch: epoch, step: step)
            }
            cond.wait()
        }
    }

    // The (epoch, step) the producer is working on right now, if any.
    private var working: (Int, Int, Int)? = nil
    private func inFlight(epoch: Int, step: Int) -> Bool {
        guard let w = working else { return false }
        return w.0 == generation && w.1 == epoch && w.2 == step
    }

    func restart(epoch: Int, step: Int) {
        cond.lock()
        restartLocked(epoch: epoch, step: step)
        cond.unlock()
    }

    private func restartLocked(epoch: Int, step: Int) {
        generation += 1
        queue.removeAll()
        nextEpoch = epoch
        nextStep = step
        cond.broadcast()
    }

    /// Stops the producer and waits until its thread has left: a batch it was still reading must
    /// not release shard handles after the process began to exit (HDF5 closes its library at
    /// exit, and a late close then fails with "not a dataset ID").
    func stop() {
        cond.lock()
        stopped = true
        cond.broadcast()
        while !exited { cond.wait() }
        cond.unlock()
    }

    private func run() {
        while true {
            cond.lock()
            while !stopped && queue.count >= depth { cond.wait() }
            if stopped { source = nil; exited = true; cond.broadcast(); cond.unlock(); return }
            let g = generation, e = nextEpoch, s = nextStep, src = source!
            working = (g, e, s)
            nextStep += 1
            if nextStep >= stepsPerEpoch { nextEpoch += 1; nextStep = 0 }
            cond.unlock()

            let r = Result { try src.make(epoch: e, step: s) }

            cond.lock()
            working = nil
            if g == generation && !stopped { queue.append((e, s, r)) }
            cond.broadcast()
            cond.unlock()
        }
    }
}
