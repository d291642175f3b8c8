// The implementations under test, for scale: every function of every kernel, per row of n = 16, 1,000
// and 100,000 N(0, 3²) logits (label 0 for the losses), in nanoseconds. The reference's cost per row
// is in ReferenceBenchmarks.
import Benchmark
import BenchmarkRows
import Kernels

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = benchmarkConfiguration(maxDuration: .seconds(1))
    for n in benchmarkLengths {
        let data = benchmarkRows(count: benchmarkRowCount(n), length: n, seed: UInt64(n))
        for kernel in Kernel.all {
            let functions: [(String, @Sendable ([Double]) -> Any)] = [
                kernel.softmax.map { f in ("softmax", { @Sendable x in f(x) }) },
                kernel.logSoftmax.map { f in ("log-softmax", { @Sendable x in f(x) }) },
                kernel.logSumExp.map { f in ("logsumexp", { @Sendable x in f(x) }) },
                kernel.crossEntropy.map { f in ("cross-entropy", { @Sendable x in f(x, 0) }) },
                kernel.crossEntropyGradient.map { f in ("cross-entropy-gradient", { @Sendable x in f(x, 0) }) },
            ].compactMap { $0 }
            for (name, function) in functions {
                Benchmark("kernel \(kernel.name) \(name) n=\(n)") { benchmark in
                    var i = 0
                    for _ in benchmark.scaledIterations {
                        blackHole(function(data[i % data.count]))
                        i += 1
                    }
                }
            }
        }
    }
}
