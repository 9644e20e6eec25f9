import BotHostKit
import Foundation
import Yams

enum SandboxKey: String, ManifestKey {
    case users
    case messagesPerMinute = "messages_per_minute"
}

enum ShutdownKey: String, ManifestKey {
    case timeout
    case hookTimeout = "hook_timeout"
    case drainTimeout = "drain_timeout"
}

enum AdminKey: String, ManifestKey {
    case listen
    case tokenFile = "token_file"
}

enum IsolationKey: String, ManifestKey {
    case mode
    case workers
    case restart
}

enum RestartKey: String, ManifestKey {
    case intensity
    case period
}

/// The settings of the host as a whole: `api_url`, `sandbox`, `shutdown`, `admin`.
extension ManifestLoader {
    /// `sandbox`, or an `http`/`https` URL with a host and without a trailing slash. A URL
    /// is never quoted back: a mistaken one may hold a token (`…/bot123:ABC`).
    func apiEndpoint(_ value: ManifestNode) -> APIEndpoint? {
        guard let text = reader.string(value) else { return nil }
        if text == APIEndpoint.sandbox.description { return .sandbox }
        let expected = "expected sandbox or an http:// or https:// URL with a host, such as https://api.telegram.org"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else {
            reader.report(expected, at: value)
            return nil
        }
        guard components.user == nil, components.password == nil, components.query == nil, components.fragment == nil else {
            reader.report("\(expected); without user, password, query or fragment", at: value)
            return nil
        }
        guard !components.path.contains(":") else {
            reader.report(
                "expected the server's base URL, without /bot<token>: the token goes under token, token_env or token_file",
                at: value
            )
            return nil
        }
        var url = Substring(text)
        while url.hasSuffix("/") { url = url.dropLast() }
        return .url(String(url))
    }

    func sandboxSettings(_ value: ManifestNode) -> SandboxSettings {
        var sandbox = SandboxSettings()
        guard let fields = reader.fields(of: value, as: SandboxKey.self) else { return sandbox }
        if let users = fields[.users].flatMap({ reader.integer($0, in: 1...Int.max) }) {
            sandbox.users = users
        }
        if let rate = fields[.messagesPerMinute].flatMap({ reader.integer($0, in: 0...Int.max) }) {
            sandbox.messagesPerMinute = rate
        }
        return sandbox
    }

    func shutdownSettings(_ value: ManifestNode) -> ShutdownSettings {
        var shutdown = ShutdownSettings()
        guard let fields = reader.fields(of: value, as: ShutdownKey.self) else { return shutdown }
        let positive = Duration.milliseconds(1)...DurationSyntax.longest
        if let timeout = fields[.timeout].flatMap({ reader.duration($0, in: positive) }) {
            shutdown.timeout = timeout
        }
        if let hookTimeout = fields[.hookTimeout].flatMap({ reader.duration($0, in: positive) }) {
            shutdown.hookTimeout = hookTimeout
        }
        if let drainTimeout = fields[.drainTimeout].flatMap({ reader.duration($0) }) {
            shutdown.drainTimeout = drainTimeout
        }
        return shutdown
    }

    static let onlyWithWorkers = "applies only to worker processes, which isolation mode none turns off"

    /// `isolated: true` asks for a worker process of its own, which `mode: none` never
    /// starts: said, rather than ignored.
    func reportIsolatedBots(defaults: ManifestNode?, bots: ManifestNode?) {
        var entries: [ManifestNode] = defaults.map { [$0] } ?? []
        if let bots, case .sequence(let list) = bots.node {
            entries += list.enumerated().map { index, entry in bots.element(index, entry) }
        }
        for entry in entries {
            guard case .mapping(let mapping) = entry.node, let value = mapping["isolated"], value.bool == true else { continue }
            reader.report(Self.onlyWithWorkers, at: entry.child("isolated", value))
        }
    }

    /// `isolation: { mode, workers, restart: { intensity, period } }`.
    func isolationSettings(_ value: ManifestNode) -> IsolationSettings {
        var isolation = IsolationSettings()
        guard let fields = reader.fields(of: value, as: IsolationKey.self) else { return isolation }
        if let mode = fields[.mode].flatMap({ reader.choice($0, of: IsolationSettings.Mode.self) }) {
            isolation.mode = mode
        }
        if let workers = fields[.workers].flatMap({ reader.integer($0, in: 1...1024) }) {
            isolation.workers = workers
        }
        if isolation.mode == .none {
            for key in [IsolationKey.workers, .restart] {
                if let node = fields[key] { reader.report(Self.onlyWithWorkers, at: node) }
            }
        }
        if let restart = fields[.restart].flatMap({ reader.fields(of: $0, as: RestartKey.self) }) {
            if let intensity = restart[.intensity].flatMap({ reader.integer($0, in: 0...Int.max) }) {
                isolation.restartIntensity = intensity
            }
            if let period = restart[.period].flatMap({ reader.duration($0, in: .milliseconds(1)...DurationSyntax.longest) }) {
                isolation.restartPeriod = period
            }
        }
        return isolation
    }

    /// `admin: { listen: host:port, token_file: path }`; the host may be a bracketed IPv6
    /// address.
    func adminSettings(_ value: ManifestNode) -> AdminSettings? {
        guard let fields = reader.fields(of: value, as: AdminKey.self) else { return nil }
        guard let listenNode = fields[.listen] else {
            reader.reportMissing(AdminKey.listen, in: value)
            return nil
        }
        guard let (host, port) = listenAddress(listenNode, example: "127.0.0.1:9464") else { return nil }
        var settings = AdminSettings(host: host, port: port)
        if let tokenFileNode = fields[.tokenFile] {
            guard let path = reader.string(tokenFileNode) else { return nil }
            guard !path.isEmpty else {
                reader.report("expected the path of a file that holds the control API's token", at: tokenFileNode)
                return nil
            }
            settings.tokenFile = resolvePath(path)
            switch adminToken(in: resolvePath(path), at: tokenFileNode) {
            case .token(let token): settings.token = token
            case .unavailable(let note): settings.unavailableToken = note
            case nil: break
            }
        }
        return settings
    }

    /// The token in `path`, surrounding whitespace trimmed: at least
    /// ``AdminToken/minimumLength`` characters, all visible ASCII (it travels in an HTTP
    /// header). A file that is missing or unreadable here is a problem when secrets are
    /// required, else a note. `nil` when a problem was reported. No message quotes the file.
    private func adminToken(in path: String, at node: ManifestNode) -> AdminTokenReading? {
        let contents: String
        switch TextFile.contents(atPath: path, maxBytes: Self.maxTokenFileSize) {
        case .success(let text):
            contents = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case .failure(let error) where secrets == .optional && (error == .missing || error == .permissionDenied):
            let message = "cannot read token file \(path) here: \(error)"
            return .unavailable(ManifestProblem(location: reader.location(of: node.node), path: node.path, message: message))
        case .failure(let error):
            reader.report("cannot read token file \(path): \(error)", at: node)
            return nil
        }
        if let problem = AdminToken.problem(with: contents) {
            reader.report("token file \(path) \(problem); make one with: openssl rand -hex 32 > \(path)", at: node)
            return nil
        }
        return .token(AdminToken(contents))
    }

    private enum AdminTokenReading {
        case token(AdminToken)
        /// Not on this machine; the note says why.
        case unavailable(ManifestProblem)
    }

    /// `host:port` (`listen:`), the host possibly a bracketed IPv6 address; `example` shows
    /// the form in the message when it is not that.
    func listenAddress(_ node: ManifestNode, example: String) -> (host: String, port: Int)? {
        guard let listen = reader.string(node) else { return nil }
        guard let (host, portText) = Self.splitHostPort(listen), !host.isEmpty, !portText.isEmpty,
            portText.allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            reader.reportMismatch(expected: "host:port, such as \(example)", at: node)
            return nil
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            reader.report("the port must be between 0 and 65535", at: node)
            return nil
        }
        return (host, port)
    }

    /// `("::1", "9464")` for `[::1]:9464`, `("0.0.0.0", "80")` for `0.0.0.0:80`.
    private static func splitHostPort(_ text: String) -> (host: String, port: Substring)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            return (String(text[text.index(after: text.startIndex)..<close]), text[text.index(close, offsetBy: 2)...])
        }
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
        return (String(text[..<colon]), text[text.index(after: colon)...])
    }
}
