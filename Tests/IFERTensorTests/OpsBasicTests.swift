import XCTest
@testable import IFERTensor

/// One line per golden case (scripts/golden/ops_basic.py): forward and backward against
/// PyTorch, backward against finite differences.
final class OpsBasicTests: XCTestCase {
    func testBinaryBroadcasting() {
        for tag in ["same", "bias", "channel", "outer", "left", "mixed", "scalar"] {
            checkOp("add_\(tag)") { try add($0[0], $0[1]) }
            checkOp("sub_\(tag)") { try sub($0[0], $0[1]) }
            checkOp("mul_\(tag)") { try mul($0[0], $0[1]) }
            checkOp("div_\(tag)") { try div($0[0], $0[1]) }
        }
    }

    func testUnary() {
        checkOp("addScalar") { addScalar($0[0], 1.5) }
        checkOp("scale") { scale($0[0], -0.75) }
        checkOp("neg") { neg($0[0]) }
        checkOp("exp") { exp($0[0]) }
        checkOp("log") { log($0[0]) }
        checkOp("sqrt") { sqrt($0[0]) }
        checkOp("rsqrt") { rsqrt($0[0]) }
        checkOp("square") { square($0[0]) }
        checkOp("pow3") { pow($0[0], 3) }
        checkOp("pow_half") { pow($0[0], 0.5) }
        checkOp("pow_neg") { pow($0[0], -1.5) }
        checkOp("abs") { abs($0[0]) }
    }

    func testActivations() {
        checkOp("relu") { relu($0[0]) }
        checkOp("leakyRelu") { leakyRelu($0[0], slope: 0.1) }
        checkOp("leakyRelu_stylegan") { leakyRelu($0[0], slope: 0.2, gain: Float(2).squareRoot()) }
        checkOp("gelu") { gelu($0[0]) }
        checkOp("sigmoid") { sigmoid($0[0]) }
        checkOp("tanh") { tanh($0[0]) }
    }

    func testReductions() {
        checkOp("sum_axis1") { try sum($0[0], axes: [1]) }
        checkOp("sum_axes02") { try sum($0[0], axes: [0, 2]) }
        checkOp("sum_last_keep") { try sum($0[0], axes: [-1], keepDims: true) }
        checkOp("sum_all_axes") { try sum($0[0], axes: [2, 0, 1]) }
        checkOp("sum_long_rows") { try sum($0[0], axes: [1]) }
        checkOp("mean_axis0") { try mean($0[0], axes: [0]) }
        checkOp("mean_axes12_keep") { try mean($0[0], axes: [1, 2], keepDims: true) }
        checkOp("mean_nchw_channel") { try mean($0[0], axes: [0, 2, 3]) }
        checkOp("sumAll") { sumAll($0[0]) }
        checkOp("meanAll") { meanAll($0[0]) }
    }

    func testSoftmax() {
        checkOp("softmax_last") { try softmax($0[0]) }
        checkOp("softmax_axis1") { try softmax($0[0], axis: 1) }
        checkOp("softmax_axis0") { try softmax($0[0], axis: 0) }
        checkOp("softmax_large", fd: false) { try softmax($0[0]) }
        checkOp("logSoftmax_last") { try logSoftmax($0[0]) }
        checkOp("logSoftmax_axis1") { try logSoftmax($0[0], axis: 1) }
        checkOp("logSoftmax_large", fd: false) { try logSoftmax($0[0]) }
    }

    func testNorm() {
        checkOp("layerNorm_affine") { try layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkOp("layerNorm_plain") { try layerNorm($0[0]) }
        checkOp("layerNorm_weight") { try layerNorm($0[0], weight: $0[1]) }
        checkOp("layerNorm_wide") { try layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkOp("pixelNorm_vec") { try pixelNorm($0[0]) }
        checkOp("pixelNorm_map") { try pixelNorm($0[0]) }
    }

    func testShape() {
        checkOp("reshape") { try reshape($0[0], [6, -1]) }
        checkOp("permute_201") { try permute($0[0], [2, 0, 1]) }
        checkOp("permute_heads") { try permute($0[0], [0, 2, 1, 3]) }
        checkOp("permute_identity") { try permute($0[0], [0, 1, 2]) }
        checkOp("transpose_last") { try transpose($0[0], -1, -2) }
        checkOp("concat_axis1") { try concat($0, axis: 1) }
        checkOp("concat_axis0") { try concat($0, axis: 0) }
        checkOp("concat_last") { try concat($0, axis: -1) }
        checkOp("split_axis1") { x in
            try concat(split(x[0], sizes: [1, 2, 1], axis: 1).enumerated().map { scale($1, Float($0 + 1)) }, axis: 1)
        }
        checkOp("slice_axis0") { try slice($0[0], axis: 0, start: 1, end: 3) }
        checkOp("slice_axis1") { try slice($0[0], axis: 1, start: 1, end: 3) }
        checkOp("slice_last") { try slice($0[0], axis: -1, start: 3, end: 4) }
    }
}
