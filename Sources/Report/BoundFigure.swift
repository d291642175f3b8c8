// A kernel's measured error against its bound over the row length: for each function, the largest
// error / bound among the cases of each length range (1, 2–3, 4–7, …), on a log scale, with the bound
// itself as the line at 1. Points above the line are bound violations; how far below it they stay
// shows how sharp the bound is. Pure and deterministic.
import Audit
import Kernels
import Foundation

public enum BoundFigure {
    public static func svg(_ r: AuditResult, kernel: String) -> String {
        let cells = r.cells(kernel: kernel)
        var functions: [(String, [Double])] = []
        for f in AuditFunction.allCases {
            let mine = cells.filter { $0.function == f }
            guard !mine.isEmpty else { continue }
            let merged = (0..<21).map { b in mine.map { $0.maxBoundRatioByLength[b] }.max() ?? -1 }
            functions.append((f.rawValue, merged))
        }
        return draw(
            title: "\(kernel): largest error / bound by row length (log scale; 1 = the bound)", series: functions)
    }

    /// One function of one algorithm in every format it was audited in: each (storage, accumulator)
    /// kernel's largest error / bound by row length. Nil when fewer than two formats ran.
    public static func precisionSVG(_ r: AuditResult, family: String, function: AuditFunction) -> String? {
        var series: [(String, [Double])] = []
        for k in r.kernels where k.algorithm == family && k.precision != .double {
            let mine = r.cells(kernel: k.name).filter { $0.function == function }
            guard !mine.isEmpty else { continue }
            series.append(
                (k.precision.suffix, (0..<21).map { b in mine.map { $0.maxBoundRatioByLength[b] }.max() ?? -1 }))
        }
        guard series.count > 1 else { return nil }
        return draw(
            title: "\(family) \(function.rawValue) per format: largest error / bound by row length",
            series: series)
    }

    static func draw(title: String, series functions: [(String, [Double])]) -> String {
        let lastBucket = functions.flatMap { f in f.1.indices.filter { f.1[$0] >= 0 } }.max() ?? 0
        let left = 60, top = 30, width = 420, height = 220
        let yMin = -8.0, yMax = 4.0  // log10 of error / bound
        func x(_ b: Int) -> Int { left + (lastBucket == 0 ? width / 2 : b * width / lastBucket) }
        func y(_ ratio: Double) -> Int {
            let l = ratio <= 0 ? yMin : min(yMax, max(yMin, log10(ratio)))
            return top + Int(((yMax - l) / (yMax - yMin) * Double(height)).rounded())
        }
        let colors = [
            "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
        ]
        var s =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + width + 200)\" "
            + "height=\"\(top + height + 50)\" font-family=\"sans-serif\" font-size=\"10\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"16\" font-size=\"12\">\(title)</text>\n"
        for e in stride(from: Int(yMin), through: Int(yMax), by: 2) {
            let yy = y(pow(10, Double(e)))
            s +=
                "<line x1=\"\(left)\" y1=\"\(yy)\" x2=\"\(left + width)\" y2=\"\(yy)\" "
                + "stroke=\"\(e == 0 ? "#000" : "#ddd")\"\(e == 0 ? " stroke-dasharray=\"4 3\"" : "")/>\n"
            s += "<text x=\"\(left - 4)\" y=\"\(yy + 3)\" text-anchor=\"end\">1e\(e)</text>\n"
        }
        for b in 0...lastBucket where b % 2 == 0 || lastBucket < 8 {
            s += "<text x=\"\(x(b))\" y=\"\(top + height + 14)\" text-anchor=\"middle\">\(1 << b)</text>\n"
        }
        s +=
            "<text x=\"\(left + width / 2)\" y=\"\(top + height + 30)\" text-anchor=\"middle\">row length "
            + "(from)</text>\n"
        for (i, (name, ratios)) in functions.enumerated() {
            let color = colors[i % colors.count]
            let points = ratios.indices.filter { ratios[$0] >= 0 && $0 <= lastBucket }.map {
                "\(x($0)),\(y(ratios[$0]))"
            }
            if points.count > 1 {
                s += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\"/>\n"
            }
            for p in points {
                let xy = p.split(separator: ",")
                s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            s += "<text x=\"\(left + width + 12)\" y=\"\(top + 12 + 14 * i)\" fill=\"\(color)\">\(name)</text>\n"
        }
        return s + "</svg>\n"
    }
}
