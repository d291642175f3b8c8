// `softmax-audit league [--python PY] [--libraries LIST] [options]`: audits every library's adapter in every
// format it supports, as `external` would, and writes one report per library and format and the table of them
// all (Report/LeagueReport.swift) under Reports/libraries.
import ArgumentParser
import Audit
import Foundation
import Formats
import Reference
import Report

/// A library of the league: its adapter in Adapters/ and the formats it is asked in.
struct LeagueLibrary: Sendable {
    let name: String
    let adapter: String
    let formats: [BinaryFormat]

    static let all: [LeagueLibrary] = [
        LeagueLibrary(name: "numpy", adapter: "numpy_worker.py", formats: [.double, .float, .float16]),
        LeagueLibrary(name: "scipy", adapter: "scipy_worker.py", formats: [.double]),
        LeagueLibrary(name: "torch", adapter: "torch_worker.py", formats: BinaryFormat.all),
        LeagueLibrary(name: "tensorflow", adapter: "tensorflow_worker.py", formats: BinaryFormat.all),
        LeagueLibrary(name: "onnxruntime", adapter: "onnxruntime_worker.py", formats: BinaryFormat.all),
        // Last: JAX compiles each function once per row length, about 0.1 s each.
        LeagueLibrary(name: "jax", adapter: "jax_worker.py", formats: BinaryFormat.all),
    ]
}

struct LeagueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "league",
        abstract: "Audit NumPy, SciPy, PyTorch, JAX, TensorFlow and ONNX Runtime and write the table of them all.",
        discussion: """
            Each library's adapter (Adapters/LIBRARY_worker.py) is audited as `external` audits a worker, in \
            binary64 over the default classes and in float, float16 and bfloat16 over the precision classes, \
            with --cases cases per class and rows up to --max-length logits. A library that cannot be loaded by \
            --python is listed with the reason. Writes OUTPUT/LIBRARY-FORMAT.md (with JSON and figures) and \
            OUTPUT/README.md, the table. Exit 0 whatever the verdicts: the league reports, it does not gate.
            """)

    @Option(help: "The Python interpreter that has the libraries (a virtual environment's, say).")
    var python = "python3"

    @Option(help: "Comma-separated libraries (default: all of them).")
    var libraries: String = Self.allLibraries

    @Option(help: "Comma-separated formats (default: every format each library is asked in).")
    var formats: String = Self.allFormats

    @Option(help: "Cases per input class.")
    var cases = Self.defaultCases

    @Option(name: .customLong("max-length"), help: "The longest row (JAX compiles once per row length).")
    var maxLength = Self.defaultMaxLength

    @Option(help: "The seed of the case generators.")
    var seed: UInt64 = AuditConfiguration.defaultSeed

    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var jobs: Int = Limits.defaultJobs

    @Option(help: "Seconds to wait for each answer before a worker is stopped and restarted.")
    var timeout: Double = Self.defaultTimeout

    @Option(help: "The directory of the adapters.")
    var adapters = "Adapters"

    @Option(help: "Hand-written notes on the findings, appended to the table (default: ADAPTERS/league-notes.md).")
    var notes: String?

    @Option(help: "Directory for the reports and the table.")
    var output = "Reports/libraries"

    static let allLibraries = LeagueLibrary.all.map(\.name).joined(separator: ",")
    static let allFormats = BinaryFormat.all.map(\.name).joined(separator: ",")
    static let defaultCases = 50
    static let defaultMaxLength = 2048
    static let defaultTimeout = 60.0

    func selected() throws -> [(LeagueLibrary, [BinaryFormat])] {
        var names: [String] = []
        for name in libraries.split(separator: ",").map(String.init) where !names.contains(name) { names.append(name) }
        let wanted = try formats.split(separator: ",").map { name -> BinaryFormat in
            guard let f = BinaryFormat.named(String(name)) else {
                throw ValidationError(
                    "--formats: unknown format '\(RowSyntax.visible(String(name)))' "
                        + "(formats: \(BinaryFormat.all.map(\.name).joined(separator: ", "))).")
            }
            return f
        }
        return try names.map { name in
            guard let library = LeagueLibrary.all.first(where: { $0.name == name }) else {
                throw ValidationError(
                    "--libraries: unknown library '\(RowSyntax.visible(name))' "
                        + "(libraries: \(LeagueLibrary.all.map(\.name).joined(separator: ", "))).")
            }
            return (library, library.formats.filter(wanted.contains))
        }
    }

    /// The notes' text, read each time the table is written (they may be edited while a long league runs).
    func notesText() throws -> String? {
        guard let path = notesPath else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw failure(ExitStatus.badInput, "league: cannot read the notes '\(path)' as UTF-8 text.")
        }
        return text
    }

    /// The notes file: --notes, or league-notes.md beside the adapters when it exists.
    var notesPath: String? {
        if let notes { return notes }
        let beside = adapters + "/league-notes.md"
        return FileManager.default.fileExists(atPath: beside) ? beside : nil
    }

    func validate() throws {
        guard !python.isEmpty, !output.isEmpty, !adapters.isEmpty else {
            throw ValidationError("--python, --adapters and --output must not be empty.")
        }
        guard try selected().contains(where: { !$0.1.isEmpty }) else {
            throw ValidationError(
                "--libraries '\(RowSyntax.visible(libraries))' and --formats '\(RowSyntax.visible(formats))' select "
                    + "no library in any format it is audited in (`softmax-audit league --help` lists them).")
        }
        if let notes, !FileManager.default.isReadableFile(atPath: notes) {
            throw ValidationError("--notes '\(RowSyntax.visible(notes))' is not a readable file.")
        }
        try Limits.checkJobs(jobs)
        guard Limits.cases.contains(cases) else {
            throw ValidationError("--cases must be between 1 and \(Limits.cases.upperBound) (got \(cases)).")
        }
        guard Limits.rowLength.contains(maxLength) else {
            throw ValidationError("--max-length must be between 1 and 1000000 (got \(maxLength)).")
        }
        guard Limits.timeout.contains(timeout) else {
            throw ValidationError(
                "--timeout must be between \(Limits.timeout.lowerBound) and \(Limits.timeout.upperBound) seconds.")
        }
    }

    func run() throws {
        // An output that cannot be written is said before the first audit, not after it.
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw failure(ExitStatus.cannotWrite, "cannot write the league table under '\(output)': \(error).")
        }
        guard access(output, W_OK) == 0 else {
            throw failure(ExitStatus.cannotWrite, "cannot write the league table under '\(output)': not writable.")
        }
        _ = try notesText()
        var entries: [LeagueEntry] = []
        for (library, formats) in try selected() {
            let adapter = adapters + "/" + library.adapter
            guard FileManager.default.isReadableFile(atPath: adapter) else {
                throw failure(
                    ExitStatus.badInput,
                    "league: the adapter '\(adapter)' is not readable (run from the repository's root, or give "
                        + "--adapters).")
            }
            let version = Self.version(python, adapter)
            for format in formats {
                guard case .success(let v) = version else {
                    if case .failure(let why) = version {
                        entries.append(
                            LeagueEntry(
                                library: library.name, format: format.name, version: nil, result: nil,
                                missing: why.description))
                    }
                    continue
                }
                entries.append(try audit(library, format, adapter: adapter, version: v))
                try writeTable(entries, notes: try notesText())
            }
        }
        try writeTable(entries, notes: try notesText())
        print("Wrote \(output)/README.md: \(entries.filter { $0.result != nil }.count) audits.")
    }

    /// One library in one format: its report written, its entry returned (a format it answers nothing in is
    /// listed as such).
    func audit(
        _ library: LeagueLibrary, _ format: BinaryFormat, adapter: String, version: String
    ) throws
        -> LeagueEntry
    {
        let name = "\(library.name)-\(format.name)"
        var arguments = [
            "--name", name, "--cases", "\(cases)", "--max-length", "\(maxLength)", "--seed", "\(seed)",
            "--jobs", "\(jobs)", "--timeout", "\(timeout)", "--output", output,
        ]
        if format != .double { arguments += ["--format", format.name, "--precision"] }
        let options = try WorkerAuditOptions.parse(arguments)
        print("League: \(name) (\(version))")
        let command = [python, adapter]
        do {
            let audit = try options.audit(
                worker: command, invocation: "external", workerArguments: "-- " + command.joined(separator: " "))
            let description = RunDescription(
                command: audit.reproduction, toolVersion: softmaxAuditVersion, mpfrVersion: SoftmaxReference.mpfrVersion
            )
            let extra = "\n**Library:** \(version).\n" + audit.extra
            try GateOptions.writeReports(audit.result, description, stem: name, extra: extra, under: output)
            return LeagueEntry(
                library: library.name, format: format.name, version: version, result: audit.result, missing: nil,
                problems: audit.problems)
        } catch let nothing as WorkerAuditOptions.AnsweredNothing {
            return LeagueEntry(
                library: library.name, format: format.name, version: version, result: nil,
                missing: "no function answered in \(format.name) (\(nothing.reason))")
        }
    }

    func writeTable(_ entries: [LeagueEntry], notes: String?) throws {
        var command = "softmax-audit league"
        if python != "python3" { command += " --python \(python)" }
        if adapters != "Adapters" { command += " --adapters \(adapters)" }
        if let path = self.notes { command += " --notes \(path)" }
        if timeout != Self.defaultTimeout { command += " --timeout \(shortNumber(timeout))" }
        if libraries != Self.allLibraries { command += " --libraries \(libraries)" }
        if formats != Self.allFormats { command += " --formats \(formats)" }
        if cases != Self.defaultCases { command += " --cases \(cases)" }
        if maxLength != Self.defaultMaxLength { command += " --max-length \(maxLength)" }
        if seed != AuditConfiguration.defaultSeed { command += " --seed \(seed)" }
        let settings =
            "\(cases) cases per input class, rows up to \(maxLength) logits, seed \(seed); binary64 over "
            + "the default classes, float, float16 and bfloat16 over the precision classes"
        let description = LeagueDescription(
            command: command, toolVersion: softmaxAuditVersion, mpfrVersion: SoftmaxReference.mpfrVersion,
            settings: settings,
            adapters: (try selected()).map { ($0.0.name, adapters + "/" + $0.0.adapter, $0.1.map(\.name)) },
            notes: notes)
        do {
            try ReportFiles.write([("README.md", LeagueReport.markdown(entries, description))], under: output)
        } catch {
            throw failure(ExitStatus.cannotWrite, "cannot write the league table under '\(output)': \(error).")
        }
    }

    /// How long `PYTHON ADAPTER --version` may take (importing TensorFlow takes seconds).
    static let versionTimeout = 300.0

    /// `PYTHON ADAPTER --version`'s first line, or why the library cannot be loaded (its last error line). The
    /// output goes to files, so that a chatty import cannot fill a pipe, and a child that hangs is killed.
    static func version(_ python: String, _ adapter: String) -> Result<String, LeagueMissing> {
        let files = ChildOutputFiles("version")
        defer { files.remove() }
        guard FileManager.default.createFile(atPath: files.out.path, contents: nil),
            FileManager.default.createFile(atPath: files.err.path, contents: nil),
            let out = FileHandle(forWritingAtPath: files.out.path),
            let err = FileHandle(forWritingAtPath: files.err.path)
        else { return .failure(LeagueMissing("cannot create temporary files to run \(python)")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, adapter, "--version"]
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            try process.run()
        } catch {
            return .failure(LeagueMissing("cannot start \(python): \(error)"))
        }
        if ended.wait(timeout: .now() + versionTimeout) == .timedOut {
            process.terminate()
            ended.wait()
            return .failure(
                LeagueMissing("`\(python) \(adapter) --version` did not finish in \(Int(versionTimeout)) s"))
        }
        try? out.close()
        try? err.close()
        let stdout = (try? String(contentsOf: files.out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: files.err, encoding: .utf8)) ?? ""
        let first = stdout.split(separator: "\n").first.map(String.init)
        if process.terminationStatus == 0, let first, !first.isEmpty { return .success(first) }
        let last = stderr.split(separator: "\n").last.map(String.init)
        return .failure(
            LeagueMissing("\(python) cannot load it: \(last ?? "exit status \(process.terminationStatus)")"))
    }
}

/// Why a library is not in the league.
struct LeagueMissing: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
