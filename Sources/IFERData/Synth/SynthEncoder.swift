import IFERIO

/// The default encoder: IFERIO's libpng and TurboJPEG writers. JPEG quality 95 with 4:2:0
/// chroma, close to how the JPEG datasets were saved.
public struct IFERIOSynthEncoder: SynthImageEncoder {
    public var jpegQuality: Int

    public init(jpegQuality: Int = 95) { self.jpegQuality = jpegQuality }

    public func encode(width: Int, height: Int, rgb: [UInt8], as type: SynthFileType) throws -> [UInt8] {
        let image = try RGBImage(width: width, height: height, pixels: rgb, path: "<synth>")
        switch type {
        case .png: return try encodePNG(image)
        case .jpeg: return try encodeJPEG(image, quality: jpegQuality)
        }
    }
}
