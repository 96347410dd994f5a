"""MSE / PSNR / SSIM goldens for Sources/IFERTrain/InversionMetrics.swift, from scikit-image.

Images are drawn in [-1, 1] (our tensor range), stored as float32 [3, H, W], and compared in
[0, 1] RGB, data range 1: PSNR over the whole image, SSIM as Wang et al. 2004 with an 11x11
Gaussian window (sigma 1.5, K1 0.01, K2 0.03, population covariances) on each channel, averaged.

    .venv-golden/bin/pip install scikit-image
    (cd scripts/golden && ../../.venv-golden/bin/python image_quality.py)
writes Tests/IFERTrainTests/Fixtures/image_quality.json (replayed by InversionMetricsTests).
"""
import json
import os

import numpy as np
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "IFERTrainTests", "Fixtures", "image_quality.json")


def case(name, a, b):
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    x = (a.astype(np.float64) + 1) / 2          # [3, H, W] in [0, 1]
    y = (b.astype(np.float64) + 1) / 2
    xs, ys = x.transpose(1, 2, 0), y.transpose(1, 2, 0)
    ssim = structural_similarity(xs, ys, channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, K1=0.01, K2=0.03)
    return {"name": name, "shape": list(a.shape), "a": a.reshape(-1).tolist(), "b": b.reshape(-1).tolist(),
            "mse": float(mean_squared_error(xs, ys)), "psnr": float(peak_signal_noise_ratio(xs, ys, data_range=1.0)),
            "ssim": float(ssim)}


def main():
    rng = np.random.default_rng(11)
    cases = []
    # A smooth image and a noisy copy of it.
    h, w = 16, 16
    yy, xx = np.mgrid[0:h, 0:w] / 15.0
    smooth = np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) * 0.8 for c in range(3)])
    cases.append(case("smooth+noise", smooth, np.clip(smooth + rng.normal(0, 0.1, smooth.shape), -1, 1)))
    # Two independent uniform images (low SSIM).
    cases.append(case("independent", rng.uniform(-1, 1, (3, h, w)), rng.uniform(-1, 1, (3, h, w))))
    # A non-square image, brightened and blurred copy.
    a = rng.uniform(-1, 1, (3, 20, 24))
    b = 0.5 * a + 0.25 * np.roll(a, 1, axis=2) + 0.25 * np.roll(a, 1, axis=1) + 0.1
    cases.append(case("non-square shifted", a, b))
    with open(OUT, "w") as f:
        json.dump({"source": "skimage.metrics (scripts/golden/image_quality.py)", "cases": cases}, f)
    for c in cases:
        print(c["name"], c["mse"], c["psnr"], c["ssim"])


if __name__ == "__main__":
    main()
