// Writing the commands' files: whole or not at all.
import Foundation

/// Appends text to a file (GitHub's step summary), creating it if needed; a failure is reported, not fatal.
func appendToFile(_ text: String, path: String) {
    guard
        let handle = FileHandle(forWritingAtPath: path)
            ?? {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                return FileHandle(forWritingAtPath: path)
            }()
    else {
        printError("softmax-audit: cannot append the summary to '\(path)'.")
        return
    }
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
    handle.closeFile()
}

/// Writes a file through a temporary beside it and a rename, so a reader never sees half a report.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    try Data(text.utf8).write(to: temporary)
    if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
    try FileManager.default.moveItem(at: temporary, to: url)
}
