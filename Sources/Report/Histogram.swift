// A kernel's ULP histogram per input class as an SVG heat map: one row per class, one column per ULP
// bin, the cell's shade by the share of the class's elements in that bin. Pure and deterministic.
import Audit
import Kernels

public enum Histogram {
    public static func svg(_ r: AuditResult, kernel: String) -> String {
        let cells = r.cells(kernel: kernel)
        var rows: [(String, [Int])] = []
        for cell in cells {
            let label = cell.function.rawValue + " · " + cell.inputClass
            rows.append((label, cell.histogram))
        }
        let bins = ULPBins.count
        let cw = 16, ch = 12, left = 290, top = 40
        let width = left + bins * cw + 20
        let height = top + rows.count * ch + 50
        var s =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "font-family=\"sans-serif\" font-size=\"10\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s +=
            "<text x=\"\(left)\" y=\"16\" font-size=\"12\">\(kernel): share of elements by ULP error (columns) per "
            + "function and class (rows)</text>\n"
        for (i, (label, counts)) in rows.enumerated() {
            let y = top + i * ch
            s += "<text x=\"\(left - 4)\" y=\"\(y + ch - 3)\" text-anchor=\"end\">\(label)</text>\n"
            let total = max(1, counts.reduce(0, +))
            for (b, count) in counts.enumerated() where count > 0 {
                let share = Double(count) / Double(total)
                // Shade by share, on a square-root scale so that rare bins stay visible.
                let level = Int((255 * (1 - share.squareRoot() * 0.85)).rounded())
                let color =
                    b == 0
                    ? "rgb(\(level),\(min(255, level + 40)),\(level))"
                    : "rgb(\(min(255, level + 40)),\(level),\(level))"
                s +=
                    "<rect x=\"\(left + b * cw)\" y=\"\(y)\" width=\"\(cw - 1)\" height=\"\(ch - 1)\" "
                    + "fill=\"\(color)\"><title>\(label): \(count) elements \(ULPBins.label(b)) "
                    + "ulp</title></rect>\n"
            }
        }
        let axisY = top + rows.count * ch + 12
        for b in stride(from: 0, to: bins, by: 4) {
            s +=
                "<text x=\"\(left + b * cw + cw / 2)\" y=\"\(axisY)\" "
                + "text-anchor=\"middle\">\(ULPBins.label(b))</text>\n"
        }
        s +=
            "<text x=\"\(left)\" y=\"\(axisY + 16)\">green: correctly rounded (≤ 0.5 ulp); red: larger errors, bins "
            + "doubling to the right</text>\n"
        return s + "</svg>\n"
    }
}
