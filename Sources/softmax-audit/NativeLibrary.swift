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
//
// log-softmax, the sigmoids and their gradients take softmax's form, cross-entropy-gradient the
// cross-entropy's, softplus-gradient softplus's. The paired functions and the loss have no native form
// yet: they answer unsupported.
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

    /// How a function is called.
    private enum Form {
        case row, label, softplus
    }

    private static let forms: [AuditFunction: Form] = [
        .softmax: .row, .logSoftmax: .row, .logSumExp: .row, .sigmoid: .row, .logSigmoid: .row,
        .sigmoidGradient: .row, .logSigmoidGradient: .row, .crossEntropy: .label,
        .crossEntropyGradient: .label, .softplus: .softplus, .softplusGradient: .softplus,
    ]

    private let handle: UnsafeMutableRawPointer
    private struct Key: Hashable {
        let function: AuditFunction
        let format: String
    }
    private var symbols: [Key: UnsafeMutableRawPointer?] = [:]
    private var output: [Double] = []

    /// Loads the library; the error is dlerror's sentence.
    init(path: String) throws(NativeLibraryError) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw NativeLibraryError(message: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        self.handle = handle
    }

    deinit { dlclose(handle) }

    /// The symbol's name for a function in a format.
    static func symbolName(_ f: AuditFunction, format: BinaryFormat) -> String {
        let base = "softmax_audit_" + String(f.rawValue.map { $0 == "-" ? "_" : $0 })
        return format == .double ? base : base + "_" + format.name
    }

    /// The library's answer to one request (valid until the next), or nil for unsupported (no symbol, no
    /// native form, or a nonzero return).
    func answer(_ f: ReferenceFunction, _ c: AuditCase, format: BinaryFormat) -> ArraySlice<Double>? {
        guard let form = Self.forms[f.function], let symbol = symbol(f.function, format) else { return nil }
        let x = c.row
        let count = f.outputCount(c)
        if output.count < count { output = Array(repeating: 0, count: count) }
        let status = x.withUnsafeBufferPointer { xs in
            output.withUnsafeMutableBufferPointer { out -> Int32 in
                for i in 0..<count { out[i] = .nan }  // a value the library leaves is not a stale answer
                switch form {
                case .row:
                    return unsafeBitCast(symbol, to: RowSymbol.self)(xs.baseAddress, xs.count, out.baseAddress)
                case .label:
                    return unsafeBitCast(symbol, to: LabelSymbol.self)(
                        xs.baseAddress, xs.count, c.label, out.baseAddress)
                case .softplus:
                    return unsafeBitCast(symbol, to: SoftplusSymbol.self)(
                        xs.baseAddress, xs.count, c.options.beta, c.options.threshold, out.baseAddress)
                }
            }
        }
        return status == 0 ? output[0..<count] : nil
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
