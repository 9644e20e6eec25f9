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
