#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a small text file that an operator pointed us at: the manifest or a token file.
///
/// Such a path can name anything: a directory, a FIFO that never ends, `/dev/zero`, a
/// binary, a log of gigabytes. The file is opened without blocking, must be a regular
/// file, and is refused past `maxBytes` before anything is parsed, so a wrong path costs
/// a clear message rather than a hang or all the memory.
enum TextFile {
    /// Why a file could not be read as text. The descriptions never quote the contents.
    enum ReadError: Error, Equatable, CustomStringConvertible {
        case missing
        case permissionDenied
        case directory
        case notRegularFile
        case tooLarge(maxBytes: Int)
        case binary
        case notUTF8
        case system(String)

        var description: String {
            switch self {
            case .missing: "no such file"
            case .permissionDenied: "permission denied"
            case .directory: "it is a directory, not a file"
            case .notRegularFile: "it is not a regular file"
            case .tooLarge(let maxBytes): "it is larger than \(Self.describe(bytes: maxBytes))"
            case .binary: "it is a binary file (it contains NUL bytes), not text"
            case .notUTF8: "it is not UTF-8 text"
            case .system(let reason): reason
            }
        }

        private static func describe(bytes: Int) -> String {
            bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes % (1 << 10) == 0 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
        }

        init(errno code: Int32) {
            switch code {
            case ENOENT, ENOTDIR: self = .missing
            case EACCES, EPERM: self = .permissionDenied
            case EISDIR: self = .directory
            default: self = .system(String(cString: strerror(code)))
            }
        }
    }

    static func contents(atPath path: String, maxBytes: Int) -> Result<String, ReadError> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(ReadError(errno: errno)) }
        defer { close(descriptor) }

        guard let status = FileStatus.of(descriptor: descriptor) else { return .failure(ReadError(errno: errno)) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(.directory)
        default: return .failure(.notRegularFile)
        }
        guard status.st_size <= maxBytes else { return .failure(.tooLarge(maxBytes: maxBytes)) }

        // The size can change between `fstat` and the reads: read one byte past the limit
        // to notice a file that grew.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= maxBytes {
            let count = chunk.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress, min(buffer.count, maxBytes + 1 - bytes.count))
            }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(errno: errno))
            }
            bytes += chunk[..<count]
        }
        guard bytes.count <= maxBytes else { return .failure(.tooLarge(maxBytes: maxBytes)) }
        guard !bytes.contains(0) else { return .failure(.binary) }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notUTF8) }
        return .success(text)
    }
}
