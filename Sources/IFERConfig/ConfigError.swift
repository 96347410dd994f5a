/// A config mistake: names the key path ("model.generator.size", "train.steps") or the file, and
/// what is wrong. The one error type of the config reader, for run and model configs alike.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// Dotted key path ("" when the problem is the file as a whole).
    public let path: String
    public let message: String

    public init(path: String, _ message: String) { self.path = path; self.message = message }

    public var description: String { path.isEmpty ? "config: \(message)" : "config key '\(path)': \(message)" }

    /// The file is not readable or not valid YAML.
    public static func syntax(file: String, detail: String) -> ConfigError { ConfigError(path: "", "\(file): \(detail)") }
    /// A key no section reads (a typo), with the keys that are allowed there.
    public static func unknownKey(path: String, allowed: [String]) -> ConfigError {
        ConfigError(path: path, "unknown key; allowed keys here: \(allowed.joined(separator: ", "))")
    }
    public static func badType(path: String, expected: String, found: String) -> ConfigError {
        ConfigError(path: path, "must be \(expected), found '\(found)'")
    }
    /// A value of the right type outside its range, or inconsistent with another value.
    public static func badValue(path: String, detail: String) -> ConfigError { ConfigError(path: path, detail) }
    public static func badOverride(_ s: String) -> ConfigError { ConfigError(path: "", "bad --set '\(s)': expected key.path=value") }
}
