// The rows every benchmark runs on: N(0, 3²) logits from xorshift64 and Box–Muller, the same in
// every run and on every machine; and the suites' common configuration.
import Benchmark
import Foundation

/// Wall clock and throughput per row, in nanoseconds, after 3 warm-up iterations.
public func benchmarkConfiguration(maxDuration: Duration) -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, .throughput], timeUnits: .nanoseconds, warmupIterations: 3,
        maxDuration: maxDuration, maxIterations: 100_000)
}

public func benchmarkRows(count: Int, length: Int, seed: UInt64) -> [[Double]] {
    var state = seed | 1
    func uniform() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return (Double(state >> 11) + 0.5) * 0x1p-53
    }
    return (0..<count).map { _ in
        (0..<length).map { _ in
            3 * (-2 * Foundation.log(uniform())).squareRoot() * Foundation.cos(2 * Double.pi * uniform())
        }
    }
}

/// The row lengths benchmarked, and how many distinct rows of each (about 200,000 logits in all).
public let benchmarkLengths = [16, 1_000, 100_000]
public func benchmarkRowCount(_ n: Int) -> Int { max(4, min(1_000, 200_000 / n)) }
