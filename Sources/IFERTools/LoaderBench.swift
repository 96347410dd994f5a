import Foundation
import IFERTrain

/// `ifer bench loader`: images/s the loader delivers (read from shards, augment, normalise, with
/// background prefetch) for 32 px and 256 px shards. The shards are made first from generated
/// images in a scratch folder (or existing ones are measured).
public enum LoaderBench {
    public struct Options {
        /// Images per generated dataset.
        public var images = 128
        public var batch = 32
        /// Seconds to measure each case.
        public var seconds = 2.0
        /// Shard resolutions to generate and measure.
        public var resolutions = [32, 256]
        /// An existing shard folder to measure instead (its train split).
        public var shards: String?
        /// Scratch directory (default: a fresh folder in the temporary directory, removed afterwards).
        public var dir: String?
        public init() {}
    }

    /// One JSON line per (shard folder, augmentation).
    public static func run(_ o: Options) throws {
        let base = o.dir ?? NSTemporaryDirectory() + "ifer-bench-loader-\(getpid())"
        defer { if o.dir == nil && o.shards == nil { try? FileManager.default.removeItem(atPath: base) } }
        var folders: [String] = []
        if let shards = o.shards {
            folders = [shards]
        } else {
            for r in o.resolutions {
                let src = base + "/src\(r)", out = base + "/shards\(r)"
                try BenchImages.write(count: o.images, side: r, to: src)
                _ = try ShardCoordinator.run(ShardOptions(dataset: .folder, root: src, out: out, resolution: r, shardSizeMB: 64),
                                             comm: SingleProcess())
                folders.append(out)
            }
        }
        let augs: [(String, Augmentation)] = [("none", .none), ("flip", .inversion), ("crop+flip+erase", .classification)]
        for path in folders {
            for (name, aug) in augs {
                let loader = try Loader(path: path, split: "train", batchSize: o.batch, seed: 1, rank: 0, worldSize: 1,
                                        training: true, augmentation: aug, prefetch: 2)
                _ = try loader.next()  // warm-up: thread start, page cache
                var n = 0
                let t0 = MonotonicClock.now()
                while MonotonicClock.now() - t0 < o.seconds {
                    n += try loader.next().indices.count
                }
                let dt = MonotonicClock.now() - t0
                loader.stop()
                emitJSON(["bench": "loader", "resolution": loader.dataset.resolution, "augment": name, "batch": o.batch,
                          "prefetch": 2, "images": n, "seconds": dt, "images_per_s": Double(n) / dt,
                          "mb_per_s": Double(n * loader.dataset.imageBytes) / dt / 1e6])
            }
        }
    }
}

/// Generated benchmark sources: a smooth gradient with per-pixel noise, so PNG sizes are close
/// to photographs' (about 1 MB at 1024 px) instead of compressing to nothing. `first` / `every`
/// split the images over ranks (existing files are kept).
public enum BenchImages {
    public static func write(count: Int, side: Int, to dir: String, first: Int = 0, every: Int = 1) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = Philox(seed: 42)
        for i in stride(from: first, to: count, by: every) {
            let path = dir + String(format: "/%05d.png", i)
            if FileManager.default.fileExists(atPath: path) { continue }
            var px = [UInt8](repeating: 0, count: side * side * 3)
            for y in 0..<side {
                for x in 0..<side {
                    let o = (y * side + x) * 3
                    let n = Int(rng.next() & 15) - 8
                    px[o] = UInt8(clamping: x * 255 / side + n)
                    px[o + 1] = UInt8(clamping: y * 255 / side + n + i)
                    px[o + 2] = UInt8(clamping: (x + y) * 127 / side + n)
                }
            }
            try writeFileBytes(try encodePNG(RGBImage(width: side, height: side, pixels: px)), path: path)
        }
    }
}
