import Foundation
import Yams

enum IngressKey: String, ManifestKey {
    case mode
    case listen
    case publicURL = "public_url"
    case tls
    case maxConnections = "max_connections"
    case trustedNetworks = "trusted_networks"
    case trustedProxies = "trusted_proxies"
}

enum TLSKey: String, ManifestKey {
    case certFile = "cert_file"
    case keyFile = "key_file"
}

/// `ingress:`: the host's webhook listener, and how its bots get their updates.
extension ManifestLoader {
    /// The ports Telegram posts webhooks to.
    static let webhookPorts: Set<Int> = [443, 80, 88, 8443]

    /// `ingress: { mode, listen, public_url, tls, max_connections, trusted_networks,
    /// trusted_proxies }`. A URL is never quoted back: a mistaken one may hold a token.
    func ingressSettings(_ value: ManifestNode, apiURL: APIEndpoint) -> IngressSettings {
        var ingress = IngressSettings()
        guard let fields = reader.fields(of: value, as: IngressKey.self) else { return ingress }
        if let mode = fields[.mode].flatMap({ reader.choice($0, of: IngressMode.self) }) {
            ingress.mode = mode
        }
        if let listen = fields[.listen].flatMap({ listenAddress($0, example: "0.0.0.0:8443") }) {
            ingress.host = listen.host
            ingress.port = listen.port
        }
        if let node = fields[.publicURL] {
            ingress.publicURL = publicURL(node, apiURL: apiURL)
        }
        if let tls = fields[.tls].flatMap({ reader.fields(of: $0, as: TLSKey.self) }) {
            let certificate = tls[.certFile].flatMap(path)
            let key = tls[.keyFile].flatMap(path)
            for missing in [TLSKey.certFile, .keyFile] where tls[missing] == nil {
                reader.reportMissing(missing, in: tls.mapping)
            }
            if let certificate, let key { ingress.tls = .init(certificateFile: certificate, keyFile: key) }
        }
        if let connections = fields[.maxConnections].flatMap({ reader.integer($0, in: 1...100) }) {
            ingress.maxConnections = connections
        }
        ingress.trustedNetworks = fields[.trustedNetworks].flatMap(networks) ?? []
        ingress.trustedProxies = fields[.trustedProxies].flatMap(networks) ?? []
        return ingress
    }

    /// Webhook bots need the host's `public_url`: said once, at `ingress:` or the top level.
    func reportMissingPublicURL(
        _ ingress: IngressSettings, bots: [BotConfiguration], ingressNode: ManifestNode?, root: ManifestNode
    ) {
        guard ingress.publicURL == nil, let bot = bots.first(where: { $0.ingress == .webhook }) else { return }
        if let ingressNode, case .mapping(let mapping) = ingressNode.node, mapping["public_url"] != nil { return }
        reader.report(
            "bot '\(bot.name)' uses ingress: webhook, which needs ingress: { public_url: https://... } (where Telegram posts updates)",
            at: ingressNode ?? root)
    }

    /// An `http`/`https` URL with a host, no query, fragment or trailing slash. With
    /// Telegram's own server: `https` on a port Telegram posts to (443, 80, 88, 8443).
    private func publicURL(_ value: ManifestNode, apiURL: APIEndpoint) -> String? {
        guard let text = reader.string(value) else { return nil }
        let expected = "expected the https:// URL that Telegram posts to, such as https://bots.example.com/tg"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.query == nil, components.fragment == nil
        else {
            reader.report("\(expected); without user, password, query or fragment", at: value)
            return nil
        }
        if apiURL == .telegram {
            guard scheme == "https" else {
                reader.report("Telegram posts webhooks over https only", at: value)
                return nil
            }
            let port = components.port ?? 443
            guard Self.webhookPorts.contains(port) else {
                reader.report("Telegram posts webhooks only to ports 443, 80, 88 and 8443, not \(port)", at: value)
                return nil
            }
        }
        var url = Substring(text)
        while url.hasSuffix("/") { url = url.dropLast() }
        return String(url)
    }

    /// A list of networks in CIDR notation, such as `149.154.160.0/20`.
    private func networks(_ value: ManifestNode) -> [IPNetwork]? {
        guard let elements = reader.list(value) else { return nil }
        let networks = elements.map { element -> IPNetwork? in
            guard let text = reader.string(element) else { return nil }
            guard let network = IPNetwork(text) else {
                reader.reportMismatch(expected: "an address or network such as 149.154.160.0/20 or 2001:db8::/32", at: element)
                return nil
            }
            return network
        }
        return networks.contains(nil) ? nil : networks.compactMap { $0 }
    }
}
