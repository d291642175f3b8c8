// Exhaustive sweeps: an elementwise kernel on every value of a 16-bit format, as LLVM libc and
// CORE-MATH test their 16-bit functions, against the reference correctly rounded in that format. For
// each kernel × function: how many inputs are misrounded ("wrong count", as ARM's optimized-routines
// headers give it), the largest error and where, and the ranges of inputs that fail (the error above
// the function's bound, or a special value where the result is finite), not only points.
import Dispatch
import Foundation
import Kernels
import Reference

/// A run of consecutive failing inputs, in the format's value order.
public struct SweepRange: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public let count: Int
}

/// One kernel's function over every value of its storage format.
public struct SweepResult: Sendable {
    public let kernel: Kernel
    public let function: AuditFunction
    public let format: BinaryFormat
    /// Inputs swept: every value but NaN's payloads (one NaN), both zeros and both infinities.
    public let inputs: Int
    /// Outputs of finite inputs that are not the correctly rounded value (a zero of the wrong sign included).
    public let misrounded: Int
    /// Inputs whose error exceeds the bound, or whose output is NaN or ±inf where the result is finite.
    public let failing: Int
    /// Outputs of ±inf and NaN that differ from the reference's conventions (the sign of a zero included).
    public let conventionDifferences: Int
    public let maxULPs: Double
    public let worst: (input: Double, output: Double, reference: ReferenceValue)?
    public let maxBoundRatio: Double
    /// Every maximal run of failing inputs, in value order.
    public let failingRanges: [SweepRange]
}

public enum Sweep {
    /// Every value of a format in ascending order (−inf … −0, +0 … +inf), and one NaN last.
    public static func values(of format: BinaryFormat) -> [Double] {
        var values: [Double] = []
        switch format {
        case .float16:
            for bits in 0...UInt16.max {
                let v = Double(Float16(bitPattern: bits))
                if !v.isNaN { values.append(v) }
            }
        case .bfloat16:
            for bits in 0...UInt16.max {
                let v = Double(Float(bitPattern: UInt32(bits) << 16))
                if !v.isNaN { values.append(v) }
            }
        default:
            preconditionFailure("an exhaustive sweep takes a 16-bit format, not \(format.name)")
        }
        // −0 before +0; otherwise by value.
        values.sort { $0 < $1 || ($0 == $1 && $0.sign == .minus && $1.sign == .plus) }
        return values + [.nan]
    }

    /// Whether a sweep covers the function: the elementwise functions of one input (not binary
    /// cross-entropy, which takes a target beside each logit).
    public static func sweeps(_ f: AuditFunction) -> Bool { f.isElementwise && !f.shape.takesPair }

    /// The formats a sweep can cover.
    public static let formats: [BinaryFormat] = [.float16, .bfloat16]

    /// Inputs a reference call takes at once.
    static let chunk = 256

    /// Sweeps each kernel's elementwise functions over every value of its storage format.
    public static func run(_ kernels: [Kernel], jobs: Int) -> [SweepResult] {
        var results: [SweepResult] = []
        var references: [String: [ReferenceValue]] = [:]
        for k in kernels {
            let format = k.precision.storage
            let inputs = values(of: format)
            for f in k.functions where sweeps(f) {
                let key = "\(f.rawValue)@\(format.name)"
                let expected = references[key] ?? reference(f, inputs, format, jobs: jobs)
                references[key] = expected
                let output = inputs.chunked(chunk).flatMap { k.output(f, row: Array($0))! }
                results.append(measure(k, f, format, inputs, output, expected))
            }
        }
        return results
    }

    /// The reference for every input, in `format`, computed in chunks across `jobs` threads.
    static func reference(_ f: AuditFunction, _ inputs: [Double], _ format: BinaryFormat, jobs: Int) -> [ReferenceValue]
    {
        let chunks = inputs.chunked(chunk).map { Array($0) }
        let slots = ResultSlots<(Int, [ReferenceValue])>(count: chunks.count)
        let workers = max(1, jobs)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let r = SoftmaxReference()
            r.format = format
            var i = worker
            while i < chunks.count {
                // Elementwise functions take any finite or infinite row; they do not throw.
                let values = (try? f.reference(r, on: AuditCase(chunks[i], label: 0))) ?? []
                slots.set(i, (i, values))
                i += workers
            }
        }
        return slots.all.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    static func measure(
        _ k: Kernel, _ f: AuditFunction, _ format: BinaryFormat, _ inputs: [Double],
        _ output: [Double], _ expected: [ReferenceValue]
    ) -> SweepResult {
        let bound = ErrorBounds.elementwiseBound(Units(k.precision.standard))
        var misrounded = 0, failing = 0, conventions = 0
        var maxULPs = 0.0, maxRatio = 0.0
        var worst: (Double, Double, ReferenceValue)? = nil
        var failed = [Bool](repeating: false, count: inputs.count)
        for i in inputs.indices {
            let e = ElementError(computed: output[i], reference: expected[i])
            guard inputs[i].isFinite else {
                // ±inf and NaN: the reference's limits are a convention; any other output, a difference from it.
                let same =
                    output[i].bitPattern == expected[i].rounded.bitPattern
                    || (output[i].isNaN && expected[i].kind == .undefined)
                if !same { conventions += 1 }
                continue
            }
            if !e.isCorrectlyRounded { misrounded += 1 }
            if let special = e.special, special != .wrongSignOfZero {
                failed[i] = true
                continue
            }
            if e.ulps.isFinite && (e.ulps > maxULPs || worst == nil) {
                maxULPs = e.ulps
                worst = (inputs[i], output[i], expected[i])
            }
            let ratio = e.absolute == 0 ? 0 : e.absolute / bound.allowance(expected[i].rounded.magnitude)
            maxRatio = max(maxRatio, ratio)
            if ratio > 1 { failed[i] = true }
        }
        var ranges: [SweepRange] = []
        var start: Int? = nil
        for i in 0...inputs.count {
            let isFailing = i < inputs.count && failed[i]
            if isFailing {
                failing += 1
                if start == nil { start = i }
            } else if let s = start {
                ranges.append(SweepRange(lower: inputs[s], upper: inputs[i - 1], count: i - s))
                start = nil
            }
        }
        return SweepResult(
            kernel: k, function: f, format: format, inputs: inputs.count, misrounded: misrounded, failing: failing,
            conventionDifferences: conventions, maxULPs: maxULPs, worst: worst, maxBoundRatio: maxRatio,
            failingRanges: ranges)
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
