// `softmax-audit check KERNEL --row "..." [--label N] [--function F]`: one row through a kernel, beside
// the reference to 40 significant digits and in hex, with the ULP error of every element.
import ArgumentParser
import Audit
import Kernels
import Reference

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Re-run one row through a kernel and compare every element with the reference.",
        discussion: """
            The row is in the `reference` syntax, with an optional 'label:' prefix; a batch is several rows \
            separated by ';'. Without --function, every function the kernel implements is checked.
            """)

    @Argument(help: "A kernel name (see `softmax-audit list`).")
    var kernel: KernelName

    @Option(
        parsing: .unconditional,
        help: "The row, e.g. \"0 -40\" or \"1: 0 -40\"; batch rows separated by ';' (it may start with '-').")
    var row: String

    @Option(help: "The 0-based label (default: the row's own 'label:' prefix, else 0).")
    var label: Int?

    @Option(help: "Only this function.")
    var function: AuditFunction?

    func run() throws {
        let k = kernel.kernel
        var rows: [[Double]] = []
        var labels: [Int] = []
        var pairs: [[Double]] = []
        var options = LossOptions()
        let paired = function.map { $0.shape.takesPair } ?? false
        // A kernel of the loss alone takes its batch line without --function.
        if (function ?? (k.functions.allSatisfy(\.takesBatchLine) ? k.functions.first : nil))?.takesBatchLine == true {
            try checkBatch(k)
            return
        }
        if function == nil && row.contains("=") {
            throw failure(2, "check: a row with options (name=value) needs --function.")
        }
        if row.contains("|") && !paired {
            throw failure(2, "check: a row with a bar and a paired vector needs --function with a paired function.")
        }
        for (i, part) in row.split(separator: ";").enumerated() {
            do {
                let parsed =
                    if let function, paired || part.contains("=") {
                        try RowSyntax.parse(part, for: function)
                    } else {
                        try RowSyntax.parse(part.last == "\r" ? part.dropLast() : part, labeled: part.contains(":"))
                    }
                rows.append(parsed.logits)
                labels.append(label ?? parsed.label ?? 0)
                if let pair = parsed.pair { pairs.append(pair) }
                options = parsed.options
            } catch {
                throw failure(2, "check: --row, row \(i + 1): \(error)")
            }
        }
        if rows.isEmpty || rows.contains(where: \.isEmpty) { throw failure(2, "check: --row is empty.") }
        if let bad = zip(rows, labels).first(where: { !(0..<$0.count).contains($1) }) {
            throw failure(2, "check: label \(bad.1) is out of range for a row of \(bad.0.count) logits.")
        }
        if rows.count > 1 && Set(rows.map(\.count)).count > 1 {
            throw failure(2, "check: batch rows must have one length.")
        }
        let c = AuditCase(rows: rows, labels: labels, pairs: paired ? pairs : nil, options: options)
        try report(k, c)
    }

    /// The loss and its gradient: the whole --row is one batch in the loss's line syntax.
    private func checkBatch(_ k: Kernel) throws {
        let c: AuditCase
        do {
            c = try RowSyntax.parseBatch(row[...])
        } catch {
            throw failure(2, "check: --row: \(error)")
        }
        try report(k, c)
    }

    /// The reference for f on c with 40 decimal digits, or without them when a result whose error bound is
    /// absolute (an output that cancels to far below its values) cannot fix that many digits.
    private func expectedValues(
        _ f: AuditFunction, _ k: Kernel, _ c: AuditCase, _ reference: SoftmaxReference
    ) throws -> (AuditCase, [ReferenceValue]) {
        do {
            return try f.expected(for: k, on: c, reference: reference)
        } catch ReferenceError.uncertified {
            reference.decimalDigits = nil
            defer { reference.decimalDigits = Self.decimalDigits }
            return try f.expected(for: k, on: c, reference: reference)
        }
    }

    /// The digits of the exact value `check` prints.
    static let decimalDigits = 40

    /// Runs the case through the kernel's functions (or --function) and prints each element's error.
    private func report(_ k: Kernel, _ c: AuditCase) throws {
        let functions = k.functions.filter { ($0 == function || function == nil) && $0.applies(to: c) }
        if functions.isEmpty {
            let implemented = k.functions.map(\.rawValue).joined(separator: ", ")
            throw failure(2, "check: \(k.name) implements \(implemented), none of which applies to this input.")
        }
        let reference = SoftmaxReference()
        reference.decimalDigits = Self.decimalDigits
        let checker = CaseChecker(reference: reference)
        print("kernel \(k.name): \(k.summary)")
        print("input  \((function.map { c.text(for: $0) } ?? c.text).replacingOccurrences(of: "\n", with: " ; "))")
        for f in functions {
            let expected: [ReferenceValue]
            let outcome: CaseOutcome
            do {
                let (cf, values) = try expectedValues(f, k, c, reference)
                expected = values
                outcome = try checker.check(k, f, cf, expected: expected)!
            } catch {
                throw failure(1, "check: the reference failed: \(error)")
            }
            print("\n\(f.rawValue)")
            for (i, (computed, exact)) in zip(outcome.output, expected).enumerated() {
                let e = ElementError(computed: computed, reference: exact)
                let digits = exact.decimal ?? exact.description
                var line =
                    "  [\(i)] kernel \(Binary64.hexString(computed))  reference \(Binary64.hexString(exact.rounded)) "
                    + "= \(digits)  ulps \(shortNumber(e.ulps))"
                if let s = e.special { line += "  (\(s.rawValue))" }
                print(line)
            }
            if outcome.failures.isEmpty {
                print(
                    "  no check failed (largest error \(shortNumber(outcome.maxULPs)) ulps, "
                        + "\(shortNumber(outcome.maxBoundRatio)) of the bound)"
                )
            }
            for failureItem in outcome.failures { print("  FAILED \(failureItem.kind): \(failureItem.detail)") }
        }
    }
}
