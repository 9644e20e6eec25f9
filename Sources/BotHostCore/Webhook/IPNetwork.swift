import Glibc

/// An IPv4 or IPv6 network in CIDR notation (`149.154.160.0/20`, `2001:db8::/32`); a bare
/// address is a network of one.
package struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's address bytes (4 or 16) and the number of leading bits that count.
    private let bytes: [UInt8]
    private let prefixLength: Int
    package let description: String

    /// `nil` when `text` is no address or network.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let bytes = Self.address(String(parts[0])) else { return nil }
        let length: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...bytes.count * 8).contains(parsed), parts[1].allSatisfy(\.isNumber)
            else { return nil }
            length = parsed
        } else {
            length = bytes.count * 8
        }
        self.bytes = bytes
        self.prefixLength = length
        self.description = text
    }

    /// Whether `address` (as text, IPv4 or IPv6; an IPv4-mapped IPv6 address counts as its
    /// IPv4 address) lies in the network.
    package func contains(_ address: String) -> Bool {
        guard var other = Self.address(address) else { return false }
        if other.count == 16, bytes.count == 4, other[0..<10].allSatisfy({ $0 == 0 }), other[10] == 0xff, other[11] == 0xff {
            other = Array(other[12...])
        }
        guard other.count == bytes.count else { return false }
        var remaining = prefixLength
        for (mine, theirs) in zip(bytes, other) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            guard mine & mask == theirs & mask else { return false }
            remaining -= 8
        }
        return true
    }

    /// The address's bytes: 4 for IPv4, 16 for IPv6; `nil` for anything else.
    private static func address(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
