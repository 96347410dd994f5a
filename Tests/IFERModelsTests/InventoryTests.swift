import XCTest
@testable import IFERModels

final class InventoryTests: XCTestCase {
    func testPaperConfigsGiveThePaperCounts() throws {
        let asit = try ModelConfig(file: repoRoot.appendingPathComponent("configs/paper/asit-ffhq.yaml").path)
        let nets = Dictionary(uniqueKeysWithValues: try ModelInventory.networks(asit).map { ($0.name, $0) })
        XCTAssertEqual(nets["encoder"]?.parameters, 265_832_456)
        XCTAssertEqual(nets["generator"]?.parameters, 30_034_338)
        XCTAssertEqual(nets["discriminator_q"]?.parameters, 22_370_048)
        XCTAssertEqual(nets["discriminator_k"]?.parameters, 0)
        XCTAssertNil(nets["ifer_head"], "an ASIT config has no ifer_head section")
        XCTAssertEqual(nets["generator"]?.macs, nets["generator"].map { _ in Generator(asit.generator).macs })
        XCTAssertTrue(nets["generator"]!.tensors.contains(TensorEntry(name: "decoder.noises.noise_12", shape: [1, 1, 256, 256], kind: "buffer")))
        XCTAssertTrue(nets["discriminator_k"]!.tensors.allSatisfy { $0.kind == "buffer" && $0.name.hasPrefix("model_k.") })

        let ifer = try ModelConfig(file: repoRoot.appendingPathComponent("configs/paper/ifer-affectnet8.yaml").path)
        let head = try ModelInventory.networks(ifer).first { $0.name == "ifer_head" }
        XCTAssertEqual(head?.parameters, 2_888_199 + 512 + 1)   // 8 classes: one more row of 512 + bias
        XCTAssertEqual(head?.tensors.first { $0.name == "head.weight" }?.shape, [8, 512])
    }
}
