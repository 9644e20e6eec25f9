import ServiceLifecycle

/// Keeps systemd informed while the bots run: `READY=1` once every bot polls or stands
/// by, `STATUS=` whenever the summary changes, and `WATCHDOG=1` from this running loop, so
/// that a host too stuck to run it stops beating. A service of the host's group when
/// `$NOTIFY_SOCKET` is set.
struct SystemdMonitor: Service {
    let notifier: SystemdNotifier
    let report: HostReport

    /// How often the loop looks at the bots.
    static let interval = Duration.milliseconds(50)

    func run() async {
        await cancelWhenGracefulShutdown { await watch() }
    }

    private func watch() async {
        var ready = false
        var lastSummary = ""
        var lastBeat = ContinuousClock.now
        while !Task.isCancelled {
            if !ready, report.readiness().ready {
                ready = true
                notifier.send("READY=1")
            }
            let summary = report.summary()
            if summary != lastSummary {
                lastSummary = summary
                notifier.send("STATUS=\(summary)")
            }
            if let interval = notifier.watchdogInterval, ContinuousClock.now - lastBeat >= interval {
                lastBeat = .now
                notifier.send("WATCHDOG=1")
            }
            try? await Task.sleep(for: Self.interval)
        }
    }
}
