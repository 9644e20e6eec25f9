import CoreMetrics

/// The metrics a supervisor keeps of a bot that runs in a worker: its state and whether its
/// lock is held, which only the supervisor knows (a worker in a crash loop reports
/// nothing). The worker's own metrics (updates, polls, handler times) come from its
/// reports, and `/metrics` shows both (``PrometheusText``).
struct SupervisorMetricsFactory: MetricsFactory {
    /// The metrics kept here; every other one is left to the worker.
    static let kept: Set<String> = ["bothost_bot_state", "bothost_lock_held"]

    let base: any MetricsFactory

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Self.kept.contains(label) ? base.makeCounter(label: label, dimensions: dimensions) : NOOPMetricsHandler.instance
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        Self.kept.contains(label)
            ? base.makeFloatingPointCounter(label: label, dimensions: dimensions) : NOOPMetricsHandler.instance
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        Self.kept.contains(label) ? base.makeMeter(label: label, dimensions: dimensions) : NOOPMetricsHandler.instance
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Self.kept.contains(label)
            ? base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate) : NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Self.kept.contains(label) ? base.makeTimer(label: label, dimensions: dimensions) : NOOPMetricsHandler.instance
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
