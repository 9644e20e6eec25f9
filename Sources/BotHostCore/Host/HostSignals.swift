import BotHostKit
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// What signals do to `bothost run`, as the first service of the host's group (so the
/// last one stopped):
///
/// - SIGTERM or SIGINT stops the host gracefully; a second one exits at once (the kernel
///   releases the lock files), and `shutdown.timeout` bounds the whole stop.
/// - SIGHUP reloads the manifest; an invalid one is logged and the running bots are kept.
///
/// A worker process (``reloader`` is `nil`) ignores SIGHUP, whose manifest comes from its
/// supervisor, and a second SIGTERM: under systemd's default `KillMode=control-group`
/// the worker gets one from systemd and one from its supervisor, and must still drain.
struct HostSignals: Service {
    let host: Host
    /// SIGTERM, SIGINT and SIGHUP, trapped since `bothost run` began.
    let signals: UnixSignalsSequence
    /// Reads the manifest again and applies it; `nil` in a worker process.
    let reloader: ManifestReloader?
    let logger: Logger

    func run() async {
        // One reload at a time, in order; a SIGHUP during a reload asks for one more after it.
        let (reloads, requestReload) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in reloads { _ = await reloader?.reload(cause: "SIGHUP") }
                }
                var stopping = false
                for await signal in signals {
                    switch signal {
                    case .sighup:
                        requestReload.yield()
                    case _ where stopping && reloader == nil:
                        continue
                    case _ where stopping:
                        logger.warning("second \(signal): exiting at once; the kernel releases the locks")
                        exit(ExitStatus.botFailed.rawValue)
                    default:
                        stopping = true
                        host.requestStop()
                        group.addTask { await exitAfterDeadline() }
                    }
                }
                requestReload.finish()
            }
        }
    }

    private func exitAfterDeadline() async {
        let timeout = host.manifest.shutdown.timeout
        guard (try? await Task.sleep(for: timeout)) != nil else { return }
        logger.error("shutdown took longer than shutdown.timeout (\(formatDuration(timeout))): exiting now")
        exit(ExitStatus.botFailed.rawValue)
    }
}
