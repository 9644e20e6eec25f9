import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// One call being put together: its parameters as JSON and the local files it uploads.
/// The generated methods of ``BotAPIClient`` fill one and hand it to
/// ``BotAPIClient/send(_:as:)``; so can a caller, for a method this version does not know.
public struct BotAPIRequest: Sendable {
    public let method: String
    public private(set) var parameters: [String: JSONValue] = [:]
    public private(set) var files = InputFileAttachments()

    public init(method: String) {
        self.method = method
    }

    /// Sets parameter `name` (its wire name, `chat_id`); `nil` leaves it out. Local files
    /// inside `value` (the media of an album) are attached and referred to as
    /// `attach://<name>`.
    @inline(never)
    public mutating func add<Value: JSONValueEncodable>(_ name: String, _ value: Value?) {
        guard let value else { return }
        parameters[name] = value.encodeJSON(into: &files)
    }

    /// Sets a file parameter: a `file_id` or URL as text, a local file as a part of its
    /// own named `name`.
    @inline(never)
    public mutating func addFile(_ name: String, _ file: InputFile?) {
        switch file {
        case nil: return
        case .fileID(let text), .url(let text): parameters[name] = .string(text)
        case let file?: files.attach(file, as: name)
        }
    }
}

extension InputFile {
    /// A local file that cannot be read for an upload.
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot read \(path) to upload it: \(reason)" }
    }
}

/// A `multipart/form-data` body: text parts for the parameters, then one part per file,
/// streamed (a file on disk is read 64 KiB at a time as the connection takes it, never
/// whole into memory). The length is known up front, so the body goes with a
/// `Content-Length`, which Telegram wants.
struct MultipartForm: Sendable {
    private enum Content: Sendable {
        case bytes(ByteBuffer)
        case file(path: String, size: Int64)
    }

    let boundary: String
    private let parts: [Content]
    let contentLength: Int64

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Throws ``InputFile/ReadError`` for a file that cannot be read.
    init(parameters: [String: JSONValue], files: [(name: String, file: InputFile)]) throws {
        boundary = "bothost-" + UUID().uuidString
        var parts: [Content] = []
        var head = ByteBuffer()
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            head.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n")
            switch value {
            case .string(let text): head.writeString(text)
            default: value.write(to: &head)
            }
            head.writeString("\r\n")
        }
        for (name, file) in files {
            head.writeString(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"; "
                    + "filename=\"\(Self.quoted(file.fileName))\"\r\nContent-Type: \(file.contentType)\r\n\r\n")
            switch file {
            case .bytes(let data, _, _):
                head.writeBytes(data)
            case .path(let path, _, _):
                parts.append(.bytes(head))
                head = ByteBuffer()
                parts.append(.file(path: path, size: try Self.size(of: path)))
            case .fileID(let text), .url(let text):
                head.writeString(text)
            }
            head.writeString("\r\n")
        }
        head.writeString("--\(boundary)--\r\n")
        parts.append(.bytes(head))
        self.parts = parts
        contentLength = parts.reduce(0) { total, part in
            switch part {
            case .bytes(let buffer): total + Int64(buffer.readableBytes)
            case .file(_, let size): total + size
            }
        }
    }

    private static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// The size of the regular file at `path`, through any symbolic links: a link's own
    /// size would send its target's name as the file, and a directory would never end.
    private static func size(of path: String) throws -> Int64 {
        do {
            let attributes = try FileManager.default.attributesOfItem(
                atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw InputFile.ReadError(path: path, reason: "it is not a regular file")
            }
            guard let size = (attributes[.size] as? NSNumber)?.int64Value else {
                throw InputFile.ReadError(path: path, reason: "no size")
            }
            return size
        } catch let error as InputFile.ReadError {
            throw error
        } catch {
            throw InputFile.ReadError(path: path, reason: "\((error as NSError).localizedDescription)")
        }
    }

    static let chunkSize = 64 * 1024

    /// The body, written part after part; each write waits until the connection took the
    /// previous one, so at most a chunk or two of a file is in memory at a time.
    func body() -> HTTPClient.Body {
        let parts = self.parts
        return .stream(contentLength: contentLength) { writer in
            guard case .bytes(let first) = parts.first else { preconditionFailure("a form starts with text") }
            let started = writer.write(.byteBuffer(first))
            let done = started.eventLoop.makePromise(of: Void.self)
            done.completeWithTask {
                try await started.get()
                for part in parts.dropFirst() {
                    switch part {
                    case .bytes(let buffer):
                        try await writer.write(.byteBuffer(buffer)).get()
                    case .file(let path, let size):
                        try await Self.stream(path: path, size: size, to: writer)
                    }
                }
            }
            return done.futureResult
        }
    }

    /// Writes exactly `size` bytes of the file (its size when the form was made).
    private static func stream(path: String, size: Int64, to writer: HTTPClient.Body.StreamWriter) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputFile.ReadError(path: path, reason: "cannot open it")
        }
        defer { try? handle.close() }
        var left = size
        while left > 0 {
            let data = try handle.read(upToCount: Int(min(Int64(chunkSize), left))) ?? Data()
            guard !data.isEmpty else { throw InputFile.ReadError(path: path, reason: "it got shorter while it was sent") }
            left -= Int64(data.count)
            try await writer.write(.byteBuffer(ByteBuffer(data: data))).get()
        }
    }
}
