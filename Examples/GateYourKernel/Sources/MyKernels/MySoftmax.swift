// Your kernels: a stable softmax, and one with a planted instability (no shift).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum MyKernels {
    /// exp(x − max) / Σ exp(x − max).
    public static func softmax(_ x: [Double]) -> [Double] {
        let top = x.max() ?? 0
        let e = x.map { exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// exp(x) / Σ exp(x): overflows for logits above about 709.78.
    public static func unshiftedSoftmax(_ x: [Double]) -> [Double] {
        let e = x.map { exp($0) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }
}
