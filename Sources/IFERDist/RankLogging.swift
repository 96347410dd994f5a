import Foundation
import Logging

/// swift-log handler for data-parallel jobs: only rank 0 reports progress (info and below), every
/// rank may report warnings and errors, each line prefixed with its rank so interleaved output
/// from several ranks stays readable. Writes to stderr; stdout stays free for JSON results.
public struct RankLogHandler: LogHandler {
    public let label: String
    public let rank: Int
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init(label: String, rank: Int) {
        self.label = label
        self.rank = rank
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Whether a message of this level is printed on this rank.
    public func shouldPrint(_ level: Logger.Level) -> Bool {
        guard level >= logLevel else { return false }
        return rank == 0 || level >= .warning
    }

    public func log(event: LogEvent) {
        guard shouldPrint(event.level) else { return }
        let line = RankLogHandler.format(rank: rank, level: event.level, message: "\(event.message)",
                                         metadata: metadata.merging(event.metadata ?? [:]) { $1 })
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// "[rank 1] warning: message key=value\n"; info lines carry no level word.
    static func format(rank: Int, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var s = "[rank \(rank)] "
        if level != .info { s += "\(level): " }
        s += message
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { s += " \(k)=\(v)" }
        return s + "\n"
    }
}

private let bootstrapLock = NSLock()
private var bootstrapped = false

/// Routes every swift-log Logger of this process through `RankLogHandler` (once per process;
/// later calls do nothing, since swift-log allows a single bootstrap).
public func bootstrapRankLogging(rank: Int, level: Logger.Level = .info) {
    bootstrapLock.lock()
    defer { bootstrapLock.unlock() }
    guard !bootstrapped else { return }
    bootstrapped = true
    LoggingSystem.bootstrap { label in
        var h = RankLogHandler(label: label, rank: rank)
        h.logLevel = level
        return h
    }
}
