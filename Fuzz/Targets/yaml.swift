// libFuzzer target: YAML text -> ConfigValue.parse (YAMLLimits' event walk, then Yams) in Sources/IFERConfig.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let tree = try? ConfigValue.parse(text, source: "fuzz.yaml") {
        // The resolved-config writer must handle whatever the reader accepted.
        _ = tree.yaml()
    }
    return 0
}
