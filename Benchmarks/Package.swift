// swift-tools-version:6.1
// The benchmarks, a package of their own so that the main package's build and tests never fetch or
// build ordo-one/benchmark. Run from this directory: `../with-mpfr swift package benchmark`.
import PackageDescription

let package = Package(
    name: "SoftmaxAuditBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "SoftmaxAudit", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The rows both suites run on, and their common configuration.
        .target(name: "BenchmarkRows", dependencies: [.product(name: "Benchmark", package: "benchmark")]),
        .executableTarget(
            name: "ReferenceBenchmarks",
            dependencies: [
                "BenchmarkRows",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Reference", package: "SoftmaxAudit"),
                .product(name: "Audit", package: "SoftmaxAudit"),
            ],
            path: "Benchmarks/ReferenceBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                "BenchmarkRows",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Kernels", package: "SoftmaxAudit"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
