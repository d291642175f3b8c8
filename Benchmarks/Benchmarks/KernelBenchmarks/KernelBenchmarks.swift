// The implementations under test, for scale: every row function of every kernel, per row of n = 16,
// 1,000 and 100,000 N(0, 3²) logits (label 0 for the losses), in nanoseconds. The reference's cost per
// row is in ReferenceBenchmarks.
import Benchmark
import BenchmarkRows
import Kernels

/// The kernel's body for a function of one row, called on a row with label 0 (nil for other shapes).
func rowBody(_ kernel: Kernel, _ function: AuditFunction) -> (@Sendable ([Double]) -> Any)? {
    switch kernel.implementations[function]?.body {
    case .perLogit(let f): return { x in f(x) }
    case .scalar(let f): return { x in f(x) }
    case .labeledScalar(let f): return { x in f(x, 0) }
    case .labeledPerLogit(let f): return { x in f(x, 0) }
    default: return nil
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = benchmarkConfiguration(maxDuration: .seconds(1))
    for n in benchmarkLengths {
        let data = benchmarkRows(count: benchmarkRowCount(n), length: n, seed: UInt64(n))
        for kernel in Kernel.all {
            for function in kernel.functions {
                guard let body = rowBody(kernel, function) else { continue }
                Benchmark("kernel \(kernel.name) \(function.rawValue) n=\(n)") { benchmark in
                    var i = 0
                    for _ in benchmark.scaledIterations {
                        blackHole(body(data[i % data.count]))
                        i += 1
                    }
                }
            }
        }
    }
}
