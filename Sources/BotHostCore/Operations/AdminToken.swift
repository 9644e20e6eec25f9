import Crypto
import Foundation

/// The control API's bearer token, from `admin.token_file`.
///
/// Only its SHA-256 digest is kept, so that the token itself is in no value that a log
/// line, an error or a debugger could print; the description says only that it is set.
/// ``matches(_:)`` compares digests in constant time: neither the token's length nor how
/// much of a guess is right shows in the time an answer takes.
package struct AdminToken: Sendable, Hashable, CustomStringConvertible {
    /// Fewer characters than this are guessable over the network.
    static let minimumLength = 16

    private let digest: [UInt8]

    /// What is wrong with `secret` as a token, in words that do not quote it: too short, or
    /// a character that an HTTP header cannot carry (a line break inside, a control
    /// character, a letter outside ASCII). `nil` when it will do.
    static func problem(with secret: String) -> String? {
        if secret.isEmpty { return "is empty; the control API's token needs at least \(minimumLength)" }
        if secret.count < minimumLength {
            return "holds only \(secret.count) characters; the control API's token needs at least \(minimumLength)"
        }
        guard secret.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            return "holds a space, a line break, a control character or a letter outside ASCII inside the token; "
                + "an HTTP header cannot carry it"
        }
        return nil
    }

    init(_ secret: String) {
        digest = Self.digest(of: Substring(secret))
    }

    /// Whether `presented` (an `Authorization: Bearer` value) is the token.
    func matches(_ presented: Substring) -> Bool {
        zip(digest, Self.digest(of: presented)).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    package var description: String { "(admin token, not shown)" }

    private static func digest(of text: Substring) -> [UInt8] {
        Array(SHA256.hash(data: Data(text.utf8)))
    }
}
