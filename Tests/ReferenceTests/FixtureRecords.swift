// The oracle fixtures' common layout: one record per line, fields separated by "|", comment lines starting
// with "#", values as whitespace-separated doubles (hexadecimal floats, inf, nan).
import Foundation

/// A record of a fixture: its 1-based line number and its trimmed fields.
struct FixtureRecord: Sendable {
    let line: Int
    let fields: [String]

    /// Field i's whitespace-separated values.
    func values(_ i: Int) -> [Double] { Self.values(fields[i]) }

    static func values(_ field: String) -> [Double] { field.split(separator: " ").map { Double(String($0))! } }

    /// The records of Fixtures/NAME.txt (none when the file is missing: each test checks its count).
    static func all(_ name: String) -> [FixtureRecord] {
        guard
            let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Fixtures"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").enumerated().compactMap { index, line in
            guard !line.hasPrefix("#") else { return nil }
            return FixtureRecord(
                line: index + 1, fields: line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) })
        }
    }
}
