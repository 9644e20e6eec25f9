import DequeModule
import ServiceLifecycle
import Synchronization
import TelegramBotAPI

/// Each bot's updates per second over the last minutes, for the control API and the
/// dashboard's sparklines.
///
/// Every ``interval`` the count of each bot's handled updates is sampled into a ring buffer
/// of ``capacity`` samples per bot, and a bot that is gone is forgotten: memory stays flat
/// however long the host runs. A count that went down (a bot restarted in a fresh worker
/// process counts from zero) counts from zero. A service of the host's group when the
/// admin server runs.
final class UpdateRates: Service {
    static let interval = Duration.seconds(5)
    /// Five minutes of samples.
    static let capacity = 60

    private struct Sample {
        var at: ContinuousClock.Instant
        var handled: Int
    }

    private let statuses: @Sendable () -> [(name: String, snapshot: BotStatus.Snapshot)]
    private let samples = Mutex<[String: Deque<Sample>]>([:])

    init(statuses: @escaping @Sendable () -> [(name: String, snapshot: BotStatus.Snapshot)]) {
        self.statuses = statuses
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            repeat {
                self.sample()
            } while (try? await Task.sleep(for: Self.interval)) != nil
        }
    }

    /// Takes one sample of every bot.
    func sample(at now: ContinuousClock.Instant = .now) {
        let current = statuses()
        samples.withLock { samples in
            var kept: [String: Deque<Sample>] = [:]
            kept.reserveCapacity(current.count)
            for (name, snapshot) in current {
                var ring = samples[name] ?? Deque(minimumCapacity: Self.capacity)
                if ring.count == Self.capacity { ring.removeFirst() }
                ring.append(Sample(at: now, handled: snapshot.updatesHandled))
                kept[name] = ring
            }
            samples = kept
        }
    }

    /// Updates `name` handled per second lately: since its latest sample at least an
    /// interval old (its first, while it is younger), up to `handled` now. 0 until a second
    /// has passed since that sample.
    func perSecond(_ name: String, handled: Int, at now: ContinuousClock.Instant = .now) -> Double {
        guard let ring = samples.withLock({ $0[name] }),
            let base = ring.last(where: { now - $0.at >= Self.interval }) ?? ring.first
        else { return 0 }
        let elapsed = (now - base.at).seconds
        guard elapsed >= 1 else { return 0 }
        return Self.rounded(Double(Self.growth(from: base.handled, to: handled)) / elapsed)
    }

    /// What `GET /rates` answers: each bot's rate in each interval sampled, oldest first.
    struct History: Encodable, Sendable {
        var intervalSeconds = UpdateRates.interval.seconds
        var bots: [String: [Double]]

        enum CodingKeys: String, CodingKey {
            case bots
            case intervalSeconds = "interval_seconds"
        }
    }

    func history() -> History {
        let bots = samples.withLock { samples in
            samples.mapValues { ring in
                zip(ring, ring.dropFirst()).map { earlier, later in
                    Self.rounded(Double(Self.growth(from: earlier.handled, to: later.handled)) / (later.at - earlier.at).seconds)
                }
            }
        }
        return History(bots: bots)
    }

    /// How much a count grew; a count that went down started again from zero.
    private static func growth(from earlier: Int, to later: Int) -> Int {
        later >= earlier ? later - earlier : later
    }

    /// Two decimals are all a person reads, and keep `/rates` short.
    private static func rounded(_ rate: Double) -> Double {
        (rate * 100).rounded() / 100
    }
}
