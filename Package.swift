// swift-tools-version:6.0
// IFER-Swift: data-parallel training of ASIT / IFER on a float32 tensor core over OpenBLAS and Open MPI.
// Targets are layered lowest first; each imports only targets listed above it.
import Foundation
import PackageDescription

/// Swift 5 language mode: the tensor core shares mutable buffers between the autograd tape and the
/// communication thread by design; strict Sendable checking would force copies.
/// Code is generated for the building machine's CPU (`-target-cpu native`: AVX2/AVX-512 and FMA
/// for the op kernels; without it Swift emits SSE2 only). For a binary that must run on older
/// nodes of a cluster, build with IFER_TARGET_CPU=x86-64 (or any LLVM CPU name).
let targetCPU = ProcessInfo.processInfo.environment["IFER_TARGET_CPU"] ?? "native"
let fast: [SwiftSetting] = [.swiftLanguageMode(.v5), .unsafeFlags(["-target-cpu", targetCPU])]

let package = Package(
    name: "IFERSwift",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ifer", targets: ["ifer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // SHA-256 with hardware support (BoringSSL assembly) for shard and checkpoint checksums.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Native libraries: each ships shim.h with static inline getters for the macros Swift cannot import.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),

        // Tensor core: float32 tensors, ops with forward and backward side by side, autograd tape,
        // RNG, the monotonic clock and the FNV-1a hash every target uses.
        .target(name: "IFERTensor", dependencies: ["CBLAS"], swiftSettings: fast),
        // File formats: HDF5, PNG, JPEG, SHA-256 (swift-crypto), JSON lines.
        .target(name: "IFERIO", dependencies: ["CHDF5", "CPNG", "CTurboJPEG", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: fast),
        // Layers: Module protocol with explicit keys, Linear, Conv2d, LayerNorm, attention ...
        .target(name: "IFERLayers", dependencies: ["IFERTensor"], swiftSettings: fast),
        // Config reader: the one YAML reader (ConfigValue), strict typed sections with ranges, ConfigError.
        .target(name: "IFERConfig", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: fast),
        // Models: StyleGAN2 generator, ASIT encoder, discriminator, IFER head, LPIPS, IR-SE50; model configs.
        .target(name: "IFERModels", dependencies: ["IFERLayers", "IFERConfig"], swiftSettings: fast),
        // Optimisers and schedules.
        .target(name: "IFEROptim", dependencies: ["IFERTensor"], swiftSettings: fast),
        // Distributed runtime only: communicator (MPI / single process), bucketed data-parallel
        // all-reduce, replica check, watchdog, rank logging, per-sample random keys.
        .target(name: "IFERDist", dependencies: ["IFERTensor", "CMPI", .product(name: "Logging", package: "swift-log")], swiftSettings: fast),
        // Data: synthetic faces, dataset layouts, sharding under mpirun, deterministic loader.
        .target(name: "IFERData", dependencies: ["IFERTensor", "IFERIO", "IFERDist", .product(name: "Logging", package: "swift-log")], swiftSettings: fast),
        // Checkpoints: atomic, checksummed HDF5 training state; writer, reader, resume choice.
        .target(name: "IFERCheckpoint", dependencies: ["IFERTensor", "IFERIO", "IFERDist"], swiftSettings: fast),
        // Training: the one stage driver (loop, resume, checkpoints, logging), the stages (ifer,
        // asit) each in one file, run configs, evaluation and the trained-model loaders.
        .target(name: "IFERTrain", dependencies: ["IFERIO", "IFERConfig", "IFERModels", "IFEROptim", "IFERData", "IFERCheckpoint", "IFERDist", .product(name: "Logging", package: "swift-log")], swiftSettings: fast),
        // Tools: every benchmark (`ifer bench ...`: ops, step, memory, all-reduce, checkpoint,
        // loader, shard) with one median, one repetition loop and one JSON-lines emitter, and every
        // check program the test suite runs under mpirun (`ifer dev ...`: CommCheck, DDPCheck).
        .target(name: "IFERTools", dependencies: ["IFERTrain", "CHDF5"], swiftSettings: fast),
        // Command line: argument parsing; the work is in IFERTrain and IFERTools.
        .executableTarget(name: "ifer", dependencies: ["IFERTrain", "IFERTools", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: fast),

        .testTarget(name: "IFERTensorTests", dependencies: ["IFERTensor"], exclude: ["Fixtures"], swiftSettings: fast),
        .testTarget(name: "IFERIOTests", dependencies: ["IFERIO", "IFERTestSupport"], exclude: ["Fixtures"], swiftSettings: fast),
        .testTarget(name: "IFERLayersTests", dependencies: ["IFERLayers"], exclude: ["Fixtures"], swiftSettings: fast),
        .testTarget(name: "IFERModelsTests", dependencies: ["IFERModels"], exclude: ["Fixtures"], swiftSettings: fast),
        .testTarget(name: "IFEROptimTests", dependencies: ["IFEROptim"], exclude: ["Fixtures"], swiftSettings: fast),
        // Distributed tests launch real `mpirun` processes of the `ifer` executable.
        .testTarget(name: "IFERDistTests", dependencies: ["IFERDist", "ifer", "IFERTestSupport"], swiftSettings: fast),
        // Helpers shared by the test targets (launching `ifer` alone or under mpirun, temporary
        // directories, finding h5py).
        .target(name: "IFERTestSupport", dependencies: ["IFERTensor"], path: "Tests/IFERTestSupport", swiftSettings: fast),
        .testTarget(name: "IFERDataTests", dependencies: ["IFERData", "ifer", "IFERTestSupport"], exclude: ["Fixtures"], swiftSettings: fast),
        .testTarget(name: "IFERCheckpointTests", dependencies: ["IFERCheckpoint", "IFERTestSupport"], swiftSettings: fast),
        .testTarget(name: "IFERTrainTests", dependencies: ["IFERTrain", "ifer", "IFERTestSupport"], swiftSettings: fast),
        // Benchmark models and their drivers (the peer-architecture step); launches `ifer` under mpirun.
        .testTarget(name: "IFERToolsTests", dependencies: ["IFERTools", "ifer", "IFERTestSupport"], swiftSettings: fast),
    ]
)
