// The two tiers of an external or native audit's verdict, per function: within the best-known algorithm's
// bound, within the textbook algorithm's, or beyond both (a flaw to file upstream).
import Audit
import Kernels
import Reference

enum TierSection {
    static func markdown(_ r: AuditResult) -> String {
        var md = ""
        for k in r.kernels {
            let tiers = r.tiers(kernel: k)
            guard !tiers.isEmpty else { continue }
            var table = MarkdownTable([
                ("function", .left), ("tier", .left), ("max error / best-known bound", .right),
                ("max error / textbook bound", .right), ("textbook algorithm", .left), ("beyond it", .left),
            ])
            for t in tiers {
                let textbook = TextbookAlgorithm.of(t.function)
                let beyond = t.beyond.keys.sorted().map { kind -> String in
                    let row = r.shrunk.first { $0.kernel == k.name && $0.function == t.function && $0.kind == kind }
                    let minimal =
                        row.map { " (`\(AuditMarkdown.escape($0.minimal.displayText(for: t.function)))`)" } ?? ""
                    return "\(kind): \(t.beyond[kind]!) cases\(minimal)"
                }
                table.add([
                    t.function.rawValue, t.tier == .beyond ? "**BEYOND**" : t.tier.rawValue,
                    AuditMarkdown.num(t.maxBoundRatio), AuditMarkdown.num(t.maxTextbookRatio),
                    textbook.map { AuditMarkdown.escape("\($0.algorithm) (\($0.allowance))") } ?? "the best-known one",
                    beyond.isEmpty ? "—" : beyond.joined(separator: "; "),
                ])
            }
            md +=
                "## `\(k.name)` in two tiers\n\n"
                + "**best-known**: within the best-known algorithm's bound, no special value or property failing. "
                + "**textbook**: within the bound of the algorithm most code uses (the best-known bound plus the "
                + "absolute error that algorithm adds), or failing only a property. **BEYOND**: worse than any "
                + "declared algorithm (beyond the textbook bound, or NaN or inf where the result is finite): a flaw "
                + "to file upstream, with its shrunk row. In float, float16 and bfloat16 the textbook algorithm "
                + "sums in float but may store three intermediate results in the format (3 u of the format times "
                + "the terms' magnitude), and the binary family every operation; a sum in the narrow format itself "
                + "is beyond. The bounds are derived in docs/bounds.md.\n\n"
                + table.text + "\n"
        }
        return md
    }
}
