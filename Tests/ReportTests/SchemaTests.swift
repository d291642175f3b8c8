// The JSON results validate against Schemas/audit.schema.json, and the JUnit XML has the structure of
// the common JUnit schema (testsuites > testsuite > testcase, with their required attributes).
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Audit
@testable import Kernels
@testable import Report

/// A validator for the JSON Schema keywords the project's schemas use: type, required, properties,
/// additionalProperties (false or a schema), items, enum, const.
func violations(_ value: Any, _ schema: [String: Any], at path: String = "$") -> [String] {
    var out: [String] = []
    if let types = schema["type"] {
        let allowed = (types as? [String]) ?? [types as! String]
        let actual: String
        switch value {
        case is String: actual = "string"
        case let n as NSNumber where "\(type(of: n))".contains("Boolean"): actual = "boolean"
        case let n as NSNumber: actual = (value is Int) ? "integer" : "number"
        case is Bool: actual = "boolean"
        case is [Any]: actual = "array"
        case is [String: Any]: actual = "object"
        default: actual = "null"
        }
        let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
        if !ok { return ["\(path): \(actual) where the schema wants \(allowed)"] }
    }
    if let constant = schema["const"] as? String, (value as? String) != constant {
        out.append("\(path): not \(constant)")
    }
    if let options = schema["enum"] as? [String], let s = value as? String, !options.contains(s) {
        out.append("\(path): '\(s)' not in \(options)")
    }
    if let object = value as? [String: Any] {
        for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
            out.append("\(path): missing '\(key)'")
        }
        let properties = (schema["properties"] as? [String: Any]) ?? [:]
        for (key, v) in object {
            if let sub = properties[key] as? [String: Any] {
                out += violations(v, sub, at: "\(path).\(key)")
            } else if let extra = schema["additionalProperties"] {
                if let allowed = extra as? Bool, !allowed { out.append("\(path): unexpected '\(key)'") }
                if let sub = extra as? [String: Any] { out += violations(v, sub, at: "\(path).\(key)") }
            }
        }
    }
    if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
        for (i, v) in array.enumerated() { out += violations(v, items, at: "\(path)[\(i)]") }
    }
    return out
}

/// Collects element names and attributes.
final class XMLCollector: NSObject, XMLParserDelegate {
    var elements: [(String, [String: String])] = []
    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String]
    ) {
        elements.append((name, attributes))
    }
}

@Suite("Schemas")
struct SchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func run() -> AuditResult {
        var c = AuditConfiguration.quick
        c.casesPerClass = 3
        c.maxLength = 64
        c.kernels = [Kernel.named("seed-softmax")!, Kernel.named("softmax-shifted")!]
        return AuditEngine.run(c)
    }

    @Test("audit.json validates against Schemas/audit.schema.json")
    func json() throws {
        let schema =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Self.root.appendingPathComponent("Schemas/audit.schema.json"))) as! [String: Any]
        let text = try AuditJSON.render(run(), RunDescription(command: "x", toolVersion: "t", mpfrVersion: "m"))
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let problems = violations(value, schema)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        // The validator itself notices a wrong document.
        var broken = value as! [String: Any]
        broken["cells"] = [["kernel": 1]]
        #expect(!violations(broken, schema).isEmpty)
    }

    @Test("JUnit XML: testsuites > testsuite > testcase with the required attributes, failures counted")
    func junit() throws {
        let r = run()
        var failed = AuditConfiguration.quick
        failed.casesPerClass = 3
        failed.maxLength = 64
        var broken = Kernel.named("softmax-shifted")!
        broken.implement(.softmax, .perLogit { x in x.map { _ in 0.5 } })
        failed.kernels = [broken]
        let bad = AuditEngine.run(failed)
        for (result, expectFailures) in [(r, false), (bad, true)] {
            let xml = JUnit.render(result, failOn: Set(GateCheck.allCases), baseline: nil)
            let parser = XMLParser(data: Data(xml.utf8))
            let collector = XMLCollector()
            parser.delegate = collector
            #expect(parser.parse(), "well-formed XML")
            let names = collector.elements.map(\.0)
            #expect(names.first == "testsuites" && names.dropFirst().first == "testsuite")
            let cases = collector.elements.filter { $0.0 == "testcase" }
            #expect(
                cases.count == result.cells.count
                    && cases.allSatisfy { $0.1["name"] != nil && $0.1["classname"] != nil })
            let suite = collector.elements.first { $0.0 == "testsuite" }!.1
            let failures = collector.elements.filter { $0.0 == "failure" }.count
            #expect(suite["tests"] == "\(cases.count)" && suite["failures"] == "\(failures)")
            #expect((failures > 0) == expectFailures)
        }
    }
}
