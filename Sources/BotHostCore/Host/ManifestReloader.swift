import Logging

/// Reads the manifest again and applies it to the running host: on SIGHUP and on
/// `POST /reload`, one reload at a time, in the order asked.
///
/// An invalid manifest changes nothing: its problems are logged (and answered), and the
/// running bots are kept.
actor ManifestReloader {
    /// What one reload did.
    enum Outcome: Sendable {
        case applied(ReloadSummary)
        /// The manifest has problems; nothing changed.
        case invalid([ManifestProblem])
        /// The host is stopping: nothing changed.
        case stopping
    }

    private let host: Host
    private let read: @Sendable () throws(ManifestError) -> Manifest
    private let logger: Logger
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(host: Host, read: @escaping @Sendable () throws(ManifestError) -> Manifest, logger: Logger) {
        self.host = host
        self.read = read
        self.logger = logger
    }

    /// Reloads once the reloads asked before have ended; `cause` says who asked, for the
    /// log: `SIGHUP`, `POST /reload from 127.0.0.1:50412`.
    func reload(cause: String) async -> Outcome {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        logger.info("reload: \(cause), reading \(host.manifest.file)")
        let manifest: Manifest
        do {
            manifest = try read()
        } catch {
            for problem in error.problems { logger.error("reload: \(problem.description)") }
            logger.error("reload: the manifest has \(error.problems.count) problems; keeping the running bots")
            return .invalid(error.problems)
        }
        guard let summary = await host.reload(manifest) else { return .stopping }
        return .applied(summary)
    }
}
