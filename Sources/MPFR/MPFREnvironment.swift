// MPFR's per-thread state: the exponent range and the exception flags.
import CMPFR

/// MPFR's thread-local settings that the reference depends on.
public enum MPFREnvironment {
    /// Widens the calling thread's exponent range to the largest MPFR supports
    /// ([1 - 2^62, 2^62 - 1] on 64-bit Linux), so that no intermediate result of the reference
    /// under- or overflows unless it is beyond any binary64 concern. MPFR keeps the range per
    /// thread, so every worker thread calls this before computing; it is cheap.
    public static func useWidestExponentRange() {
        _ = mpfr_set_emin(cmpfr_emin_min())
        _ = mpfr_set_emax(cmpfr_emax_max())
    }

    /// The smallest exponent of the current range: positive MPFR values are at least 2^(emin - 1).
    public static var minimumExponent: Int { Int(mpfr_get_emin()) }

    /// Clears the calling thread's underflow flag.
    public static func clearUnderflow() { mpfr_clear_underflow() }

    /// Whether an operation since the last `clearUnderflow()` underflowed on this thread.
    public static var underflowed: Bool { mpfr_underflow_p() != 0 }

    /// MPFR's version, e.g. "4.2.0".
    public static var version: String { String(cString: mpfr_get_version()) }
}
