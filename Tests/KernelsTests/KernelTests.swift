// The kernels: the tutorial's translation keeps NumPy's behaviour and flaws; the accurate
// algorithms give what their formulas say on hand-worked rows.
import Testing
@testable import Kernels
import Reference

@Suite("Kernels")
struct KernelTests {
    @Test("names are unique kebab-case, every kernel has a summary and at least one function")
    func catalogue() {
        let names = Kernel.all.map(\.name)
        #expect(Set(names).count == names.count, "duplicate names in \(names)")
        for k in Kernel.all {
            #expect(k.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(k.name) is not kebab-case")
            #expect(!k.summary.isEmpty && !k.functions.isEmpty, "\(k.name)")
            if case .flawed(let flaw) = k.expectation { #expect(!flaw.isEmpty, "\(k.name) names no flaw") }
        }
        #expect(Kernel.named("seed-softmax") != nil && Kernel.named("nope") == nil)
    }

    @Test("np.sum's pairwise order: the value NumPy 2.4 printed for this array")
    func numpySum() {
        // np.sum(np.array([1e16, 1, -1e16, 1, 1, 3, 2**-30, 5, 7, 1e-3])) == 16.001000000931324,
        // while left-to-right gives 18.001000000931324 − … (the 1 is lost next to 1e16).
        let a = [1e16, 1, -1e16, 1, 1, 3, 0x1p-30, 5, 7, 1e-3]
        #expect(Summation.numpy(a) == 16.001000000931324)
        #expect(Summation.recursive(a) != 16.001000000931324)
    }

    @Test("seed softmax overflows to NaN above ~709.78; the shifted one does not")
    func seedOverflow() throws {
        let x = [710.0, 0]
        let seed = Kernel.named("seed-softmax")!.output(.softmax, row: x)!
        #expect(seed[0].isNaN && seed[1] == 0, "exp(710) = inf, inf/inf = NaN: \(seed)")
        let shifted = Kernel.named("softmax-shifted")!.output(.softmax, row: x)!
        #expect(shifted[0] == 1 && shifted[1] > 0, "\(shifted)")
    }

    @Test("seed stable_softmax subtracts the max after exp, as written")
    func seedStable() {
        // [0, 1]: exps = [1 − 1, e − 1] = [0, e − 1], so p = [0, 1].
        let p = Kernel.named("seed-stable-softmax")!.output(.softmax, row: [0, 1])!
        #expect(p == [0, 1], "(exp(x) − max) / sum: \(p)")
    }

    @Test("seed cross_entropy normalizes over the whole matrix")
    func seedWholeMatrix() {
        // Two rows [0, 0]: per row p = 1/2 and the loss is log 2; over the matrix p = 1/4, log 4.
        let ce = Kernel.named("seed-cross-entropy")!.output(
            .batchCrossEntropy, on: AuditCase(rows: [[0, 0], [0, 0]], labels: [0, 1]))![0]
        #expect(ce == 2 * 0x1.62e42fefa39efp-1, "log 4, not log 2: \(ce)")
        let g = Kernel.named("seed-delta-cross-entropy")!.output(
            .batchCrossEntropyGradient, on: AuditCase(rows: [[0, 0], [0, 0]], labels: [0, 1]))!
        #expect(g == [-0.375, 0.125, 0.125, -0.375], "(1/4 − onehot) / 2, row-major: \(g)")
    }

    @Test("log1p keeps a dominant logit's tail; log(sum) drops it (pytorch#113708)")
    func dominantTail() {
        let x = [0.0, -40]
        let good = Kernel.named("logsumexp-log1p")!
        #expect(good.output(.logSumExp, row: x)![0] == 4.248354255291589e-18)
        #expect(good.output(.logSoftmax, row: x)![0] == -4.248354255291589e-18)
        let usual = Kernel.named("log-softmax-shifted")!
        #expect(usual.output(.logSoftmax, row: x)![0] == 0, "the known flaw is present")
        #expect(
            Kernel.named("cross-entropy-log1p")!.output(.crossEntropy, row: x, label: 0)![0] == 4.248354255291589e-18)
        #expect(
            Kernel.named("cross-entropy-logsumexp")!.output(.crossEntropy, row: x, label: 0)![0]
                == 4.248354255291589e-18,
            "logsumexp − x_t is still fine with x_t = 0; it cancels for x_t ≠ 0")
        #expect(
            Kernel.named("cross-entropy-logsumexp")!.output(.crossEntropy, row: [1e8, 1e8 - 40])![0] == 0,
            "cancels: 1e8 + 4e-18 − 1e8")
    }

    @Test("the complement gradient keeps 1 − p_t; p − onehot loses it")
    func gradients() {
        let x = [0.0, -40, -40]
        let g = Kernel.named("gradient-complement")!.output(.crossEntropyGradient, row: x, label: 0)!
        #expect(g[0] == -2 * 4.248354255291589e-18, "−(e^-40 + e^-40)/(1 + 2e^-40): \(g)")
        let naive = Kernel.named("gradient-onehot")!.output(.crossEntropyGradient, row: x, label: 0)!
        #expect(naive[0] == 0, "p_0 rounds to 1, and 1 − 1 = 0: \(naive)")
    }

    @Test("online softmax matches the two-pass shifted softmax to a few ulps on a rising row")
    func online() {
        let x = (0..<100).map { Double($0) / 3 }
        let a = Kernel.named("softmax-online")!.output(.softmax, row: x)!
        let b = Kernel.named("softmax-shifted")!.output(.softmax, row: x)!
        for (u, v) in zip(a, b) { #expect(abs(u - v) <= 8 * v.ulp, "online \(u), two-pass \(v)") }
    }

    @Test("Jacobian rows sum to zero and its diagonal keeps p(1 − p) for a dominant logit")
    func jacobian() {
        let j = Kernel.named("softmax-backward")!.output(.jacobian, row: [0, -40])!
        #expect(j[0] == 4.248354255291589e-18, "p_0 (1 − p_0) ≈ e^-40: \(j)")
        #expect(j[1] == -4.248354255291589e-18)
        // The audit's vector for n = 3 is [−2, 0, 2]: p = 1/3, <p, v> = 0, so Jᵀv = p ⊙ v.
        #expect(AuditFunction.vjpVector(3) == [-2, 0, 2])
        let vjp = Kernel.named("softmax-backward")!.output(.vectorJacobianProduct, row: [0, 0, 0])!
        #expect(vjp == [-2.0 / 3, 0, 2.0 / 3], "p = 1/3, <p, v> = 0: \(vjp)")
    }
}

@Suite("The binary family's kernels")
struct BinaryKernelTests {
    func value(_ kernel: String, _ f: AuditFunction, _ x: Double) -> Double {
        Kernel.named(kernel)!.output(f, row: [x])![0]
    }

    @Test("the stable forms keep what the naive ones lose, at the inputs each flaw names")
    func flaws() {
        // sigma(-720) = e^-720 (1 - e^-720), a subnormal 0x0.0000993b4dc95p-1022 (mpmath); within libm's ulp.
        #expect(abs(value("sigmoid-stable", .sigmoid, -720) - 0x0.0000993b4dc95p-1022) <= 0x1p-1074)
        #expect(value("sigmoid-naive", .sigmoid, -720) == 0, "1/(1 + inf)")
        // log sigma(40) = -log1p(e^-40) = -4.248354255291589e-18; log(sigma(40)) = log(1) = 0.
        #expect(value("log-sigmoid-log1p", .logSigmoid, 40) == -4.248354255291589e-18)
        #expect(value("log-of-sigmoid", .logSigmoid, 40) == 0)
        #expect(value("log-of-sigmoid", .logSigmoid, -800) == -.infinity, "sigma(-800) underflows to 0")
        // softplus(-40) = log1p(e^-40) = 4.248354255291589e-18; log(1 + e^-40) = 0; exp(710) overflows.
        #expect(value("softplus-log1p", .softplus, -40) == 4.248354255291589e-18)
        #expect(value("softplus-naive", .softplus, -40) == 0)
        #expect(value("softplus-naive", .softplus, 710) == .infinity)
        // Above the threshold 20, PyTorch's default returns x: 21, where softplus(21) = 21 + 7.58e-10.
        #expect(value("softplus-threshold", .softplus, 21) == 21)
        #expect(value("softplus-log1p", .softplus, 21) == 21.000000000758256)
    }
}

@Suite("Kernels in float, float16 and bfloat16")
struct FormatKernelTests {
    func kernel(_ name: String) -> Kernel { Kernel.named(name)! }

    @Test("a float16 running sum sticks at 2048 and a bfloat16 one at 256; a float accumulator does not")
    func accumulationSticks() {
        let long = [Double](repeating: 0, count: 4096)
        let p16 = kernel("softmax-shifted@float16").output(.softmax, row: long)!
        #expect(
            p16.allSatisfy { $0 == 1.0 / 2048 },
            "float16 accumulation of 4,096 ones: \(p16[0]), expected 1/2048 (the sum stuck at 2048)")
        let p16f = kernel("softmax-shifted@float16+float").output(.softmax, row: long)!
        #expect(p16f.allSatisfy { $0 == 1.0 / 4096 }, "float accumulation: \(p16f[0]), expected 1/4096")
        let row512 = [Double](repeating: 1.5, count: 512)
        let pb = kernel("softmax-shifted@bfloat16").output(.softmax, row: row512)!
        #expect(pb.allSatisfy { $0 == 1.0 / 256 }, "bfloat16 accumulation of 512 ones: \(pb[0]), expected 1/256")
        let pbf = kernel("softmax-shifted@bfloat16+float").output(.softmax, row: row512)!
        #expect(pbf.allSatisfy { $0 == 1.0 / 512 }, "bfloat16 stored, float accumulated: \(pbf[0]), expected 1/512")
    }

    @Test("-log of a float16 probability is +inf once p_t underflows; the log1p form is finite")
    func crossEntropyInfinity() {
        let x = [0.0, -20]  // p_1 = e^-20 / (1 + e^-20) ≈ 2.06e-9 < 2^-25: zero in float16
        #expect(kernel("cross-entropy-log-softmax@float16").output(.crossEntropy, row: x, label: 1)![0] == .infinity)
        let loss = kernel("cross-entropy-log1p@float16+float").output(.crossEntropy, row: x, label: 1)![0]
        #expect(loss == Double(Float16(20.000000002061153)), "loss \(loss): 20 + log1p(e^-20) stored in float16 is 20")
    }

    @Test("every format kernel returns values of its storage format")
    func outputsInFormat() {
        let x = [0.1, -3.7, 2.25, 11.5, -0.001]
        for k in Kernel.formatKernels {
            let outputs = k.functions.flatMap { k.output($0, row: x, label: 1)! }
            #expect(
                !outputs.isEmpty && outputs.allSatisfy { k.precision.storage.represents($0) }, "\(k.name): \(outputs)")
        }
    }
}
