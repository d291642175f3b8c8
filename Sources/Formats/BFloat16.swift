// bfloat16: binary32's sign and 8-bit exponent with a 7-bit fraction (an 8-bit significand), the
// upper half of a Float. Conversion from Float rounds to nearest, ties to even.

public struct BFloat16: Sendable, Hashable, CustomStringConvertible {
    public let bitPattern: UInt16

    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// x rounded to nearest-even (NaN stays a quiet NaN; overflow gives ±inf).
    public init(_ x: Float) {
        let bits = x.bitPattern
        if x.isNaN {
            bitPattern = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        } else {
            bitPattern = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
        }
    }

    public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    public var description: String { "\(float)" }
}
