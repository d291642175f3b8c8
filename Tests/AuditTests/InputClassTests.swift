// Each input class produces what it claims.
import Testing
@testable import Audit
import Kernels

@Suite("Input classes")
struct InputClassTests {
    let seed = AuditConfiguration.defaultSeed

    func cases(_ name: String, count: Int = 40, maxLength: Int = 4096) -> [AuditCase] {
        let c = InputClass.named(name)!
        return (0..<count).map { c.makeCase(seed: seed, index: $0, maxLength: maxLength) }
    }

    @Test("names are unique; adversarial classes cite their source")
    func catalogue() {
        let names = InputClass.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(InputClass.all.filter(\.isAdversarial).allSatisfy { !($0.source ?? "").isEmpty })
        #expect(InputClass.all.count >= 25)
    }

    @Test("cases are a function of (seed, class, index) and labels are valid")
    func deterministic() {
        for c in InputClass.all {
            let a = c.makeCase(seed: seed, index: 3, maxLength: 512)
            #expect(a.text == c.makeCase(seed: seed, index: 3, maxLength: 512).text, "\(c.name)")
            // A label is a class of its row, or (for the cross-entropy loss's own cases) the ignore index.
            let ignore = a.options.crossEntropy?.ignoreIndex
            #expect(
                zip(a.rows, a.labels).allSatisfy { (0..<$0.count).contains($1) || $1 == ignore },
                "\(c.name): \(a.labels)")
            if let w = a.options.crossEntropy?.classWeights {
                #expect(w.count == a.row.count, "\(c.name): \(w.count) class weights for \(a.row.count) classes")
            }
            #expect(a.rows.allSatisfy { !$0.isEmpty && $0.count <= 512 }, "\(c.name)")
        }
        let n = InputClass.named("normal")!
        #expect(n.makeCase(seed: seed, index: 0, maxLength: 512) != n.makeCase(seed: seed, index: 1, maxLength: 512))
        #expect(
            n.makeCase(seed: seed, index: 0, maxLength: 512) != n.makeCase(seed: seed + 1, index: 0, maxLength: 512))
    }

    @Test(
        "offsets are exact: x_j − c is a small multiple of the offset's grid and adding it back gives x_j",
        arguments: [
            ("offset-1e4", 1e4), ("offset-1e8", 1e8), ("offset-1e16", 1e16), ("offset-1e300", 1e300),
            ("offset-minus-1e300", -1e300),
        ])
    func offsets(_ pair: (String, Double)) {
        let c = pair.1
        let step = max(c.magnitude.ulp, 0x1p-8)
        for k in cases(pair.0) {
            for x in k.row {
                let d = x - c
                #expect(d + c == x && (d / step).rounded() == d / step && (d / step).magnitude <= 64, "\(pair.0): \(x)")
            }
        }
    }

    @Test("ties tie, maxima one ulp apart are adjacent, dominant rows lead")
    func ties() {
        #expect(cases("ties-all-equal").allSatisfy { Set($0.row).count == 1 })
        for k in cases("ties-maxima") {
            let top = k.row.max()!
            #expect(k.row.filter { $0 == top }.count >= 2, "\(k.row)")
        }
        for k in cases("maxima-one-ulp-apart") {
            let sorted = Array(Set(k.row)).sorted(by: >)
            #expect(sorted.count >= 2 && sorted[1].nextUp == sorted[0], "\(k.row.prefix(8))")
        }
        for (name, lead) in [("dominant-16", 16.0), ("dominant-40", 40), ("dominant-745", 745), ("dominant-1e4", 1e4)] {
            for k in cases(name) {
                let sorted = k.row.sorted(by: >)
                #expect(sorted[0] - sorted[1] >= lead - 1, "\(name): lead \(sorted[0] - sorted[1])")
            }
        }
    }

    @Test("edges, extremes and subnormals stay in their ranges")
    func ranges() {
        #expect(cases("exp-overflow-edge").allSatisfy { $0.row.allSatisfy { (708...711).contains($0) } })
        #expect(cases("exp-underflow-edge").allSatisfy { $0.row.allSatisfy { (-746 ... -744).contains($0) } })
        #expect(cases("extreme-magnitudes").allSatisfy { ($0.row.max()! - $0.row.min()!).isInfinite })
        #expect(cases("subnormal-logits").allSatisfy { $0.row.allSatisfy { $0 == 0 || $0.isSubnormal } })
    }

    @Test("masks, infinities and NaNs are where the classes say")
    func specials() {
        #expect(cases("mask-all").allSatisfy { $0.row.allSatisfy { $0 == -.infinity } })
        #expect(cases("mask-some").allSatisfy { $0.row.contains(where: \.isFinite) })
        #expect(cases("mask-some").contains { $0.row.contains(-.infinity) })
        #expect(cases("plus-inf").allSatisfy { $0.row.filter { $0 == .infinity }.count == 1 })
        #expect(cases("nan-entries").allSatisfy { $0.row.contains(where: \.isNaN) })
    }

    @Test("labels on the argmax have p_t ≈ 1; labels on the smallest have p_t below 1e-300")
    func labels() {
        for k in cases("label-on-argmax") {
            #expect(
                k.row[k.label] == k.row.max()!
                    && k.row.filter { $0 != k.row[k.label] }.allSatisfy { k.row[k.label] - $0 >= 20 })
        }
        for k in cases("label-on-smallest") {
            #expect(k.row[k.label] == k.row.min()! && k.row.max()! - k.row[k.label] > 690)
        }
    }

    @Test("widths: odd between 513 and 1023, long rows in [max/2, max], lengths log-uniform, batches of 2 to 8")
    func widths() {
        #expect(cases("odd-widths").allSatisfy { $0.row.count % 2 == 1 && (513...1023).contains($0.row.count) })
        #expect(cases("long-rows", maxLength: 3000).allSatisfy { (1500...3000).contains($0.row.count) })
        let lengths = cases("normal", count: 200).map(\.row.count)
        #expect(
            lengths.min()! <= 3 && lengths.max()! >= 1000,
            "log-uniform lengths from 1 to 4096: \(lengths.min()!)…\(lengths.max()!)")
        for k in cases("batches") {
            #expect((2...8).contains(k.rows.count) && Set(k.rows.map(\.count)).count == 1)
        }
    }
}
