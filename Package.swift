// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SoftmaxAudit",
    products: [
        .executable(name: "softmax-audit", targets: ["softmax-audit"]),
        .library(name: "Reference", targets: ["Reference"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "Audit", targets: ["Audit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The one C boundary: MPFR through pkg-config; only the MPFR target imports it.
        .systemLibrary(
            name: "CMPFR",
            pkgConfig: "mpfr",
            providers: [.apt(["libmpfr-dev"])]
        ),
        // A safe Swift value over mpfr_t.
        .target(name: "MPFR", dependencies: ["CMPFR"]),
        // Certified reference: exact math in, correctly rounded binary64 out.
        .target(name: "Reference", dependencies: ["MPFR"]),
        // Implementations under test: the tutorial's code, faithful, and the accurate algorithms.
        .target(name: "Kernels"),
        // Error measures (and, later, input classes, properties and the engine).
        .target(name: "Audit", dependencies: ["Reference", "Kernels"]),
        // Report writers: pure functions from results to Markdown and JSON.
        .target(name: "Report", dependencies: ["Audit", "Kernels"]),
        .executableTarget(
            name: "softmax-audit",
            dependencies: [
                "Reference", "Kernels", "Audit", "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MPFRTests", dependencies: ["MPFR"]),
        .testTarget(
            name: "ReferenceTests", dependencies: ["Reference", "MPFR"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Reference"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Reference"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Audit", "Kernels"]),
        .testTarget(name: "CommandLineTests", dependencies: ["softmax-audit"], exclude: ["Workers"]),
    ]
)
