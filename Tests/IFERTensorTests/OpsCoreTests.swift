import XCTest
@testable import IFERTensor

/// One line per op: forward and backward against PyTorch, backward against finite differences.
final class OpsCoreTests: XCTestCase {
    func testMatmul() {
        checkOp("matmul") { try matmul($0[0], $0[1]) }
        checkOp("matmul_batched_tA") { try matmul($0[0], $0[1], transposeA: true) }
        checkOp("matmul_batched_tB") { try matmul($0[0], $0[1], transposeB: true) }
        checkOp("matmul_shared_tB") { try matmul($0[0], $0[1], transposeB: true) }
        checkOp("matmul_tAtB") { try matmul($0[0], $0[1], transposeA: true, transposeB: true) }
    }
}
