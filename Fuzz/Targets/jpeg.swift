// libFuzzer target: JPEG bytes -> decodeJPEG (TurboJPEG, CMYK conversion, Adobe marker scan).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? decodeJPEG(bytes, path: "fuzz.jpg", options: ImageDecodeOptions(maxPixels: 1 << 22))
    return 0
}
