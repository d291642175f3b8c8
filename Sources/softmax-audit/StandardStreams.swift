// Line input and buffered output for the filters (no Foundation needed).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Audit
import Formats

/// Reads lines from a file or standard input in large blocks, and hands each out as bytes: memory is the
/// longest line (twice at most), never the file.
final class LineReader {
    private let fd: Int32
    private let ownsFile: Bool
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0  // the unread bytes are start..<end
    private var end = 0
    private var atEnd = false

    /// The size of one read, and of the buffer until a line needs more.
    static let blockSize = 1 << 16

    /// Reads an open descriptor (not closed here).
    init(descriptor: Int32) {
        fd = descriptor
        ownsFile = false
        buffer = .allocate(byteCount: Self.blockSize, alignment: 16)
    }

    init(path: String?) throws {
        if let path, path != "-" {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw LineReaderError.cannotOpen }
            ownsFile = true
        } else {
            fd = STDIN_FILENO
            ownsFile = false
        }
        buffer = .allocate(byteCount: Self.blockSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if ownsFile { close(fd) }
    }

    /// The errno of a read that failed (a directory, an I/O error), which ended the input early.
    private(set) var readError: Int32? = nil

    /// Whether a whole line is already read, so that `nextLine` returns it without waiting for input.
    var lineBuffered: Bool {
        guard start < end else { return false }
        return memchr(buffer.baseAddress! + start, Int32(UInt8(ascii: "\n")), end - start) != nil
    }

    /// The next line without its newline, valid until the next call; nil at the end of input
    /// or after a read error (`readError`), when a partial line is dropped: nobody sent it as a row. Every
    /// byte is kept: a NUL stays in the line, where the parser refuses it, rather than ending it early.
    func nextLine() -> LineBytes? {
        guard readError == nil else { return nil }
        var scanned = start
        while true {
            let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if let newline = memchr(base + scanned, Int32(UInt8(ascii: "\n")), end - scanned) {
                let lineEnd = newline.assumingMemoryBound(to: UInt8.self) - base
                defer { start = lineEnd + 1 }
                return line(start..<lineEnd)
            }
            scanned = end
            if atEnd {
                guard start < end else { return nil }
                defer { start = end }
                return line(start..<end)
            }
            if start > 0 {
                memmove(base, base + start, end - start)
                (scanned, end, start) = (scanned - start, end - start, 0)
            }
            if end == buffer.count {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * buffer.count, alignment: 16)
                larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[..<end]))
                buffer.deallocate()
                buffer = larger
            }
            let count = read(fd, buffer.baseAddress! + end, buffer.count - end)
            if count < 0 {
                if errno == EINTR { continue }
                readError = errno
                return nil
            }
            if count == 0 { atEnd = true } else { end += count }
        }
    }

    /// The line's bytes; a CRLF line keeps its CR, which the parser drops (one, so that a second CR before the
    /// newline is refused as a CR inside the line).
    private func line(_ range: Range<Int>) -> LineBytes {
        UnsafeBufferPointer(buffer.bindMemory(to: UInt8.self))[range]
    }
}

enum LineReaderError: Error { case cannotOpen }

/// Buffers standard output and writes it in large blocks.
final class OutputBuffer {
    private let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    private var count = 0
    /// The errno of the first write that failed (a full disk, a closed pipe); later output is dropped.
    private(set) var writeError: Int32? = nil

    /// A block, and room for the value being written when it fills.
    private static let capacity = LineReader.blockSize + Binary64.hexLength + 1
    /// Where the output goes: standard output unless told otherwise.
    private let descriptor: Int32

    init(descriptor: Int32 = STDOUT_FILENO) { self.descriptor = descriptor }

    deinit { buffer.deallocate() }

    func write(_ line: String) {
        for byte in line.utf8 { put(byte) }
        put(10)
    }

    /// Writes values as one line of hexadecimal floats (`Binary64.hexString`), straight from their bits.
    func writeHex(_ values: some Sequence<Double>) {
        var first = true
        for value in values {
            if !first { put(UInt8(ascii: " ")) }
            first = false
            count += Binary64.writeHex(value, to: buffer + count)
            if count >= LineReader.blockSize { flush() }
        }
        put(10)
    }

    @inline(__always)
    private func put(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
        if count >= LineReader.blockSize { flush() }
    }

    func flush() {
        if writeError == nil {
            writeError = writeAll(descriptor, UnsafeRawBufferPointer(start: buffer, count: count))
        }
        count = 0
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
    bytes.withUnsafeBytes { writeAll(fd, $0) }
}

/// Writes every byte of a buffer to a file descriptor (as `writeAll(_:_:)` does an array's).
@discardableResult
func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < buffer.count {
        let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return written < 0 ? errno : EIO }
        offset += written
    }
    return nil
}

/// The system's sentence for an errno.
func systemMessage(_ error: Int32) -> String { String(cString: strerror(error)) }
