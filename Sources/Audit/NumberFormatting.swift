// Deterministic number formatting for reports (no locale, the same bytes everywhere).
import Foundation

/// Three significant digits in fixed notation ("0.373", "15.6", "1230").
func format3(_ x: Double) -> String {
    let m = x.magnitude
    let decimals = m >= 100 ? 0 : (m >= 10 ? 1 : (m >= 1 ? 2 : Int((-log10(m)).rounded(.down)) + 3))
    return String(format: "%.\(decimals)f", x)
}

/// Scientific notation with three significant digits ("4.60e+18").
func scientific(_ x: Double) -> String { String(format: "%.2e", x) }
