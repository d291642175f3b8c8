// What the reference returns for one output element: the correctly rounded binary64 value and
// where the exact value lies relative to it, in units in the last place.
import Foundation

/// The reference result for one output element.
///
/// `rounded` is what round-to-nearest-even gives for the exact real result (gradual underflow to
/// subnormals, overflow to ±inf, the sign of zero kept). `ulpOffset` keeps the unrounded value: it
/// is Φ(exact) − Φ(anchor), where Φ is the binary64 ordinal axis (consecutive doubles are 1 apart,
/// linear within each binade, Φ(±0) = 0) and the anchor is `rounded`, or ±greatestFiniteMagnitude
/// when the exact value overflows binary64. So |ulpOffset| <= 0.5 unless the value overflowed, and
/// a computed double c is |Φ(c) − Φ(exact)| ulps away from the exact value (see `ulpError`).
public struct ReferenceValue: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A real number (which may still round to ±inf by overflow).
        case real
        /// An exact infinity, the limit the convention defines (log-softmax of a −inf logit).
        case infinity
        /// No value: NaN by the convention (a NaN logit, an undefined limit).
        case undefined
    }

    public let kind: Kind
    public let rounded: Double
    public let ulpOffset: Double
    /// The unrounded value in decimal, when the reference was asked for digits (`decimalDigits`).
    /// Held in a side table so that ReferenceValue stays a plain value (no reference counting in the
    /// arrays the reference fills).
    public internal(set) var decimal: String? {
        get { decimalIndex == 0 ? nil : DecimalTable.shared.string(decimalIndex) }
        set { decimalIndex = newValue.map { DecimalTable.shared.add($0) } ?? 0 }
    }
    private var decimalIndex: UInt32 = 0
    /// The format `rounded` belongs to (an index into BinaryFormat.all; 0 is double).
    private var formatIndex: UInt8 = 0

    /// The format the value was rounded to; ULP errors are counted in its ulps.
    public var format: BinaryFormat { BinaryFormat.all[Int(formatIndex)] }

    /// The same value, marked as rounded to `format` (which the caller guarantees).
    public func tagged(_ format: BinaryFormat) -> ReferenceValue {
        var v = self
        v.formatIndex = UInt8(format.index)
        return v
    }

    public init(rounded: Double, ulpOffset: Double) {
        self.kind = .real
        self.rounded = rounded
        self.ulpOffset = ulpOffset
    }

    /// An exact value that binary64 represents: rounded is the value itself.
    public static func exactly(_ value: Double) -> ReferenceValue {
        if value.isNaN { return .undefined }
        if value.isInfinite { return .infinity(negative: value < 0) }
        return ReferenceValue(rounded: value, ulpOffset: 0)
    }

    public static func infinity(negative: Bool) -> ReferenceValue {
        ReferenceValue(kind: .infinity, rounded: negative ? -.infinity : .infinity, ulpOffset: 0)
    }

    public static let undefined = ReferenceValue(kind: .undefined, rounded: .nan, ulpOffset: 0)

    private init(kind: Kind, rounded: Double, ulpOffset: Double) {
        self.kind = kind
        self.rounded = rounded
        self.ulpOffset = ulpOffset
    }

    /// The anchor of `ulpOffset`: `rounded`, or ± the format's largest finite value when a real value
    /// overflowed.
    public var anchor: Double {
        if kind == .real && rounded.isInfinite {
            let max = format.greatestFiniteMagnitude
            return rounded < 0 ? -max : max
        }
        return rounded
    }

    /// Whether the exact value is a binary64 number (no rounding happened).
    public var isExact: Bool { kind != .real || (ulpOffset == 0 && rounded.isFinite) }

    /// Fractional ULP error of `computed` against the exact value: |Φ(computed) − Φ(exact)|.
    /// Across a binade boundary this counts the ulps of each binade traversed (as LLVM libc's
    /// MPFRWrapper does), and across zero it counts the doubles in between. NaN when either side is
    /// NaN; +inf when `computed` is infinite and the exact value is not (or the reverse).
    public func ulpError(_ computed: Double) -> Double {
        if computed.isNaN || kind == .undefined { return computed.isNaN && kind == .undefined ? 0 : .nan }
        if kind == .infinity {
            return computed == rounded ? 0 : .infinity
        }
        if computed.isInfinite {
            // An overflowed exact value that rounds to the same infinity is correctly rounded.
            return computed == rounded ? 0 : .infinity
        }
        let f = format
        guard f.represents(computed) else {
            // A value between this format's values: its distance in the format's ulps, on the axis
            // extended linearly within the binade.
            let spacing = f.ulp(anchor)
            return abs((computed - anchor) / spacing - ulpOffset)
        }
        let steps = f.ordinal(computed) &- f.ordinal(anchor)
        return abs(Double(steps) - ulpOffset)
    }

    public var description: String {
        switch kind {
        case .undefined: return "nan"
        case .infinity: return rounded < 0 ? "-inf" : "inf"
        case .real: return "\(Binary64.hexString(rounded)) (\(ulpOffset.sign == .plus ? "+" : "")\(ulpOffset) ulp)"
        }
    }
}

/// The decimal expansions that `check` asks for, by index (append-only; only `decimalDigits` fills it).
final class DecimalTable: @unchecked Sendable {
    static let shared = DecimalTable()
    private let lock = NSLock()
    private var strings: [String] = [""]

    func add(_ s: String) -> UInt32 {
        lock.lock()
        defer { lock.unlock() }
        strings.append(s)
        return UInt32(strings.count - 1)
    }

    func string(_ i: UInt32) -> String {
        lock.lock()
        defer { lock.unlock() }
        return strings[Int(i)]
    }
}
