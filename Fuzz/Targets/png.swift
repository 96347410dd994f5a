// libFuzzer target: PNG bytes -> decodePNG. Any thrown IOError is a correct answer; a crash,
// an ASan report, a leak or a timeout is a bug. Built by scripts/fuzz.sh with IFERIO's sources.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A 4-megapixel budget keeps each execution fast; the budget logic is the same at any size.
    _ = try? decodePNG(bytes, path: "fuzz.png", options: ImageDecodeOptions(maxPixels: 1 << 22))
    return 0
}
