import Foundation
import IFERIO
import IFERTensor
import XCTest
@testable import IFERCheckpoint

final class ChecksumsTests: XCTestCase {
    /// The threaded per-dataset digests equal one-by-one SHA-256 at every thread count, in the
    /// order given (sizes mixed so that the largest-first schedule reorders the work).
    func testThreadedDigestsEqualSequentialOnes() {
        let tensors = [5, 70_001, 0, 1, 4096, 300_000, 17].enumerated().map { i, n in tensor([n], seed: Float(i + 1)) }
        let want = tensors.map { t in SHA256.hexHash(UnsafeRawBufferPointer(UnsafeBufferPointer(t.buffer))) }
        let saved = Threads.blas
        defer { Threads.setBLAS(saved) }
        for threads in [1, 2, 3] {
            Threads.setBLAS(threads)
            XCTAssertEqual(Checksums.hexDigests(tensors), want, "\(threads) threads")
        }
    }

    /// Two tampered datasets behind a recomputed sidecar: the first one in reading order is named,
    /// whichever hashing thread finished first.
    func testFirstMismatchInOrderIsReported() throws {
        let run = try makeTempDir(self)
        let path = try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 1)
        do {
            let f = try H5File(path: path, mode: .readWrite)
            try f.openDataset("/params/encoder.input_layer.0.bias").write([Float](repeating: 9, count: 4))
            try f.openDataset("/params/decoder.style.1.weight").write([Float](repeating: 9, count: 64))
            f.close()
        }
        try (SHA256.hexHash(file: path) + "  x\n").write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        let bias = Tensor(zeros: [4]), style = Tensor(zeros: [8, 8])
        XCTAssertThrowsError(try r.readTensors([("/params/decoder.style.1.weight", style), ("/params/encoder.input_layer.0.bias", bias)])) { e in
            XCTAssertTrue("\(e)".contains("/params/decoder.style.1.weight: dataset checksum mismatch"), "\(e)")
        }
    }
}
