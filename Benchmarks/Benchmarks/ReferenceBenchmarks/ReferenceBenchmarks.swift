// The certified reference's throughput: the double-word fast path (with MPFR behind it) against MPFR
// alone, on softmax, log-softmax and logsumexp rows of n = 16, 1,000 and 100,000 N(0, 3²) logits.
// Figures are per row; compare the two paths within one run (the machines are shared and noisy).
import Benchmark
import Foundation
import Reference

/// Deterministic N(0, 3²) rows (xorshift64 and Box–Muller), the same in every run.
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
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )
    for n in [16, 1_000, 100_000] {
        let data = rows(count: max(4, min(1_000, 200_000 / n)), length: n, seed: UInt64(n))
        for path in FastPathMode.allCases {
            for function in ["softmax", "log-softmax", "logsumexp"] {
                // MPFR at n = 100,000 takes a fraction of a second per row: fewer iterations.
                let configuration: Benchmark.Configuration? = n >= 100_000 && path == .mpfr
                    ? .init(maxDuration: .seconds(3), maxIterations: 5) : nil
                Benchmark("reference \(function) n=\(n) path=\(path.rawValue)", configuration: configuration ?? Benchmark.defaultConfiguration) { benchmark in
                    let reference = SoftmaxReference()
                    reference.fastPath = path
                    var i = 0
                    for _ in benchmark.scaledIterations {
                        let row = data[i % data.count]
                        i += 1
                        switch function {
                        case "softmax": blackHole(try reference.softmax(row))
                        case "log-softmax": blackHole(try reference.logSoftmax(row))
                        default: blackHole(try reference.logSumExp(row))
                        }
                    }
                }
            }
        }
    }
}
