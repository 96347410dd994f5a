// Names and layout of the checkpoint format (DESIGN.md section 8), in one place.
import Foundation

public enum CheckpointFormat {
    /// Root attribute `format`.
    public static let name = "ifer-checkpoint"
    /// Root attribute `format_version`; readers refuse files with a larger one.
    public static let version = 1
    /// Directory under the run directory.
    public static let directory = "checkpoints"
    /// Text file naming the newest complete checkpoint.
    public static let latestFile = "latest"
    /// Per-dataset checksum attribute: SHA-256 (hex) of the dataset's little-endian bytes.
    public static let datasetChecksumAttribute = "sha256"

    /// "ckpt-00001234.h5".
    public static func fileName(step: Int) -> String { String(format: "ckpt-%08d.h5", step) }

    /// The step of a checkpoint file name, or nil when `name` is not one ("ckpt-<digits>.h5").
    public static func step(ofFileName name: String) -> Int? {
        guard name.hasPrefix("ckpt-"), name.hasSuffix(".h5") else { return nil }
        let digits = name.dropFirst(5).dropLast(3)
        guard digits.count >= 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// The sidecar with the whole file's SHA-256, "<name>.sha256" beside the file.
    public static func sidecarPath(for path: String) -> String { path + ".sha256" }

    public static func checkpointsDir(runDir: String) -> String { (runDir as NSString).appendingPathComponent(directory) }

    /// Complete checkpoint files in `dir`, newest step first (temporary files never match).
    public static func listCheckpoints(in dir: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { n in step(ofFileName: n).map { ($0, (dir as NSString).appendingPathComponent(n)) } }
            .sorted { $0.step > $1.step }
    }

    // Group names inside the file.
    static let params = "/params"
    static let buffers = "/buffers"
    static let optimizer = "/optimizer"
    static let ranks = "/ranks"
}
