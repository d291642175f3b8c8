// Line input and buffered output for the filters (no Foundation needed).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads lines from a file or standard input.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool

    init(path: String?) throws {
        if let path, path != "-" {
            guard let f = fopen(path, "r") else { throw LineReaderError.cannotOpen }
            file = f
            ownsFile = true
        } else {
            guard let f = fdopen(STDIN_FILENO, "r") else { throw LineReaderError.cannotOpen }
            file = f
            ownsFile = false
        }
    }

    deinit { if ownsFile { fclose(file) } }

    /// The next line without its newline (`\n` or `\r\n`), or nil at the end of input. Every byte is kept:
    /// a NUL stays in the line, where the parser refuses it, rather than ending it early.
    func nextLine() -> String? {
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        let length = getline(&buffer, &capacity, file)
        defer { free(buffer) }
        guard length >= 0, let buffer else { return nil }
        var bytes = UnsafeRawBufferPointer(start: buffer, count: length).bindMemory(to: UInt8.self)[...]
        if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

enum LineReaderError: Error { case cannotOpen }

/// Buffers standard output and writes it in large blocks.
final class OutputBuffer {
    private var pending: [UInt8] = []

    func write(_ line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(10)
        if pending.count >= 1 << 16 { flush() }
    }

    func flush() {
        writeAll(STDOUT_FILENO, pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// Writes one line to standard error.
func printError(_ message: String, newline: Bool = true) {
    writeAll(STDERR_FILENO, Array((message + (newline ? "\n" : "")).utf8))
}

/// Writes every byte to a file descriptor (retrying short writes; gives up on an error such as a
/// closed pipe).
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
