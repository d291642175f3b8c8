// The implementations under test, for scale: each kernel's softmax (or logsumexp) per row of n = 16,
// 1,000 and 100,000 N(0, 3²) logits. The reference's cost per row is in ReferenceBenchmarks.
import Benchmark
import Foundation
import Kernels

func rows(count: Int, length: Int, seed: UInt64) -> [[Double]] {
    var state = seed | 1
    func uniform() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return (Double(state >> 11) + 0.5) * 0x1p-53
    }
    return (0..<count).map { _ in
        (0..<length).map { _ in 3 * (-2 * Foundation.log(uniform())).squareRoot() * Foundation.cos(2 * Double.pi * uniform()) }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(1),
        maxIterations: 100_000
    )
    for n in [16, 1_000, 100_000] {
        let data = rows(count: max(4, min(1_000, 200_000 / n)), length: n, seed: UInt64(n))
        for kernel in Kernel.all {
            if let softmax = kernel.softmax {
                Benchmark("kernel \(kernel.name) softmax n=\(n)") { benchmark in
                    var i = 0
                    for _ in benchmark.scaledIterations {
                        blackHole(softmax(data[i % data.count]))
                        i += 1
                    }
                }
            } else if let logSumExp = kernel.logSumExp {
                Benchmark("kernel \(kernel.name) logsumexp n=\(n)") { benchmark in
                    var i = 0
                    for _ in benchmark.scaledIterations {
                        blackHole(logSumExp(data[i % data.count]))
                        i += 1
                    }
                }
            }
        }
    }
}
