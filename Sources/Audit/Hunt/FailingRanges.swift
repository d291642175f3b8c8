// Failing ranges (after Eiffel, ASE'23): from a failing input, each parameter is walked outward — steps of
// 1, 2, 4, … until the failure stops, then bisection to the last failing value — giving the interval of the
// parameter around the input on which the same check fails, with the edge inputs. The axes follow the
// functions' structure: the row's length (by steps of 2 when only one parity fails), the lead of the maximum,
// the maximum itself (a shared offset), one logit (in ulps of the kernel's format), a scale of the whole row,
// and the label's position. The interval's ends are exact (a failing value beside a passing one, or the end
// of the axis); inside it, the values between the probes are not each tried.
import Formats

public struct FailingRange: Sendable {
    public enum Axis: String, Sendable, CaseIterable {
        case length, lead, maximum, element, scale, label
    }

    public let axis: Axis
    /// The ends, on the axis's own scale: n; the lead; the maximum's binade e (2^e); a logit's value; the
    /// scale's exponent j (NaN for the label axis).
    public let low: Double
    public let high: Double
    /// The range in words, e.g. "odd n in [1025, 2047]" or "lead in [45.0, 45.5]".
    public let text: String
    /// Whether each end is the end of the axis (the failure goes on past what was tried).
    public let lowOpen: Bool
    public let highOpen: Bool
    /// The failing inputs at the two ends, shrunk (nil for the label axis, or at an end of the axis).
    public var lowEdge: AuditCase?
    public var highEdge: AuditCase?
    public let evaluations: Int
    /// Whether the range is narrower than its axis: what the detection table shows (a length range from 2 to
    /// the longest row, a scale, or a value range of more than 2^20 values says little about where a flaw is).
    public var isNarrow: Bool {
        switch axis {
        case .length: return !(low <= 2 && highOpen)
        case .lead: return !(lowOpen && highOpen) && !(low < 0x1p-10 && highOpen)
        case .maximum: return !(lowOpen && highOpen)
        case .element: return axisCount <= 1 << 20
        case .scale: return false
        case .label: return text.hasPrefix("the label on")
        }
    }
    /// The number of values in the range on the element axis (of the format).
    var axisCount: Int64 = 0

    /// What a shrunk edge must keep: the axis's parameter at the edge's value.
    let parameter: (@Sendable (AuditCase) -> Double?)?

    /// Whether a case has the same parameter as the edge `edge`.
    func keeps(_ edge: AuditCase) -> (AuditCase) -> Bool {
        guard let parameter, let value = parameter(edge) else { return { _ in true } }
        return { parameter($0) == value }
    }
}

struct FailingRanges {
    let kernel: Kernel
    let function: AuditFunction
    let kind: FailureKind
    let space: HuntSpace
    let checker: CaseChecker
    /// Probes allowed per direction of an axis.
    static let probes = 160

    func fails(_ c: AuditCase) -> Bool {
        guard c.rows.allSatisfy({ !$0.isEmpty }) else { return false }
        return checker.failureKinds(kernel, function, c).contains(kind)
    }

    /// Every axis that applies to the input, walked.
    func ranges(around sample: HuntSample) -> [FailingRange] {
        let c = sample.input
        var out: [FailingRange] = []
        if let r = lengthRange(c) { out.append(r) }
        if let r = leadRange(c) { out.append(r) }
        if let r = maximumRange(c) { out.append(r) }
        if let r = elementRange(c, element: sample.element) { out.append(r) }
        if let r = scaleRange(c) { out.append(r) }
        if let r = labelRange(c) { out.append(r) }
        return out
    }

    // MARK: - Walking an integer axis

    struct Walk {
        var low: Int64, high: Int64
        var lowOpen: Bool, highOpen: Bool
        var evaluations: Int
    }

    /// The failing interval around v (which fails) on the lattice v + step·i within domain.
    func walk(from v: Int64, step: Int64, domain: ClosedRange<Int64>, _ failsAt: (Int64) -> Bool) -> Walk {
        var evaluations = 0
        func probe(_ x: Int64) -> Bool {
            evaluations += 1
            return failsAt(x)
        }
        func edge(direction: Int64) -> (Int64, Bool) {
            var lastFail = v
            var distance: Int64 = 1
            var firstPass: Int64? = nil
            var tries = 0
            while tries < Self.probes {
                let (scaled, overflow0) = distance.multipliedReportingOverflow(by: step)
                let (offset, overflow) = scaled.multipliedReportingOverflow(by: direction)
                let (x, overflow2) = v.addingReportingOverflow(offset)
                if overflow0 || overflow || overflow2 || !domain.contains(x) {
                    // One probe at the domain's end.
                    let end =
                        direction > 0
                        ? domain.upperBound - (domain.upperBound - v) % step
                        : domain.lowerBound + (v - domain.lowerBound) % step
                    if end == lastFail { return (lastFail, true) }
                    tries += 1
                    if probe(end) { return (end, true) }
                    firstPass = end
                    break
                }
                tries += 1
                if probe(x) {
                    lastFail = x
                    // Past 2^62 steps the next doubling overflows: the check above sends it to the axis's end.
                    distance = distance > Int64.max / 2 ? Int64.max : distance * 2
                } else {
                    firstPass = x
                    break
                }
            }
            guard var pass = firstPass else { return (lastFail, false) }
            // Bisection on the lattice between the last failing and the first passing value.
            while (pass - lastFail).magnitude > UInt64(step.magnitude) && tries < 2 * Self.probes {
                let half = (pass - lastFail) / 2
                var mid = lastFail + half - half % step
                if mid == lastFail { mid += step * direction }
                if mid == pass { break }
                tries += 1
                if probe(mid) { lastFail = mid } else { pass = mid }
            }
            return (lastFail, false)
        }
        let (high, highOpen) = edge(direction: 1)
        let (low, lowOpen) = edge(direction: -1)
        return Walk(low: low, high: high, lowOpen: lowOpen, highOpen: highOpen, evaluations: evaluations)
    }

    // MARK: - The axes

    func lengthRange(_ c: AuditCase) -> FailingRange? {
        let n = Int64(c.row.count)
        let domain: ClosedRange<Int64> = 1...Int64(space.maxLength)
        func at(_ m: Int64) -> AuditCase { HuntMoves.resized(c, to: Int(m)) }
        // Only one parity failing: walk over it.
        let neighbours = [n - 1, n + 1].filter(domain.contains)
        let parity =
            !neighbours.isEmpty && neighbours.allSatisfy { !fails(at($0)) }
            && [n - 2, n + 2].filter(domain.contains).contains { fails(at($0)) }
        let w = walk(from: n, step: parity ? 2 : 1, domain: domain) { fails(at($0)) }
        let prefix = parity ? (n % 2 == 1 ? "odd n" : "even n") : "n"
        let text: String
        switch (w.lowOpen, w.highOpen) {
        case _ where w.low == w.high: text = "n = \(w.low) only"
        case (true, true): text = "every \(prefix) tried, 1 to \(w.high)"
        case (false, true): text = "\(prefix) ≥ \(w.low) (to the longest row tried, \(w.high))"
        case (true, false): text = "\(prefix) ≤ \(w.high)"
        case (false, false): text = "\(prefix) in [\(w.low), \(w.high)]"
        }
        return FailingRange(
            axis: .length, low: Double(w.low), high: Double(w.high), text: text, lowOpen: w.lowOpen,
            highOpen: w.highOpen,
            lowEdge: w.lowOpen ? nil : at(w.low), highEdge: w.highOpen ? nil : at(w.high),
            evaluations: w.evaluations + (parity ? 4 : 2), parameter: { Double($0.row.count) })
    }

    func leadRange(_ c: AuditCase) -> FailingRange? {
        let x = c.row
        let lead = HuntMoves.lead(x)
        guard x.count > 1, lead > 0, x.allSatisfy(\.isFinite) else { return nil }
        let k = HuntMoves.argmax(x)
        // Rows of the kernel's format: second + lead rounded as the format rounds it.
        func at(_ o: Int64) -> AuditCase {
            var out = c
            out.rows[0] = HuntMoves.withLead(x, Binary64.value(o), at: k).map(space.format.round)
            return out
        }
        // Rebuilding the maximum as second + lead may round it elsewhere: walk only from a row that fails.
        guard fails(at(Binary64.ordinal(lead))) else { return nil }
        let top = Binary64.ordinal(max(0x1p12, 2 * lead))
        let w = walk(from: Binary64.ordinal(lead), step: 1, domain: 0...top) { fails(at($0)) }
        // The leads the rows have (the maximum second + lead is rounded), not the ones asked for.
        let low = HuntMoves.lead(at(w.low).row), high = HuntMoves.lead(at(w.high).row)
        let text =
            w.highOpen
            ? "lead ≥ \(RowSyntax.decimal(low)) (to \(RowSyntax.decimal(high)))"
            : "lead in [\(RowSyntax.decimal(low)), \(RowSyntax.decimal(high))] ([\(Binary64.hexString(low)), "
                + "\(Binary64.hexString(high))])"
        return FailingRange(
            axis: .lead, low: low, high: high, text: text, lowOpen: w.lowOpen, highOpen: w.highOpen,
            lowEdge: w.lowOpen ? nil : at(w.low),
            highEdge: w.highOpen ? nil : at(w.high), evaluations: w.evaluations, parameter: { HuntMoves.lead($0.row) })
    }

    /// The maximum m of the row moved to m·2^j, the differences kept (as rounded): a shared offset.
    func maximumRange(_ c: AuditCase) -> FailingRange? {
        let m = c.row[HuntMoves.argmax(c.row)]
        guard m.isFinite, m != 0, c.isFinite else { return nil }
        let e = Int64(m.exponent)
        let domain = Int64(space.format.quantumExponent)...Int64(space.format.maxExponent)
        func at(_ j: Int64) -> AuditCase {
            // m's sign is in the significand: a sign argument of .minus would flip it back.
            HuntMoves.withMaximum(c, at: Double(sign: .plus, exponent: Int(j) - Int(e), significand: m))
        }
        let w = walk(from: e, step: 1, domain: domain) { fails(at($0)) }
        let sign = m < 0 ? "−" : ""
        var text = "a maximum logit of \(sign)[2^\(w.low), 2^\(w.high + 1))"
        if w.lowOpen || w.highOpen {
            text +=
                " ("
                + [w.lowOpen ? "down to the format's least" : nil, w.highOpen ? "up to its largest" : nil]
                .compactMap { $0 }.joined(separator: ", ") + ")"
        }
        text += "; the differences kept"
        return FailingRange(
            axis: .maximum, low: Double(w.low), high: Double(w.high), text: text, lowOpen: w.lowOpen,
            highOpen: w.highOpen, lowEdge: w.lowOpen ? nil : at(w.low),
            highEdge: w.highOpen ? nil : at(w.high), evaluations: w.evaluations,
            parameter: { c in
                let top = c.row[HuntMoves.argmax(c.row)]
                return top.isFinite && top != 0 ? Double(top.exponent) + (top < 0 ? 0.5 : 0) : nil
            })
    }

    /// One logit moved along the format's values: of the worst element, the maximum and the others (all up to
    /// 64 logits, else 30 spread over the row), the first whose move by one ulp either way stops the failure (the
    /// logit the failure hangs on), else the first whose move one way does, else the worst element (or the
    /// maximum for one output).
    func elementRange(_ c: AuditCase, element: Int?) -> FailingRange? {
        let n = c.row.count
        let format = space.format
        let worst =
            element.map { function.shape.isScalar || $0 >= n ? HuntMoves.argmax(c.row) : $0 }
            ?? HuntMoves.argmax(c.row)
        var order = [worst, HuntMoves.argmax(c.row)]
        order += n <= 64 ? Array(0..<n) : (0..<30).map { $0 * (n - 1) / 29 }
        // The first logit whose move either way stops the failure (a point the failure hangs on), else the first
        // whose move one way does.
        var seen = Set<Int>()
        var i = worst
        var best = 0
        search: for j in order where seen.insert(j).inserted && c.row[j].isFinite {
            var stops = 0
            for k in [-1, 1] {
                var nudged = c
                nudged.rows[0][j] = HuntMoves.step(c.row[j], by: k, format)
                if nudged.rows[0][j] != c.row[j] && !fails(nudged) { stops += 1 }
            }
            if stops > best {
                best = stops
                i = j
                if stops == 2 { break search }
            }
        }
        let v = c.row[i]
        guard v.isFinite else { return nil }
        let top = format.ordinal(format.greatestFiniteMagnitude)
        func at(_ o: Int64) -> AuditCase {
            var out = c
            out.rows[0][i] = format.value(atOrdinal: o)
            return out
        }
        let w = walk(from: format.ordinal(v), step: 1, domain: -top...top) { fails(at($0)) }
        let low = format.value(atOrdinal: w.low), high = format.value(atOrdinal: w.high)
        let span = w.high.subtractingReportingOverflow(w.low)
        let count = span.overflow || span.partialValue == .max ? Int64.max : span.partialValue + 1
        let text =
            "x[\(i)] in [\(Binary64.hexString(low)), \(Binary64.hexString(high))] "
            + "(\(count) value\(count == 1 ? "" : "s")"
            + " of \(format.name))"
        var range = FailingRange(
            axis: .element, low: low, high: high, text: text, lowOpen: w.lowOpen, highOpen: w.highOpen,
            lowEdge: w.lowOpen ? nil : at(w.low),
            highEdge: w.highOpen ? nil : at(w.high), evaluations: w.evaluations,
            parameter: { c in c.row.contains(low) ? 1 : c.row.contains(high) ? 2 : 0 })
        range.axisCount = count
        return range
    }

    /// Every logit times 2^j.
    static let scaleExponents: ClosedRange<Int64> = -64...64

    func scaleRange(_ c: AuditCase) -> FailingRange? {
        guard c.isFinite, c.rows.joined().contains(where: { $0 != 0 }) else { return nil }
        func at(_ j: Int64) -> AuditCase {
            var out = c
            out.rows = c.rows.map {
                $0.map { space.format.round(Double(sign: .plus, exponent: Int(j), significand: $0)) }
            }
            return out
        }
        let w = walk(from: 0, step: 1, domain: Self.scaleExponents) { $0 == 0 || fails(at($0)) }
        let text =
            "the row times 2^j for j in [\(w.low), \(w.high)]" + (w.lowOpen || w.highOpen ? " (of ±64 tried)" : "")
        return FailingRange(
            axis: .scale, low: Double(w.low), high: Double(w.high), text: text, lowOpen: w.lowOpen,
            highOpen: w.highOpen, lowEdge: w.lowOpen ? nil : at(w.low),
            highEdge: w.highOpen ? nil : at(w.high), evaluations: w.evaluations,
            parameter: { c in c.rows.joined().map(\.magnitude).max().map { Double($0.exponent) } })
    }

    /// Positions of the label tried: every one up to 64 logits, else the maximum, the minimum, the ends and
    /// 12 spread between.
    func labelRange(_ c: AuditCase) -> FailingRange? {
        guard function.shape.takesLabel, !c.isBatch else { return nil }
        let x = c.row, n = x.count
        var positions = n <= 64 ? Array(0..<n) : [0, n - 1, HuntMoves.argmax(x), HuntMoves.argmin(x)]
        if n > 64 { positions += (1...12).map { $0 * (n - 1) / 13 } }
        positions = Array(Set(positions)).sorted()
        let failing = positions.filter { t in
            var out = c
            out.labels[0] = t
            return fails(out)
        }
        let k = HuntMoves.argmax(x)
        let text: String
        if failing.count == positions.count {
            text = "every label position tried (\(positions.count))"
        } else if failing == [k] {
            text = "the label on the maximum (position \(k)) only, of \(positions.count) positions tried"
        } else {
            let shown = failing.prefix(12).map(String.init).joined(separator: ", ")
            let more = failing.count > 12 ? ", …" : ""
            text = "labels at \(shown)\(more) (\(failing.count) of \(positions.count) tried)"
        }
        return FailingRange(
            axis: .label, low: .nan, high: .nan, text: text, lowOpen: false, highOpen: false, lowEdge: nil,
            highEdge: nil,
            evaluations: positions.count, parameter: nil)
    }
}

extension Binary64 {
    /// The double at ordinal position o (the inverse of `ordinal`).
    static func value(_ o: Int64) -> Double { BinaryFormat.double.value(atOrdinal: o) }
}
