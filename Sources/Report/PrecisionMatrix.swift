// The precision matrix of an audit with kernels in several formats: per algorithm and function, the
// largest ULP error (in the storage format's ulps) and the largest error / bound of each storage ×
// accumulator pair, with the figures of error / bound against row length per format. Pure.
import Audit
import Foundation
import Kernels

public enum PrecisionMatrix {
    /// The algorithms ("softmax-shifted" of "softmax-shifted@float16+float") with kernels in a format.
    static func families(_ r: AuditResult) -> [String] {
        var out: [String] = []
        for k in r.kernels where k.precision != .double && !out.contains(k.algorithm) { out.append(k.algorithm) }
        return out
    }

    /// The figure files: figures/precision-FAMILY-FUNCTION.svg.
    public static func figures(_ r: AuditResult) -> [(String, String)] {
        families(r).flatMap { family in
            AuditFunction.allCases.compactMap { f in
                BoundFigure.precisionSVG(r, family: family, function: f).map {
                    ("figures/precision-\(family)-\(f.rawValue).svg", $0)
                }
            }
        }
    }

    /// The Markdown section (empty when every kernel is binary64).
    public static func section(_ r: AuditResult) -> String {
        let families = families(r)
        guard !families.isEmpty else { return "" }
        var precisions: [KernelPrecision] = []
        for k in r.kernels where k.precision != .double && !precisions.contains(k.precision) {
            precisions.append(k.precision)
        }
        var md = "## Precision matrix\n\n"
        md +=
            "Each cell: the largest ULP error over every class (in ulps of the storage format) and, in parentheses, "
            + "the "
            + "largest error / bound, the bound being the standard algorithm's with a float accumulator and the result "
            + "stored in the format (so a narrower accumulator shows as a ratio above 1). **Bold** marks a failing "
            + "kernel "
            + "(its flaw, when declared). Storage+accumulator; one name means both.\n\n"
        md += "| algorithm | function | " + precisions.map { "`\($0.suffix)`" }.joined(separator: " | ") + " |\n"
        md += "|---|---|" + String(repeating: "---:|", count: precisions.count) + "\n"
        for family in families {
            for f in AuditFunction.allCases {
                var cells: [String] = []
                var any = false
                for p in precisions {
                    guard let k = r.kernels.first(where: { $0.algorithm == family && $0.precision == p }) else {
                        cells.append("—")
                        continue
                    }
                    let mine = r.cells(kernel: k.name).filter { $0.function == f }
                    guard !mine.isEmpty else {
                        cells.append("—")
                        continue
                    }
                    any = true
                    let ulps = mine.map(\.maxULPs).max() ?? 0
                    let ratio = mine.map(\.maxBoundRatio).max() ?? 0
                    let failing = mine.contains { !$0.failureCounts.isEmpty }
                    let text = "\(shortNumber(ulps)) (\(shortNumber(ratio)))"
                    cells.append(failing ? "**\(text)**" : text)
                }
                if any { md += "| `\(family)` | \(f.rawValue) | " + cells.joined(separator: " | ") + " |\n" }
            }
        }
        md += "\n"
        for (name, _) in figures(r) {
            md += "![\(name)](\(name))\n\n"
        }
        return md
    }
}
