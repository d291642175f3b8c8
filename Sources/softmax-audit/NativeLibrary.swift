// A shared library of C kernels under the native ABI, loaded with dlopen by the child process that
// serves it (`softmax-audit serve-native`): a crash inside the library ends only that process, which the
// auditor restarts, naming the request, as for any worker.
//
// One symbol per function and format: softmax_audit_<function>[_<format>], the function's name with
// `-` as `_` and no suffix for double (`softmax_audit_log_softmax`, `softmax_audit_softmax_float16`).
// Values go in and out as doubles; in a narrow format they are that format's values, and the answers
// must be too. Each returns 0 when it has answered and anything else for "unsupported":
//
//     int softmax_audit_softmax(const double *x, size_t n, double *out);           /* n values */
//     int softmax_audit_logsumexp(const double *x, size_t n, double *out);         /* 1 value */
//     int softmax_audit_cross_entropy(const double *x, size_t n, size_t label, double *out);
//     int softmax_audit_softplus(const double *x, size_t n, double beta, double threshold, double *out);
//     int softmax_audit_kl_divergence(const double *x, const double *q, size_t n, double *out);  /* 1 value */
//     int softmax_audit_binary_cross_entropy(const double *x, const double *y, size_t n, double pos_weight,
//                                            double *out);                                    /* n values */
//     int softmax_audit_cross_entropy_loss(const double *x, size_t rows, size_t classes,
//         const int64_t *labels, const double *targets, const double *weight, int64_t ignore_index,
//         double label_smoothing, int reduction, double *out);
//
// log-softmax, the sigmoids and their gradients take softmax's form, cross-entropy-gradient the
// cross-entropy's, softplus-gradient softplus's, the KL gradient and the weighted logsumexp (2 values: the
// value and the sign) KL's, the binary cross-entropy's gradient its own. The loss takes the batch row by
// row in x (rows × classes), labels (rows of them; NULL for probability targets, which are then in targets,
// rows × classes), weight (classes of them, or NULL), and reduction 0 for none, 1 for sum, 2 for mean; its
// gradient takes the same arguments and gives rows × classes values.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Audit
import Catalogue
import Formats

final class NativeLibrary {
    private typealias RowSymbol =
        @convention(c) (UnsafePointer<Double>?, Int, UnsafeMutablePointer<Double>?) -> Int32
    private typealias LabelSymbol =
        @convention(c) (UnsafePointer<Double>?, Int, Int, UnsafeMutablePointer<Double>?) -> Int32
    private typealias SoftplusSymbol =
        @convention(c) (UnsafePointer<Double>?, Int, Double, Double, UnsafeMutablePointer<Double>?) -> Int32
    private typealias PairSymbol =
        @convention(c) (UnsafePointer<Double>?, UnsafePointer<Double>?, Int, UnsafeMutablePointer<Double>?) -> Int32
    private typealias WeightedPairSymbol =
        @convention(c) (UnsafePointer<Double>?, UnsafePointer<Double>?, Int, Double, UnsafeMutablePointer<Double>?)
        -> Int32
    private typealias LossSymbol =
        @convention(c) (
            UnsafePointer<Double>?, Int, Int, UnsafePointer<Int64>?, UnsafePointer<Double>?, UnsafePointer<Double>?,
            Int64, Double, Int32, UnsafeMutablePointer<Double>?
        ) -> Int32

    /// How a function is called.
    private enum Form {
        case row, label, softplus, pair, weightedPair, loss
    }

    private static let forms: [AuditFunction: Form] = [
        .softmax: .row, .logSoftmax: .row, .logSumExp: .row, .sigmoid: .row, .logSigmoid: .row,
        .sigmoidGradient: .row, .logSigmoidGradient: .row, .crossEntropy: .label,
        .crossEntropyGradient: .label, .softplus: .softplus, .softplusGradient: .softplus,
        .klDivergence: .pair, .klDivergenceGradient: .pair, .weightedLogSumExp: .pair,
        .binaryCrossEntropy: .weightedPair, .binaryCrossEntropyGradient: .weightedPair,
        .crossEntropyLoss: .loss, .crossEntropyLossGradient: .loss,
    ]

    /// The loss's reduction as the ABI numbers it.
    static func reductionCode(_ r: LossReduction) -> Int32 {
        switch r {
        case .none: return 0
        case .sum: return 1
        case .mean: return 2
        }
    }

    private let handle: UnsafeMutableRawPointer
    private struct Key: Hashable {
        let function: AuditFunction
        let format: String
    }
    private var symbols: [Key: UnsafeMutableRawPointer?] = [:]
    /// The answers' memory: pages that end at a page with no access, the answer's last value against it, so
    /// that a kernel writing past out[count − 1] faults on the call that does it.
    private var region: UnsafeMutableRawPointer? = nil
    private var regionBytes = 0
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Loads the library; the error is dlerror's sentence.
    init(path: String) throws(NativeLibraryError) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw NativeLibraryError(message: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        self.handle = handle
    }

    deinit {
        dlclose(handle)
        if let region { munmap(region, regionBytes) }
    }

    /// Room for `count` values ending at the guard page, or nil when memory cannot be mapped.
    private func answerMemory(_ count: Int) -> UnsafeMutablePointer<Double>? {
        let needed = max(count, 1) * MemoryLayout<Double>.stride
        let page = Self.pageSize
        if region == nil || needed > regionBytes - page {
            if let region { munmap(region, regionBytes) }
            let bytes = (needed + page - 1) / page * page + page
            guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                mapped != MAP_FAILED
            else {
                region = nil
                return nil
            }
            mprotect(mapped + bytes - page, page, PROT_NONE)
            region = mapped
            regionBytes = bytes
        }
        return (region! + regionBytes - Self.pageSize - needed).assumingMemoryBound(to: Double.self)
    }

    /// The symbol's name for a function in a format.
    static func symbolName(_ f: AuditFunction, format: BinaryFormat) -> String {
        let base = "softmax_audit_" + String(f.rawValue.map { $0 == "-" ? "_" : $0 })
        return format == .double ? base : base + "_" + format.name
    }

    /// The library's answer to one request (valid until the next), or nil for unsupported (no symbol, no
    /// native form, or a nonzero return).
    func answer(_ f: ReferenceFunction, _ c: AuditCase, format: BinaryFormat) -> UnsafeBufferPointer<Double>? {
        guard let form = Self.forms[f.function], let symbol = symbol(f.function, format) else { return nil }
        let x = c.row
        let count = f.outputCount(c)
        guard let out = answerMemory(count) else { return nil }
        out.initialize(repeating: .nan, count: count)  // a value the library leaves is not a stale answer
        if form == .loss { return loss(symbol, c, count: count, out: out) }
        let pair = form == .pair || form == .weightedPair ? f.function.pair(c) : []
        let status = x.withUnsafeBufferPointer { xs -> Int32 in
            switch form {
            case .pair:
                return pair.withUnsafeBufferPointer {
                    unsafeBitCast(symbol, to: PairSymbol.self)(xs.baseAddress, $0.baseAddress, xs.count, out)
                }
            case .weightedPair:
                return pair.withUnsafeBufferPointer {
                    unsafeBitCast(symbol, to: WeightedPairSymbol.self)(
                        xs.baseAddress, $0.baseAddress, xs.count, c.options.posWeight, out)
                }
            case .loss: return -1
            case .row:
                return unsafeBitCast(symbol, to: RowSymbol.self)(xs.baseAddress, xs.count, out)
            case .label:
                return unsafeBitCast(symbol, to: LabelSymbol.self)(xs.baseAddress, xs.count, c.label, out)
            case .softplus:
                return unsafeBitCast(symbol, to: SoftplusSymbol.self)(
                    xs.baseAddress, xs.count, c.options.beta, c.options.threshold, out)
            }
        }
        return status == 0 ? UnsafeBufferPointer(start: out, count: count) : nil
    }

    /// The loss or its gradient on a batch: rows of one length (a batch of ragged rows is unsupported).
    private func loss(
        _ symbol: UnsafeMutableRawPointer, _ c: AuditCase, count: Int, out: UnsafeMutablePointer<Double>
    ) -> UnsafeBufferPointer<Double>? {
        let batch = AuditFunction.crossEntropyBatch(c)
        guard let classes = c.rows.first?.count, c.rows.allSatisfy({ $0.count == classes }) else { return nil }
        let x = c.rows.flatMap { $0 }
        var labels: [Int64]? = nil, targets: [Double]? = nil
        switch batch.targets {
        case .labels(let t): labels = t.map(Int64.init)
        case .probabilities(let q): targets = q.flatMap { $0 }
        }
        let o = batch.options
        let call = unsafeBitCast(symbol, to: LossSymbol.self)
        let status = x.withUnsafeBufferPointer { xs in
            labels.withUnsafeBufferPointerIfPresent { ls in
                targets.withUnsafeBufferPointerIfPresent { ts in
                    o.classWeights.withUnsafeBufferPointerIfPresent { ws in
                        call(
                            xs.baseAddress, c.rows.count, classes, ls?.baseAddress, ts?.baseAddress, ws?.baseAddress,
                            Int64(o.ignoreIndex), o.labelSmoothing, Self.reductionCode(o.reduction), out)
                    }
                }
            }
        }
        return status == 0 ? UnsafeBufferPointer(start: out, count: count) : nil
    }

    private func symbol(_ f: AuditFunction, _ format: BinaryFormat) -> UnsafeMutableRawPointer? {
        let key = Key(function: f, format: format.name)
        if let known = symbols[key] { return known }
        let found = dlsym(handle, Self.symbolName(f, format: format))
        symbols[key] = found
        return found
    }
}

struct NativeLibraryError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Optional {
    /// The wrapped array's buffer, or nil: a C pointer that may be NULL.
    fileprivate func withUnsafeBufferPointerIfPresent<T, R>(_ body: (UnsafeBufferPointer<T>?) -> R) -> R
    where Wrapped == [T] {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }
}
