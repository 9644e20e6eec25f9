/// How updates reach a bot (`ingress:`).
package enum IngressMode: String, Sendable, Hashable, CaseIterable {
    /// The bot long-polls `getUpdates`.
    case polling
    /// Telegram POSTs each update to the host's webhook listener.
    case webhook
}

/// The host's webhook listener and what each webhook bot asks Telegram for (`ingress:`).
///
/// One listener serves every webhook bot of the host, each at `public_url/<lock id>`:
/// the lock id names the bot without revealing its token.
package struct IngressSettings: Sendable, Hashable {
    /// The host's ingress; a bot's own `ingress:` wins.
    package var mode: IngressMode = .polling
    /// Where the listener binds (`listen: host:port`).
    package var host = "0.0.0.0"
    package var port = 8443
    /// The public base URL, without a trailing slash, that Telegram posts to.
    package var publicURL: String?
    /// `tls: { cert_file, key_file }`: the listener serves HTTPS itself; absent, plain
    /// HTTP behind a reverse proxy.
    package var tls: TLSFiles?
    /// `setWebhook`'s `max_connections` (1...100): deliveries Telegram makes at once per bot.
    package var maxConnections = 40
    /// Source networks allowed to deliver; empty: any.
    package var trustedNetworks: [IPNetwork] = []
    /// Reverse proxies whose `X-Forwarded-For` names the real source; empty: the header is
    /// never read.
    package var trustedProxies: [IPNetwork] = []

    package init() {}

    /// PEM files for HTTPS, resolved against the manifest's directory.
    package struct TLSFiles: Sendable, Hashable {
        package var certificateFile: String
        package var keyFile: String

        package init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// Whether `other` keeps the listener as it is (`listen`, `tls`, `trusted_networks`,
    /// `trusted_proxies`): those take effect only with a restart.
    package func hasSameListener(as other: IngressSettings) -> Bool {
        host == other.host && port == other.port && tls == other.tls && trustedNetworks == other.trustedNetworks
            && trustedProxies == other.trustedProxies
    }

    /// What `setWebhook` asks for `bot`, once `public_url` is known.
    package func registration(for bot: LockID) -> WebhookRegistration? {
        publicURL.map { WebhookRegistration(url: "\($0)/\(bot.hex)", maxConnections: maxConnections) }
    }
}

/// What a webhook bot's lock holder asks Telegram for with `setWebhook` (with the secret,
/// which is derived from the token when needed, and `allowed_updates` from `polling:`).
package struct WebhookRegistration: Sendable, Hashable {
    /// `public_url/<lock id>`.
    package var url: String
    package var maxConnections: Int
}
