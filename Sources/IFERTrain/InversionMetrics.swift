import Foundation
import IFERIO

/// Image-quality metrics of a reconstruction against its source, by their standard definitions.
///
/// Colour space and range: RGB in [0, 1] (our tensors are in [-1, 1]; v ↦ (v + 1) / 2, no
/// clamping, no rounding to 8 bits), data range 1.
///   MSE   mean over every pixel and channel of (a − b)².
///   PSNR  10·log10(1 / MSE) of the whole image (∞ for identical images is capped at 100 dB).
///   SSIM  Wang et al. 2004 with an 11x11 Gaussian window (σ = 1.5, normalised), K1 = 0.01,
///         K2 = 0.03, population (not sample) covariances, computed on each RGB channel over the
///         "valid" window positions (the image less 5 pixels at each border) and averaged over
///         positions and channels: skimage's
///         `structural_similarity(a, b, channel_axis=-1, data_range=1, gaussian_weights=True,
///         sigma=1.5, use_sample_covariance=False)` (its reflect padding is cropped away).
/// Per-image values are averaged over the images of a split (mean PSNR of images, not PSNR of
/// the mean MSE). scripts/golden/image_quality.py computes the same with skimage; the
/// fixtures are in Tests/IFERTrainTests/Fixtures/image_quality.json.
public struct ImageQuality: Equatable {
    public var mse: Double
    public var psnr: Double
    public var ssim: Double

    public static let maxPSNR = 100.0
    public static let ssimWindow = 11, ssimSigma = 1.5, k1 = 0.01, k2 = 0.03

    /// Quality of image `ia` of `a` against image `ib` of `b` (both [N, 3, S, S] in [-1, 1]).
    public static func of(_ a: Tensor, _ ia: Int, _ b: Tensor, _ ib: Int) throws -> ImageQuality {
        guard a.rank == 4, b.rank == 4, a.dim(1) == 3, Array(a.shape.dropFirst()) == Array(b.shape.dropFirst()),
              ia >= 0, ia < a.dim(0), ib >= 0, ib < b.dim(0) else {
            throw TensorError.shapeMismatch(op: "ImageQuality", shapes: [a.shape, b.shape],
                                            detail: "expected two image batches [N, 3, H, W] of the same size")
        }
        let h = a.dim(2), w = a.dim(3), plane = h * w
        guard h >= ssimWindow, w >= ssimWindow else {
            throw TensorError.badArgument(op: "ImageQuality", detail: "SSIM needs images of at least \(ssimWindow)x\(ssimWindow), got \(w)x\(h)")
        }
        let pa = a.ptr + ia * 3 * plane, pb = b.ptr + ib * 3 * plane
        var x = [Double](repeating: 0, count: plane), y = x
        var se = 0.0, ssimSum = 0.0
        for c in 0..<3 {
            for i in 0..<plane {
                x[i] = (Double(pa[c * plane + i]) + 1) / 2
                y[i] = (Double(pb[c * plane + i]) + 1) / 2
                se += (x[i] - y[i]) * (x[i] - y[i])
            }
            ssimSum += ssimChannel(x, y, height: h, width: w)
        }
        let mse = se / Double(3 * plane)
        let psnr = mse > 0 ? min(10 * log10(1 / mse), maxPSNR) : maxPSNR
        return ImageQuality(mse: mse, psnr: psnr, ssim: ssimSum / 3)
    }

    /// The normalised 1-D Gaussian of the SSIM window (the 2-D window is its outer product).
    static let gaussian: [Double] = {
        let r = ImageQuality.ssimWindow / 2, sigma = ImageQuality.ssimSigma
        let g = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }()

    /// Mean SSIM of one channel pair x, y [H·W] in [0, 1] over the valid window positions.
    static func ssimChannel(_ x: [Double], _ y: [Double], height h: Int, width w: Int) -> Double {
        let k = ssimWindow, g = gaussian
        let oh = h - k + 1, ow = w - k + 1
        // Five maps filtered by the separable window: rows first ([H, OW]), then columns ([OH, OW]).
        let maps: [[Double]] = [x, y, zip(x, x).map(*), zip(y, y).map(*), zip(x, y).map(*)]
        var filtered: [[Double]] = []
        for m in maps {
            var rows = [Double](repeating: 0, count: h * ow)
            for i in 0..<h { for j in 0..<ow {
                var s = 0.0
                for t in 0..<k { s += g[t] * m[i * w + j + t] }
                rows[i * ow + j] = s
            } }
            var out = [Double](repeating: 0, count: oh * ow)
            for i in 0..<oh { for j in 0..<ow {
                var s = 0.0
                for t in 0..<k { s += g[t] * rows[(i + t) * ow + j] }
                out[i * ow + j] = s
            } }
            filtered.append(out)
        }
        let c1 = k1 * k1, c2 = k2 * k2
        var total = 0.0
        for p in 0..<(oh * ow) {
            let mx = filtered[0][p], my = filtered[1][p]
            let vx = filtered[2][p] - mx * mx, vy = filtered[3][p] - my * my, cxy = filtered[4][p] - mx * my
            total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        }
        return total / Double(oh * ow)
    }
}

/// Sums of per-image metrics over a split (and over ranks by one all-reduce), then means.
public struct QualitySums {
    public var mse = 0.0, psnr = 0.0, ssim = 0.0, lpips = 0.0, images = 0.0

    public init() {}

    public mutating func add(_ q: ImageQuality) {
        mse += q.mse; psnr += q.psnr; ssim += q.ssim; images += 1
    }

    public var values: [Double] { [mse, psnr, ssim, lpips, images] }

    public init(values v: [Double]) {
        (mse, psnr, ssim, lpips, images) = (v[0], v[1], v[2], v[3], v[4])
    }

    /// Means per image ("mse", "psnr", "ssim", and "lpips" when `withLPIPS`) under `prefix`/`suffix`.
    public func means(suffix: String = "", withLPIPS: Bool) -> [String: Double] {
        let n = max(images, 1)
        var r = ["mse" + suffix: mse / n, "psnr" + suffix: psnr / n, "ssim" + suffix: ssim / n]
        if withLPIPS { r["lpips" + suffix] = lpips / n }
        return r
    }
}

/// What `evaluateInversion` measures: the trained inverter and two baselines computed the same
/// way on the same images, and the first sources with their three reconstructions for a grid.
public struct InversionEvaluation {
    public var trained: QualitySums
    public var untrained: QualitySums
    public var meanFace: QualitySums
    /// Wall seconds of the trained inverter's forward passes, summed over ranks.
    public var inversionSeconds: Double
    /// Rows: sources, reconstructions, untrained reconstructions, the mean face (this rank's first images).
    public var grid: [[RGBImage]]

    /// One flat record: mse, psnr, ssim (lpips), their _untrained and _mean_face twins,
    /// seconds_per_image (per process: summed forward seconds / images), images.
    public func record(withLPIPS: Bool) -> [String: Double] {
        var r = trained.means(withLPIPS: withLPIPS)
        r.merge(untrained.means(suffix: "_untrained", withLPIPS: withLPIPS)) { a, _ in a }
        r.merge(meanFace.means(suffix: "_mean_face", withLPIPS: withLPIPS)) { a, _ in a }
        r["seconds_per_image"] = inversionSeconds / max(trained.images, 1)
        r["images"] = trained.images
        return r
    }
}

/// The mean face G(latent_avg): latent_avg in every W+ slot, the generator's constant input
/// and stored noise maps. -> [1, 3, S, S]
public func meanFace(_ asit: ASIT) throws -> Tensor {
    let g = asit.decoder.config
    return try Autograd.noGrad {
        let w = try add(Tensor(zeros: [1, g.nLatent, g.styleDim]), try reshape(asit.latentAvg, [1, 1, g.styleDim]))
        return try asit.decoder(w).image
    }
}

/// MSE / PSNR / SSIM (and LPIPS when given) of `trained` on every image of the loader's split,
/// beside the untrained inverter (same generator and latent_avg, the config's random encoder)
/// and the mean face; every rank evaluates its share, sums are all-reduced (padding rows of the
/// last batch are left out). `gridImages`: how many of this rank's first images go to the grid.
public func evaluateInversion(trained: ASIT, untrained: ASIT, lpips: LPIPS?, loader: Loader, comm: Communicator,
                              gridImages: Int = 8) throws -> InversionEvaluation {
    var result = InversionEvaluation(trained: QualitySums(), untrained: QualitySums(), meanFace: QualitySums(),
                                     inversionSeconds: 0, grid: [[], [], [], []])
    let face = try meanFace(trained)
    let faceImage = rgbImage(face)
    var none: [Philox] = []
    try loader.forEachBatchOfEpoch { b in
        let rows = b.mask.indices.filter { b.mask[$0] }
        guard !rows.isEmpty else { return }
        let x = rows.count == b.mask.count ? b.images : try indexSelect(b.images, axis: 0, indices: rows)
        let start = Date()
        let y = try Autograd.noGrad { try trained(x, rngs: &none).image }
        result.inversionSeconds += Date().timeIntervalSince(start)
        let y0 = try Autograd.noGrad { try untrained(x, rngs: &none).image }
        for i in 0..<rows.count {
            result.trained.add(try ImageQuality.of(y, i, x, i))
            result.untrained.add(try ImageQuality.of(y0, i, x, i))
            result.meanFace.add(try ImageQuality.of(face, 0, x, i))
            if result.grid[0].count < gridImages {
                result.grid[0].append(rgbImage(x, index: i))
                result.grid[1].append(rgbImage(y, index: i))
                result.grid[2].append(rgbImage(y0, index: i))
                result.grid[3].append(faceImage)
            }
        }
        if let lpips {
            // LPIPS returns the batch mean: times the batch size gives the sum over images.
            let k = Double(rows.count)
            result.trained.lpips += Double(try Autograd.noGrad { try lpips(y, x) }.item) * k
            result.untrained.lpips += Double(try Autograd.noGrad { try lpips(y0, x) }.item) * k
            let faces = try Autograd.noGrad { try add(Tensor(zeros: x.shape), face) }
            result.meanFace.lpips += Double(try Autograd.noGrad { try lpips(faces, x) }.item) * k
        }
    }
    var all = result.trained.values + result.untrained.values + result.meanFace.values + [result.inversionSeconds]
    try all.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: $0.count) }
    result.trained = QualitySums(values: Array(all[0..<5]))
    result.untrained = QualitySums(values: Array(all[5..<10]))
    result.meanFace = QualitySums(values: Array(all[10..<15]))
    result.inversionSeconds = all[15]
    return result
}
