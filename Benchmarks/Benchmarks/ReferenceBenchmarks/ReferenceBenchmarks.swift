// The certified reference's cost per row: the double-word fast path (with MPFR behind it) against
// MPFR alone, on softmax, log-softmax and logsumexp rows of n = 16, 1,000 and 100,000 N(0, 3²) logits.
// Figures are per row, in nanoseconds; compare the two paths within one run (the machines are
// shared and noisy).
import Benchmark
import BenchmarkRows
import Audit
import Reference

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = benchmarkConfiguration(maxDuration: .seconds(3))
    for n in benchmarkLengths {
        let data = benchmarkRows(count: benchmarkRowCount(n), length: n, seed: UInt64(n))
        for path in FastPathMode.allCases {
            for function in [AuditFunction.softmax, .logSoftmax, .logSumExp] {
                // MPFR at n = 100,000 takes a fifth of a second per row: fewer iterations.
                var configuration = Benchmark.defaultConfiguration
                if n >= 100_000 && path == .mpfr { configuration.maxIterations = 5 }
                Benchmark("reference \(function.rawValue) n=\(n) path=\(path.rawValue)", configuration: configuration) {
                    benchmark in
                    let reference = SoftmaxReference()
                    reference.fastPath = path
                    var i = 0
                    for _ in benchmark.scaledIterations {
                        let row = data[i % data.count]
                        i += 1
                        blackHole(try function.reference(reference, on: AuditCase(row, label: 0)))
                    }
                }
            }
        }
    }
}
