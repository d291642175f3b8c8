// A worker's command line as a shell runs a simple command: leading NAME=value words set the
// environment, the first other word is the program (searched in PATH unless it contains a slash), and
// a file that is not an executable format (a script without a #! line) runs under /bin/sh. The words
// arrive already split by the user's shell, so a quoted word such as "/tmp/a=b/w.sh" is not an
// assignment: NAME must be a shell name ([A-Za-z_][A-Za-z0-9_]*).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct WorkerCommand {
    /// The program's path, its arguments (argv[0] included) and the environment's additions.
    let path: String
    let arguments: [String]
    let assignments: [(name: String, value: String)]

    /// The shell every script without a #! line runs under.
    static let shell = "/bin/sh"

    /// PATH when the environment has none (POSIX's default for a search).
    static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// Resolves `words`; throws a sentence naming the word when there is no program to run.
    init(_ words: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var assignments: [(String, String)] = []
        var rest = words[...]
        while let word = rest.first, let (name, value) = Self.assignment(word) {
            assignments.append((name, value))
            rest = rest.dropFirst()
        }
        guard let program = rest.first else {
            throw WorkerProcessError.cannotStart("the command sets variables but names no program")
        }
        var searchPath = environment["PATH"] ?? Self.defaultSearchPath
        if let set = assignments.last(where: { $0.0 == "PATH" }) { searchPath = set.1 }
        guard let path = Self.locate(program, in: searchPath) else {
            throw WorkerProcessError.cannotStart(
                program.contains("/")
                    ? "'\(program)' is not an executable file" : "'\(program)' is not a program in PATH"
            )
        }
        self.path = path
        arguments = Array(rest)
        self.assignments = assignments
    }

    /// NAME=value, with NAME a shell name.
    private static func assignment(_ word: String) -> (String, String)? {
        guard let equals = word.firstIndex(of: "=") else { return nil }
        let name = word[..<equals]
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
            name.unicodeScalars.allSatisfy({
                $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0)
            })
        else { return nil }
        return (String(name), String(word[word.index(after: equals)...]))
    }

    /// The executable file `program` names: itself when it contains a slash, else the first in PATH.
    private static func locate(_ program: String, in searchPath: String) -> String? {
        if program.contains("/") { return isExecutableFile(program) ? program : nil }
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return access(path, X_OK) == 0 && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The environment the program starts with: this process's, with the assignments applied.
    var environment: [String] {
        var entries = ProcessInfo.processInfo.environment
        for (name, value) in assignments { entries[name] = value }
        return entries.map { "\($0.key)=\($0.value)" }.sorted()
    }
}
