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

    /// The errno of a read that failed (a directory, an I/O error), which ended the input early.
    private(set) var readError: Int32? = nil

    /// The next line without its newline (`\n` or `\r\n`), or nil at the end of input or after a read
    /// error (`readError`). Every byte is kept: a NUL stays in the line, where the parser refuses it, rather
    /// than ending it early.
    func nextLine() -> String? {
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        guard readError == nil else { return nil }
        errno = 0
        let length = getline(&buffer, &capacity, file)
        let error = errno
        defer { free(buffer) }
        guard length >= 0, let buffer else {
            // Not the end of the input: a failed read, or getline's own failure (ENOMEM, EOVERFLOW).
            if feof(file) == 0 { readError = error == 0 ? EIO : error }
            return nil
        }
        if ferror(file) != 0 && buffer[length - 1] != 10 {
            // A read failed after part of a line: that part is not a row anybody sent.
            readError = error == 0 ? EIO : error
            return nil
        }
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
    /// The errno of the first write that failed (a full disk, a closed pipe); later output is dropped.
    private(set) var writeError: Int32? = nil

    func write(_ line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(10)
        if pending.count >= 1 << 16 { flush() }
    }

    func flush() {
        if writeError == nil { writeError = writeAll(STDOUT_FILENO, pending) }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Writes one line to standard error.
func printError(_ message: String, newline: Bool = true) {
    writeAll(STDERR_FILENO, Array((message + (newline ? "\n" : "")).utf8))
}

/// Writes every byte to a file descriptor, retrying interrupted and short writes; the errno of a
/// failure (a full disk, a closed pipe), nil when all was written.
@discardableResult
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return written < 0 ? errno : EIO }
            offset += written
        }
        return nil
    }
}

/// The system's sentence for an errno.
func systemMessage(_ error: Int32) -> String { String(cString: strerror(error)) }
