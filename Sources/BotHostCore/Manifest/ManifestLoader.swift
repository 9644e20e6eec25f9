import BotHostKit
import Yams

/// The top-level keys of a version 1 manifest.
enum TopLevelKey: String, ManifestKey {
    case version
    case apiURL = "api_url"
    case lock
    case stateDir = "state_dir"
    case onLocked = "on_locked"
    case maxBots = "max_bots"
    case sandbox
    case shutdown
    case admin
    case isolation
    case ingress
    case defaults
    case bots
}

/// Builds a ``Manifest`` from a composed YAML tree: reads every key, resolves tokens,
/// applies `defaults:` and checks the rules that span several keys.
///
/// Each section lives in its own `ManifestLoader+*.swift` file. Problems go to
/// ``reader``; reading goes on past them, with built-in defaults standing in for values
/// that were wrong, so that every problem of the file is found in one pass.
struct ManifestLoader {
    static let supportedVersion = 1

    let reader: ManifestReader
    let baseDirectory: String
    let environment: [String: String]
    let plugins: Set<String>
    var secrets: SecretsPolicy = .required

    /// The manifest, or `nil` when it has problems (`reader.problems`).
    func manifest(from root: Node) -> Manifest? {
        let rootNode = ManifestNode.root(root)
        guard case .mapping(let mapping) = root else {
            reader.report(
                "the top level must be a mapping of keys such as version and bots, found \(ManifestReader.describe(root))",
                at: rootNode
            )
            return nil
        }
        let versionKey = TopLevelKey.version.rawValue
        guard readsVersion(mapping[versionKey].map { rootNode.child(versionKey, $0) }, in: rootNode),
            let fields = reader.fields(of: rootNode, as: TopLevelKey.self)
        else { return nil }

        let apiURL = fields[.apiURL].flatMap(apiEndpoint) ?? .telegram
        let ingress = fields[.ingress].map { ingressSettings($0, apiURL: apiURL) } ?? IngressSettings()
        var defaults = fields[.defaults].map(defaultOverrides) ?? BotOverrides()
        if defaults.ingress == nil { defaults.ingress = ingress.mode }
        var bots: [BotConfiguration] = []
        if let botsNode = fields[.bots] {
            bots = self.bots(botsNode, defaults: defaults, apiURL: apiURL)
        } else {
            reader.reportMissing(TopLevelKey.bots, in: rootNode)
        }
        // Checked only while all is well so far: a bot that failed to load may be the sandbox one.
        if let sandboxNode = fields[.sandbox], reader.problems.isEmpty, apiURL != .sandbox,
            !bots.contains(where: { $0.apiURL == .sandbox })
        {
            reader.report("applies only with api_url: sandbox, which neither the manifest nor any bot sets", at: sandboxNode)
        }
        reportMissingPublicURL(ingress, bots: bots, ingressNode: fields[.ingress], root: rootNode)
        for index in bots.indices where bots[index].ingress == .webhook {
            bots[index].webhook = ingress.registration(for: bots[index].lockID)
        }
        let isolation = fields[.isolation].map(isolationSettings) ?? IsolationSettings()
        if isolation.mode == .none { reportIsolatedBots(defaults: fields[.defaults], bots: fields[.bots]) }
        let manifest = Manifest(
            file: reader.file,
            apiURL: apiURL,
            lock: fields[.lock].map(lockSettings) ?? defaultLock,
            stateDirectory: fields[.stateDir].flatMap(path) ?? defaultStateDirectory,
            onLocked: fields[.onLocked].flatMap { reader.choice($0, of: OnLocked.self) } ?? .fail,
            maxBots: fields[.maxBots].flatMap { reader.integer($0, in: 0...Int.max) }.flatMap { $0 == 0 ? nil : $0 },
            sandbox: fields[.sandbox].map(sandboxSettings) ?? SandboxSettings(),
            shutdown: fields[.shutdown].map(shutdownSettings) ?? ShutdownSettings(),
            admin: fields[.admin].flatMap(adminSettings),
            isolation: isolation,
            ingress: ingress,
            bots: bots
        )
        return reader.problems.isEmpty ? manifest : nil
    }

    /// Whether the rest of the file can be read: `version` is 1, or missing or malformed
    /// (reported). A later version is not read any further: its keys may mean other things.
    private func readsVersion(_ versionNode: ManifestNode?, in root: ManifestNode) -> Bool {
        guard let versionNode else {
            reader.reportMissing(TopLevelKey.version, in: root)
            return true
        }
        guard let version = reader.integer(versionNode, in: Int.min...Int.max) else { return true }
        guard version == Self.supportedVersion else {
            reader.report("unsupported version \(version); this BotHost reads version \(Self.supportedVersion)", at: versionNode)
            return false
        }
        return true
    }

    /// `path` as written when absolute, otherwise relative to the manifest's directory.
    func resolvePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
    }
}
