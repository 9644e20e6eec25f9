import Crypto

/// The name of a bot's lock: the first 32 hex digits of SHA-256 of
/// `bothost-lock/v1:<bot id>`.
///
/// Built from the bot id alone, so every token string that names the same bot (a
/// revoked and a new secret, say) maps to the same lock, and the name reveals nothing
/// secret.
package struct LockID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 32 lowercase hex digits.
    package let hex: String

    package init(botID: String) {
        let digest = SHA256.hash(data: Array("bothost-lock/v1:\(botID)".utf8))
        self.hex = digest.prefix(16).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }

    /// A lock id read back from a lock file name; `nil` if `hex` is not 32 hex digits.
    package init?(hex: String) {
        guard hex.count == 32, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        self.hex = hex
    }

    /// The PostgreSQL advisory lock key: the first 8 bytes as a signed 64-bit integer.
    package var advisoryLockKey: Int64 {
        Int64(bitPattern: UInt64(hex.prefix(16), radix: 16)!)
    }

    package var description: String { hex }

    package static func < (lhs: LockID, rhs: LockID) -> Bool { lhs.hex < rhs.hex }
}
