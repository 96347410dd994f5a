import XCTest
@testable import IFERData

final class SynthTests: XCTestCase {
    func testDumpGrid() throws {
        let g = SynthPreview.grid(seed: 0, identities: 3, cell: 200)
        var data = Data("P6\n\(g.width) \(g.height)\n255\n".utf8)
        data.append(contentsOf: g.pixels)
        try data.write(to: URL(fileURLWithPath: "/tmp/synth-grid.ppm"))
    }
}
