import NIOCore

/// Reads a `multipart/form-data` body as it streams in: text parts are kept (up to a
/// limit), file parts only counted, so that an upload of any size costs the emulator a
/// chunk of memory, not the file.
struct MultipartReader {
    struct Part {
        var name = ""
        var fileName: String?
        var contentType: String?
        var text: [UInt8] = []
        var size = 0
    }

    /// The longest text part kept; a longer one keeps only its size.
    static let maxTextBytes = 1 << 20

    private let delimiter: [UInt8]
    private var pending: [UInt8]
    private var part: Part?
    private var finished = false
    private(set) var parts: [Part] = []

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter has no line break before it: pretend it has.
        pending = Array("\r\n".utf8)
    }

    /// The boundary of a `Content-Type: multipart/form-data; boundary=...` header.
    static func boundary(of contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \"") }
            if pair.count == 2, pair[0].lowercased() == "boundary" { return pair[1] }
        }
        return nil
    }

    mutating func consume(_ buffer: ByteBuffer) {
        guard !finished else { return }
        pending.append(contentsOf: buffer.readableBytesView)
        process()
    }

    private mutating func process() {
        while !finished {
            if part == nil {
                // Expecting a delimiter, then "--" (the end) or a line break and headers.
                guard let start = find(delimiter, from: 0) else { return }
                let after = start + delimiter.count
                guard pending.count >= after + 2 else { return }
                if pending[after] == UInt8(ascii: "-") && pending[after + 1] == UInt8(ascii: "-") {
                    finished = true
                    pending.removeAll()
                    return
                }
                guard let headersEnd = find(Array("\r\n\r\n".utf8), from: after) else { return }
                let headers = String(decoding: pending[(after + 2)..<headersEnd], as: UTF8.self)
                part = Self.part(headers: headers)
                pending.removeFirst(headersEnd + 4)
            } else if let end = find(delimiter, from: 0) {
                take(end)
                if let done = part { parts.append(done) }
                part = nil
            } else {
                // Everything but a possible start of the delimiter belongs to the part.
                let safe = pending.count - (delimiter.count - 1)
                if safe > 0 { take(safe) }
                return
            }
        }
    }

    /// Moves the first `count` pending bytes into the current part.
    private mutating func take(_ count: Int) {
        guard count > 0 else { return }
        part?.size += count
        if part?.fileName == nil, let kept = part?.text.count, kept + count <= Self.maxTextBytes {
            part?.text.append(contentsOf: pending[0..<count])
        }
        pending.removeFirst(count)
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard pending.count >= needle.count + start else { return nil }
        let first = needle[0]
        var index = start
        let last = pending.count - needle.count
        while index <= last {
            if pending[index] == first {
                var matched = true
                for offset in 1..<needle.count where pending[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    private static func part(headers: String) -> Part {
        var part = Part()
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = pair[1].trimmingCharacters(in: " ")
            switch pair[0].lowercased() {
            case "content-disposition":
                for item in value.split(separator: ";").dropFirst() {
                    let field = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \"") }
                    guard field.count == 2 else { continue }
                    if field[0] == "name" { part.name = field[1] }
                    if field[0] == "filename" { part.fileName = field[1] }
                }
            case "content-type":
                part.contentType = value
            default: break
            }
        }
        return part
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        return String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        Substring(self).trimmingCharacters(in: characters)
    }
}
