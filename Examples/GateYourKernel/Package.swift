// swift-tools-version:6.0
// An example: a package of your own that gates its softmax with SoftmaxAudit in a Swift Testing test.
// In your project, depend on SoftmaxAudit by URL and version instead of this relative path.
import PackageDescription

let package = Package(
    name: "GateYourKernel",
    dependencies: [.package(name: "SoftmaxAudit", path: "../..")],
    targets: [
        .target(name: "MyKernels"),
        .testTarget(
            name: "MyKernelsTests",
            dependencies: [
                "MyKernels",
                .product(name: "Audit", package: "SoftmaxAudit"),
                .product(name: "Kernels", package: "SoftmaxAudit"),
            ]
        ),
    ]
)
