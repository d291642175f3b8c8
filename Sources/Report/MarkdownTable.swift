// A Markdown table built from rows: the header, the alignment of each column, then one row per line.

struct MarkdownTable {
    enum Alignment { case left, right }

    private let header: [String]
    private let alignments: [Alignment]
    private var rows: [[String]] = []

    /// Columns as (title, alignment).
    init(_ columns: [(String, Alignment)]) {
        header = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    /// Left-aligned columns.
    init(_ titles: [String]) { self.init(titles.map { ($0, .left) }) }

    mutating func add(_ cells: [String]) {
        precondition(cells.count == header.count, "a row of \(cells.count) cells in a table of \(header.count) columns")
        rows.append(cells)
    }

    var isEmpty: Bool { rows.isEmpty }

    /// The table, each line ending in a newline.
    var text: String {
        var lines = [Self.line(header)]
        lines.append("|" + alignments.map { $0 == .right ? "---:|" : "---|" }.joined())
        lines += rows.map(Self.line)
        return lines.map { $0 + "\n" }.joined()
    }

    private static func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
}
