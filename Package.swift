// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SoftmaxAudit",
    products: [
        .executable(name: "softmax-audit", targets: ["softmax-audit"]),
        .library(name: "Reference", targets: ["Reference"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Catalogue", targets: ["Catalogue"]),
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
        // The binary formats (binary64, binary32, binary16, bfloat16): rounding, ulps, ordinal axes.
        .target(name: "Formats"),
        // The typed catalogue: the functions the audit measures, their shapes, the cases they take and
        // the bounds that judge them. Every layer above names functions through it.
        .target(name: "Catalogue", dependencies: ["Formats"]),
        // Certified reference: exact math in, correctly rounded binary64 (or another format) out.
        .target(name: "Reference", dependencies: ["MPFR", "Formats", "Catalogue"]),
        // Implementations under test: the tutorial's code, faithful, the accurate algorithms, and the
        // same algorithms in float, float16 and bfloat16, each function keyed by the catalogue.
        .target(name: "Kernels", dependencies: ["Formats", "Catalogue"]),
        // Input classes, error measures, bounds, properties, shrinking, the engine, baselines, the gate
        // and the process protocol.
        .target(name: "Audit", dependencies: ["Formats", "Catalogue", "Reference", "Kernels"]),
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
        .testTarget(name: "CatalogueTests", dependencies: ["Catalogue", "Kernels"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Reference"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Reference"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Audit", "Kernels"]),
        .testTarget(name: "CommandLineTests", dependencies: ["softmax-audit"], exclude: ["Workers"]),
    ]
)
