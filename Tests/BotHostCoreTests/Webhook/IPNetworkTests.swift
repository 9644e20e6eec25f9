import Testing

@testable import BotHostCore

@Suite struct IPNetworkTests {
    @Test func telegramsNetworksContainTheirAddressesOnly() throws {
        let network = try #require(IPNetwork("149.154.160.0/20"))

        #expect(network.contains("149.154.160.1"))
        #expect(network.contains("149.154.175.255"))
        #expect(!network.contains("149.154.176.0"))
        #expect(network.contains("::ffff:149.154.167.99"))
        #expect(!network.contains("2001:db8::1"))
        #expect(!network.contains("not an address"))
    }

    @Test func anAddressIsANetworkOfOneAndIPv6Works() throws {
        #expect(IPNetwork("127.0.0.1")?.contains("127.0.0.1") == true)
        #expect(IPNetwork("127.0.0.1")?.contains("127.0.0.2") == false)
        #expect(IPNetwork("2001:db8::/32")?.contains("2001:db8:ffff::1") == true)
        #expect(IPNetwork("2001:db8::/32")?.contains("2001:db9::1") == false)
        for bad in ["10.0.0.0/33", "10.0.0/8", "host.example.com", "10.0.0.0/", "::/129"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }
}
