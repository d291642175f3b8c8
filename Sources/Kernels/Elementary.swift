// The libm functions the kernels call, and NumPy's summation, so that the translations of the
// tutorial's NumPy code round where NumPy rounds.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum LibM {
    @inline(__always) static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
}

enum Summation {
    /// Left-to-right recursive summation, the loop most hand-written kernels use.
    static func recursive(_ x: [Double]) -> Double {
        var sum = 0.0
        for v in x { sum += v }
        return sum
    }

    /// Pairwise summation by halving: error <= γ_{⌈log2 n⌉} Σ|x_i| (Higham, Accuracy and Stability, §4.2).
    static func pairwise(_ x: ArraySlice<Double>) -> Double {
        switch x.count {
        case 0: return 0
        case 1: return x.first!
        default:
            let middle = x.startIndex + x.count / 2
            return pairwise(x[x.startIndex..<middle]) + pairwise(x[middle..<x.endIndex])
        }
    }

    /// Kahan's compensated summation: error <= (2u + O(n u²)) Σ|x_i| (Higham, §4.3).
    static func compensated(_ x: [Double]) -> Double {
        var sum = 0.0, c = 0.0
        for v in x {
            let y = v - c
            let t = sum + y
            c = (t - sum) - y
            sum = t
        }
        return sum
    }

    /// NumPy's `np.sum` for a contiguous float64 array (numpy/core/src/umath/loops_utils.h.src,
    /// pairwise_sum): below 8 elements a plain loop; up to 128, eight interleaved accumulators combined
    /// as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus a tail loop; above, split at n/2 rounded down to a
    /// multiple of 8 and recurse.
    static func numpy(_ x: [Double]) -> Double {
        x.withUnsafeBufferPointer { pairwise($0.baseAddress!, $0.count) }
    }

    private static func pairwise(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
        if n < 8 {
            var res = 0.0  // NumPy starts from -0.0 in newer versions; +0 and -0 differ only for all −0 rows
            for i in 0..<n { res += a[i] }
            return res
        } else if n <= 128 {
            var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
            var i = 8
            while i < n - (n % 8) {
                r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
                r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
                i += 8
            }
            var res = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n {
                res += a[i]
                i += 1
            }
            return res
        } else {
            var n2 = n / 2
            n2 -= n2 % 8
            return pairwise(a, n2) + pairwise(a + n2, n - n2)
        }
    }
}
