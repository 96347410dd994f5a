import Foundation
import IFERDist
import IFERIO
import IFERTensor

/// What `ifer shard` was asked to do.
public struct ShardOptions: Sendable {
    public var dataset: DatasetKind
    public var root: String
    public var out: String
    public var resolution: Int
    /// Splits to write; nil = every split of the layout.
    public var splits: [String]?
    public var affectNetClasses: Int = 7
    public var shardSizeMB: Double = 256
    /// Accept sources smaller than the target (up-scaled); off by default.
    public var allowUpscale: Bool = false
    /// RAF-DB: aligned faces (true), original images (false), or whichever exists (nil).
    public var rafdbAligned: Bool? = nil

    public init(dataset: DatasetKind, root: String, out: String, resolution: Int, splits: [String]? = nil,
                affectNetClasses: Int = 7, shardSizeMB: Double = 256, allowUpscale: Bool = false, rafdbAligned: Bool? = nil) {
        self.dataset = dataset; self.root = root; self.out = out; self.resolution = resolution; self.splits = splits
        self.affectNetClasses = affectNetClasses; self.shardSizeMB = shardSizeMB; self.allowUpscale = allowUpscale
        self.rafdbAligned = rafdbAligned
    }
}

/// What one rank did, and (on rank 0) the manifest that resulted.
public struct ShardSummary: Sendable {
    /// Shards this rank wrote / found complete from an earlier run.
    public var written = 0
    public var reused = 0
    /// Images this rank decoded into shards it wrote, and seconds it spent on them.
    public var images = 0
    public var seconds = 0.0
    /// Rank 0 only: the manifest written.
    public var manifest: Manifest? = nil
}

/// The sharding coordinator. Every rank calls `run` (a collective):
/// 1. rank 0 scans the layout, builds the plan (shard names and contents, independent of the
///    world size) and broadcasts it as JSON, or broadcasts the error that stopped it;
/// 2. each rank writes the shards assigned to it (shard k -> rank k mod world), skipping shards
///    that a previous run completed with the same plan (their record and SHA-256 still match);
/// 3. ranks agree (all-gather) that every rank succeeded;
/// 4. rank 0 merges the per-shard records into `manifest.json`, written atomically.
public enum ShardCoordinator {
    public static func run(_ o: ShardOptions, comm: Communicator, log: (String) -> Void = { _ in }) throws -> ShardSummary {
        // 1. Plan on rank 0.
        var envelope = ""
        var rootError: Error? = nil
        if comm.isRoot {
            do {
                let plan = try makePlan(o)
                envelope = String(decoding: try JSONEncoder().encode(PlanEnvelope(plan: plan, error: nil)), as: UTF8.self)
            } catch {
                rootError = error
                let msg = "rank 0: \(error)"
                envelope = String(decoding: (try? JSONEncoder().encode(PlanEnvelope(plan: nil, error: msg))) ?? Data(), as: UTF8.self)
            }
        }
        envelope = try comm.broadcast(envelope, root: 0)
        if let rootError { throw rootError }
        let env: PlanEnvelope
        do { env = try JSONDecoder().decode(PlanEnvelope.self, from: Data(envelope.utf8)) } catch {
            throw DataError.remote("rank \(comm.rank): cannot decode the shard plan from rank 0: \(error)")
        }
        if let e = env.error { throw DataError.remote(e) }
        guard let plan = env.plan else { throw DataError.remote("rank \(comm.rank): rank 0 sent no shard plan") }
        if comm.isRoot {
            let total = plan.shards.reduce(0) { $0 + $1.items.count }
            log("planned \(plan.shards.count) shards, \(total) images, \(plan.skipped.count) sources skipped by the scan, \(comm.worldSize) ranks")
        }

        // 2. Write this rank's shards.
        var summary = ShardSummary()
        var failure: Error? = nil
        do {
            try FileManager.default.createDirectory(atPath: o.out, withIntermediateDirectories: true)
            let writer = ShardWriter(plan: plan, root: o.root, out: o.out)
            let start = MonotonicClock.now()
            for k in plan.assigned(rank: comm.rank, worldSize: comm.worldSize) {
                let shard = plan.shards[k]
                if writer.completeRecord(shard) != nil {
                    summary.reused += 1
                    continue
                }
                let rec = try writer.write(shard)
                summary.written += 1
                summary.images += rec.count
                log("rank \(comm.rank): wrote \(shard.file) (\(rec.count) images, \(rec.skipped.count) skipped)")
            }
            summary.seconds = MonotonicClock.now() - start
        } catch {
            failure = error
        }

        // 3. Agree on success; a failed rank reports its own error, the others name it.
        let status = try comm.allGather([failure == nil ? 0 : 1])
        if let failure { throw failure }
        if let bad = status.firstIndex(where: { $0 != 0 }) {
            throw DataError.remote("rank \(bad) failed while writing shards (see its error above)")
        }

        // 4. Manifest on rank 0.
        var mfailure: Error? = nil
        if comm.isRoot {
            do { summary.manifest = try writeManifest(plan: plan, out: o.out) } catch { mfailure = error }
        }
        let mstatus = try comm.allGather([mfailure == nil ? 0 : 1])
        if let mfailure { throw mfailure }
        if mstatus[0] != 0 { throw DataError.remote("rank 0 failed to write \(o.out)/manifest.json") }
        return summary
    }

    struct PlanEnvelope: Codable {
        var plan: ShardPlan?
        var error: String?
    }

    /// Rank 0: scan and plan, with the argument checks.
    public static func makePlan(_ o: ShardOptions) throws -> ShardPlan {
        guard (8...4096).contains(o.resolution) else { throw DataError.badArgument("--resolution \(o.resolution) is not in 8...4096") }
        guard o.shardSizeMB > 0 else { throw DataError.badArgument("--shard-size-mb must be positive, got \(o.shardSizeMB)") }
        let all = o.dataset.splits
        let splits = o.splits ?? all
        for s in splits where !all.contains(s) {
            throw DataError.badArgument("--split \(s) is not a split of \(o.dataset.rawValue) (splits: \(all.joined(separator: ", ")))")
        }
        let scan = try scanDataset(o.dataset, root: o.root,
                                   options: ScanOptions(affectNetClasses: o.affectNetClasses, rafdbAligned: o.rafdbAligned))
        let used = scan.items.filter { splits.contains($0.split) }
        guard !used.isEmpty else {
            throw DataError.emptyDataset("no usable \(o.dataset.rawValue) images under \(o.root) for split(s) \(splits.joined(separator: ", "))"
                                         + (scan.skipped.isEmpty ? "" : " (\(scan.skipped.count) sources skipped, first: \(scan.skipped[0].source): \(scan.skipped[0].reason))"))
        }
        return ShardPlan(dataset: o.dataset, scan: ScanResult(items: used, skipped: scan.skipped), resolution: o.resolution,
                         classNames: o.dataset.classNames(affectNetClasses: o.affectNetClasses), splits: splits,
                         imagesPerShard: ShardPlan.imagesPerShard(shardSizeMB: o.shardSizeMB, resolution: o.resolution),
                         allowUpscale: o.allowUpscale)
    }

    /// Rank 0: merge the records of every planned shard into the manifest.
    static func writeManifest(plan: ShardPlan, out: String) throws -> Manifest {
        var entries: [ShardEntry] = []
        var skipped = plan.skipped
        var classCounts: [String: [Int]] = [:]
        var counts: [String: Int] = [:]
        for s in plan.splits {
            classCounts[s] = [Int](repeating: 0, count: plan.classNames.count)
            counts[s] = 0
        }
        for shard in plan.shards {
            guard let rec = ShardRecord.load(out: out, file: shard.file), rec.planHash == shard.planHash else {
                throw DataError.badShard(path: ShardRecord.path(out: out, file: shard.file), detail: "record of \(shard.file) is missing or stale after every rank finished")
            }
            skipped += rec.skipped
            counts[shard.split, default: 0] += rec.count
            if rec.classCounts.count == plan.classNames.count {
                for (i, c) in rec.classCounts.enumerated() { classCounts[shard.split]![i] += c }
            }
            if rec.count > 0 { entries.append(ShardEntry(file: rec.file, split: rec.split, count: rec.count, sha256: rec.sha256)) }
        }
        let total = counts.values.reduce(0, +)
        guard total > 0 else {
            throw DataError.emptyDataset("every source was skipped; nothing to write (first: \(skipped.first.map { "\($0.source): \($0.reason)" } ?? "none"))")
        }
        let m = Manifest(dataset: plan.dataset, resolution: plan.resolution, classNames: plan.classNames,
                         classCounts: classCounts, counts: counts, shards: entries, skipped: skipped)
        try m.write(to: out + "/manifest.json")
        return m
    }
}
