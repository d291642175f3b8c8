// The pipelined protocol against the protocol one request at a time: for workers that behave and workers
// that crash, write stray lines, answer unsupported or write to standard error, a batch sent with requests in
// flight gives the same answers, and records the same problems with the same requests, as the same requests
// sent alone.
import Foundation
import Formats
import Testing

@testable import Audit

@Suite("The pipelined protocol")
struct PipelineTests {
    static let worker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CommandLineTests/Workers/test_worker.py").path

    /// Softmax requests on random rows of 1 to 40 logits, some with a logit above 100 (where the crash and hang
    /// modes misbehave), and now and then a function the worker does not support.
    static func batch(_ count: Int, seed: UInt64) -> [ExternalWorker.Request] {
        var s = AuditRandom(seed: seed)
        return (0..<count).map { i in
            let n = s.int(1...40)
            var row = (0..<n).map { _ in s.normal() * 10 }
            if i % 37 == 5 { row[0] = 150 }
            let function = i % 53 == 7 ? "logsumexp" : "softmax"
            let line = function + " " + row.map(Binary64.hexString).joined(separator: " ")
            return ExternalWorker.Request(line: line, count: function == "softmax" ? n : 1, function: function)
        }
    }

    /// The batch sent one request at a time, a function not sent again after `unsupported` (as a batch does).
    static func alone(_ worker: ExternalWorker, _ batch: [ExternalWorker.Request]) -> [WorkerAnswer?] {
        var dropped = Set<String>()
        return batch.map { r in
            guard !dropped.contains(r.function) else { return nil }
            let answer = worker.request(r.line, expecting: r.count)
            if answer == .unsupported { dropped.insert(r.function) }
            return answer
        }
    }

    @Test(
        "a batch answers and records problems as the requests sent alone do",
        arguments: ["good", "crash", "garbage", "wrong-count", "stderr-once", "late-unsupported"])
    func sameAsAlone(_ mode: String) {
        let requests = Self.batch(120, seed: 41)
        let command = ["python3", Self.worker, mode]
        let one = ExternalWorker(command: command, timeout: 30, maximumRestarts: 1_000)
        let piped = ExternalWorker(command: command, timeout: 30, maximumRestarts: 1_000)
        defer {
            one.stop()
            piped.stop()
        }
        let expected = Self.alone(one, requests)
        // Rows have 1 to 40 logits: a softmax of 41 has a count no request has.
        let sentinel = ExternalWorker.Request(
            line: "softmax " + (0..<41).map { Binary64.hexString(-Double($0)) }.joined(separator: " "), count: 41,
            function: "softmax")
        let observed = piped.requests(requests, sentinel: sentinel, window: 16)
        for (i, (e, o)) in zip(expected, observed).enumerated() where e != o {
            let request = requests[i].line.prefix(60)
            Issue.record("\(mode), request \(i) '\(request)…': expected \(e as Any), observed \(o as Any)")
        }
        // The sentinel is proven alone before its first batch: one more request, and a worker that fails on
        // it (garbage, a wrong count) has that problem named for the sentinel's own row.
        let problems = { (w: ExternalWorker) in
            w.problems.filter { !$0.request.hasPrefix(sentinel.line.prefix(60)) }  // (requests are shortened)
                .map { "\($0.kind.rawValue): \($0.request)" }
        }
        #expect(problems(piped) == problems(one), "\(mode): problems differ")
        #expect(piped.requests >= one.requests, "\(mode): \(piped.requests) requests piped, \(one.requests) alone")
        #expect(piped.starts <= one.starts + 2, "\(mode): the sentinel and the batch gave up at most once each")
        if mode == "good" {
            #expect(piped.requests == one.requests + 1 && piped.problems.isEmpty, "\(piped.problems.prefix(3))")
        }
    }
}
