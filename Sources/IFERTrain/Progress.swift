import Foundation

/// Rank 0's progress output: a live bar on a terminal (one line rewritten in place), plain lines
/// otherwise; the same plain lines always go to `<run>/train.log`, and `<run>/metrics.jsonl` gets
/// one JSON object per logged step and per evaluation. Other ranks construct it with
/// `enabled: false` and print nothing. (Under mpirun, Open MPI forwards output through a
/// pseudo-terminal, so `log.bar: auto` may draw a bar even when mpirun's own output is a file;
/// set `log.bar: off` for batch jobs.)
public final class Progress {
    let total: Int
    let enabled: Bool
    let live: Bool
    let metrics: FileHandle?
    let plainLog: FileHandle?
    let start = MonotonicClock.now()
    var startStep = 0

    public init(total: Int, runDir: String?, enabled: Bool, bar: String) throws {
        self.total = total
        self.enabled = enabled
        live = enabled && (bar == "on" || (bar == "auto" && isatty(STDOUT_FILENO) == 1))
        metrics = enabled ? try Progress.append(runDir, "metrics.jsonl") : nil
        plainLog = enabled ? try Progress.append(runDir, "train.log") : nil
    }

    /// A handle appending to `<dir>/<name>` (nil without a run folder).
    static func append(_ dir: String?, _ name: String) throws -> FileHandle? {
        guard let dir else { return nil }
        let path = (dir as NSString).appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw ConfigError.badValue(path: "--run-dir", detail: "cannot write \(path)")
        }
        h.seekToEndOfFile()
        return h
    }

    func line(_ text: String) { plainLog?.write((text + "\n").data(using: .utf8) ?? Data()) }

    public func begin(at step: Int) { startStep = step }

    /// One logged step: bar or line, and a metrics.jsonl record.
    public func step(_ step: Int, epoch: Int, losses: [(String, Double)], lr: Float, imagesPerSecond: Double) {
        guard enabled else { return }
        let done = step - startStep
        let elapsed = MonotonicClock.now() - start
        let eta = done > 0 ? elapsed / Double(done) * Double(total - step) : 0
        let lossText = losses.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: " ")
        let text = String(format: "step %d/%d  %@  lr %.2e  %.1f img/s  eta %@", step, total, lossText, lr,
                          imagesPerSecond, Progress.clock(eta))
        if live {
            let width = 24, filled = min(width, width * step / max(total, 1))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            print("\r[\(bar)] \(text)", terminator: "")
            fflush(stdout)
        } else {
            print(text)
        }
        line(text)
        var rec: [String: Any] = ["kind": "train", "step": step, "epoch": epoch, "lr": Double(lr),
                                  "images_per_s": imagesPerSecond, "elapsed_s": elapsed]
        for (k, v) in losses { rec[k] = v }
        write(rec)
    }

    /// An evaluation record (and a plain line).
    public func eval(_ step: Int, _ record: [String: Any], summary: String) {
        guard enabled else { return }
        if live { print("") }
        print(summary)
        line(summary)
        var rec = record
        rec["kind"] = "eval"; rec["step"] = step
        write(rec)
    }

    public func finish() { if enabled && live { print("") } }

    func write(_ rec: [String: Any]) {
        guard let h = metrics, let data = try? JSONSerialization.data(withJSONObject: rec, options: [.sortedKeys]) else { return }
        h.write(data)
        h.write("\n".data(using: .utf8)!)
    }

    /// Drops every metrics.jsonl record after `step` (a resumed run continues the history from
    /// its checkpoint's step instead of appending a second one). Atomic: a temporary file renamed
    /// over the old one.
    public static func truncateMetrics(runDir: String, afterStep step: Int) throws {
        let path = (runDir as NSString).appendingPathComponent("metrics.jsonl")
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        let kept = lines.filter { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let s = obj["step"] as? Int else { return false }   // a torn last line is dropped too
            return s <= step
        }
        guard kept.count != lines.count else { return }
        let text = kept.map { $0 + "\n" }.joined()
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw ConfigError.badValue(path: "--run-dir", detail: "cannot rewrite \(path): \(error.localizedDescription)")
        }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
    }
}
