import Foundation
import Logging
import Synchronization

/// A worker's two pipes to its supervisor: ``WorkerAssignment``s, forwarded webhook
/// deliveries and requests for metrics arrive on standard input, ``WorkerReport``s leave on the original standard
/// output.
///
/// Standard output is moved to standard error first, so that a plugin's `print` lands in
/// the log rather than in the middle of a report. The end of standard input means that the
/// supervisor is gone, however it ended: its locks went with it and another host may
/// already poll these bots, so the worker exits at once, without a stop sequence.
final class SupervisorLink: Sendable {
    /// Every assignment, in order.
    let assignments: AsyncStream<WorkerAssignment>
    /// Every webhook delivery, in order: apart from the assignments, so that a reload does
    /// not hold deliveries up.
    let deliveries: AsyncStream<ForwardedDelivery>
    /// The ids of the supervisor's requests for metrics.
    let metricsRequests: AsyncStream<UInt64>
    private let reports: Mutex<Int32>

    /// - Parameter onLostLocks: called with each assignment's lost locks (hex) as soon as
    ///   it is read, ahead of the assignments before it that the worker is still applying:
    ///   a bot whose lock was lost must not poll again while another bot drains.
    init(logger: Logger, onLostLocks: @escaping @Sendable (Set<String>) -> Void) {
        let reportDescriptor = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        reports = Mutex(reportDescriptor)
        let (assignments, continuation) = AsyncStream<WorkerAssignment>.makeStream()
        self.assignments = assignments
        let (deliveries, deliveryContinuation) = AsyncStream<ForwardedDelivery>.makeStream()
        self.deliveries = deliveries
        let (metricsRequests, metricsContinuation) = AsyncStream<UInt64>.makeStream()
        self.metricsRequests = metricsRequests
        let reader = Thread {
            let decoder = JSONDecoder()
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { _exit(ExitStatus.botFailed.rawValue) }
                pending.append(contentsOf: chunk[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    do {
                        switch try decoder.decode(SupervisorMessage.self, from: Data(pending[..<newline])) {
                        case .assign(let assignment):
                            if !assignment.lostLocks.isEmpty { onLostLocks(assignment.lostLocks) }
                            continuation.yield(assignment)
                        case .deliver(let delivery): deliveryContinuation.yield(delivery)
                        case .collectMetrics(let id): metricsContinuation.yield(id)
                        }
                    } catch {
                        logger.error("worker: unreadable message from the supervisor: \(error)")
                    }
                    pending.removeSubrange(...newline)
                }
            }
        }
        reader.name = "supervisor link"
        reader.start()
    }

    /// Sends `report` as one line of JSON.
    func send(_ report: WorkerReport) {
        guard var line = try? JSONEncoder().encode(report) else { return }
        line.append(UInt8(ascii: "\n"))
        reports.withLock { descriptor in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }
}
