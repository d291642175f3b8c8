// Seeded randomness for the audit. Every case draws from its own generator, seeded from the run's seed,
// the class and the case index, so a case is the same whatever the thread count or the order of work.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: small, fast, and the same bytes on every platform.
public struct AuditRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The generator of one case: a hash of (seed, class, index).
    public init(seed: UInt64, stream: String, index: Int) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        state = seed ^ h
        state = next() ^ UInt64(truncatingIfNeeded: index)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }

    /// An integer in range, without modulo bias worth mentioning at these sizes.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A standard normal deviate (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(unit(), 0x1p-60)
        return sqrt(-2 * log(u)) * cos(2 * Double.pi * unit())
    }

    /// A length spread log-uniformly over 1...maximum.
    public mutating func logUniformLength(_ maximum: Int) -> Int {
        let l = exp(unit() * log(Double(maximum) + 1))
        return min(maximum, max(1, Int(l)))
    }

    /// A finite double drawn uniformly over bit patterns (Herbie's sampling).
    public mutating func bitPatternDouble() -> Double {
        while true {
            let x = Double(bitPattern: next())
            if x.isFinite { return x }
        }
    }
}
