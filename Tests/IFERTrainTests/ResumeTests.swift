import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTrain

/// The `ifer` stage end to end under real mpirun: synthetic RAF-DB data -> shards -> training,
/// and exact resume: 12 steps straight and 6 + resume 6 give bit-identical training state.
final class ResumeTests: XCTestCase {
    func shards() throws -> String { try TrainFixtures.shards() }

    func train(_ run: String, ranks: Int, _ extra: [String]) throws -> IferProcess.Output {
        let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/micro/ifer.yaml").path
        let args = ["train", "--config", config, "--run-dir", run, "--set", "data.shards=\(try shards())",
                    "--set", "train.steps=12", "--set", "train.batch_size=8", "--set", "checkpoint.every=6",
                    "--set", "train.eval_every=0", "--set", "log.every=3", "--set", "data.prefetch=1",
                    "--set", "loss.mixup_alpha=0.8", "--set", "loss.cutmix_alpha=1.0"] + extra
        let out = try IferProcess.run(ranks: ranks, args, timeout: 300)
        XCTAssertEqual(out.status, 0, out.all)
        XCTAssertFalse(out.all.contains("HDF5-DIAG"), "HDF5 reported an error:\n" + out.all)
        return out
    }

    /// Everything a checkpoint holds that must continue exactly: parameters, buffers, optimizer
    /// state, and each rank's RNG state and loader cursor.
    func state(_ path: String) throws -> [String: [Float]] {
        let s = try CheckpointReader.load(path)
        var out: [String: [Float]] = [:]
        for (k, t) in s.params { out["params/" + k] = t.array }
        for (k, t) in s.buffers { out["buffers/" + k] = t.array }
        for o in s.optimizers {
            for (k, t) in o.tensors { out["optimizer/\(o.name)/\(k)"] = t.array }
            for (k, v) in o.int64s { out["optimizer/\(o.name)/\(k)"] = v.map { Float($0) } }
        }
        for (r, rank) in s.ranks.enumerated() {
            out["ranks/\(r)/rng"] = rank.rng.flatMap { [Float(UInt32(truncatingIfNeeded: $0)), Float($0 >> 32)] }
            out["ranks/\(r)/cursor"] = rank.cursor.map { Float($0) }
        }
        XCTAssertEqual(s.step, 12)
        return out
    }

    func testStopAfterThenResumeIsBitIdentical() throws {
        let base = NSTemporaryDirectory() + "ifer-resume-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        _ = try train(base + "/straight", ranks: 2, ["--resume", "none"])
        let first = try train(base + "/split", ranks: 2, ["--resume", "none", "--set", "train.stop_after=6"])
        XCTAssertTrue(first.stdout.contains("step 6/12"), first.all)
        let second = try train(base + "/split", ranks: 2, ["--resume", "auto"])
        XCTAssertTrue(second.all.contains("resumed from"), second.all)
        let a = try state(base + "/straight/checkpoints/ckpt-00000012.h5")
        let b = try state(base + "/split/checkpoints/ckpt-00000012.h5")
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        XCTAssertTrue(a.keys.contains("ranks/1/cursor") && a.keys.contains("optimizer/adamw/exp_avg"))
        for (k, v) in a { XCTAssertEqual(v, b[k], "\(k) differs after resume") }
        // metrics.jsonl has one record per logged step of both runs, plus evaluations.
        let metrics = try String(contentsOfFile: base + "/split/metrics.jsonl", encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").filter { $0.contains("\"kind\":\"train\"") }.count, 4)
    }

    func testResumeOnAnotherWorldSizeSaysSo() throws {
        let base = NSTemporaryDirectory() + "ifer-resume-ws-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        _ = try train(base, ranks: 2, ["--resume", "none", "--set", "train.stop_after=6"])
        let out = try train(base, ranks: 0, ["--resume", "auto"])
        XCTAssertTrue(out.all.contains("on 1 ranks (saved on 2)"), out.all)
        XCTAssertTrue(out.all.contains("final top-1 accuracy"), out.all)
    }

    /// `ifer eval` on 1 and 2 ranks agrees with the trainer's own final evaluation, and writes
    /// confusion.csv / eval.json; `ifer predict` names the classes and reports a bad file by name.
    func testEvalAndPredictFromCheckpoint() throws {
        let run = NSTemporaryDirectory() + "ifer-eval-\(getpid())"
        try? FileManager.default.removeItem(atPath: run)
        let trained = try train(run, ranks: 2, ["--resume", "none"])
        let final = trained.stdout.split(separator: "\n").first { $0.contains("final top-1 accuracy") }
        XCTAssertNotNil(final, trained.all)

        func eval(ranks: Int, _ extra: [String] = []) throws -> [String: Any] {
            let out = try IferProcess.run(ranks: ranks, ["eval", "--checkpoint", run, "--json", "--batch", "5"] + extra)
            XCTAssertEqual(out.status, 0, out.all)
            let line = out.stdout.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""
            return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
        let one = try eval(ranks: 0, ["--out", run + "/eval"]), two = try eval(ranks: 2)
        let accuracy = try XCTUnwrap(one["accuracy"] as? Double)
        XCTAssertEqual(one["samples"] as? Int, 28)            // the test split of 140 RAF-DB faces
        XCTAssertEqual(two["accuracy"] as? Double, accuracy)
        XCTAssertEqual(two["confusion"] as? [[Int]], one["confusion"] as? [[Int]])
        XCTAssertTrue(final?.contains(String(format: "%.2f%%", accuracy * 100)) ?? false, "\(final ?? "") vs \(accuracy)")
        XCTAssertEqual(one["step"] as? Int, 12)
        let csv = try String(contentsOfFile: run + "/eval/confusion.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("true\\pred,Surprise,Fear,Disgust,Happiness,Sadness,Anger,Neutral"), csv)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/eval/eval.json"))

        let raw = URL(fileURLWithPath: try shards()).deletingLastPathComponent().path + "/raw/Image/aligned"
        let faces = try FileManager.default.contentsOfDirectory(atPath: raw).sorted().prefix(2).map { raw + "/" + $0 }
        let bad = run + "/not-an-image.png"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: bad))
        let p = try IferProcess.run(ranks: 0, ["predict", "--checkpoint", run, "--json", "--top", "7"] + faces + [bad])
        XCTAssertEqual(p.status, 1, p.all)
        XCTAssertTrue(p.stderr.contains(bad), p.all)
        // One JSON line per image: the two faces with their classes, the bad file with its error.
        let all = p.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        let lines = all.filter { !$0.contains("\"error\"") }
        XCTAssertEqual(lines.count, 2, p.all)
        XCTAssertEqual(all.filter { $0.contains("\"error\"") && $0.contains("not-an-image.png") }.count, 1, p.all)
        for line in lines {
            let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let top = try XCTUnwrap(r["top"] as? [[String: Any]])
            XCTAssertEqual(top.count, 7)
            XCTAssertEqual(top.compactMap { $0["probability"] as? Double }.reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertTrue(["Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral"].contains(r["class"] as? String ?? ""))
        }
    }

    func testBadConfigKeyIsReportedWithPath() throws {
        let out = try IferProcess.run(ranks: 0, ["train", "--config", "configs/micro/ifer.yaml", "--set", "train.stpes=3"])
        XCTAssertNotEqual(out.status, 0)
        XCTAssertTrue(out.all.contains("train.stpes") && out.all.contains("batch_size"), out.all)
    }
}
