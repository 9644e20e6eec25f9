import Logging

/// The host's lock policy in one place: which bots this host polls.
///
/// A bot takes a `max_bots` slot (``BotSlots``) before it tries its lock and gives it back
/// with the lock. What a lock held elsewhere means is the manifest's `on_locked`: exit 3
/// (`fail`), leave the bot (`skip`) or stand by and take it over when the holder goes
/// (`wait`). Start-up, reload and standbys all ask here, so the rules and their messages
/// are the same for each.
final class LockClaims: Sendable {
    private let tokenLock: any TokenLock
    private let slots: BotSlots
    private let maxBots: Int?

    init(tokenLock: any TokenLock, maxBots: Int?) {
        self.tokenLock = tokenLock
        self.slots = BotSlots(limit: maxBots)
        self.maxBots = maxBots
    }

    /// What ``claim(_:onLocked:)`` decided for one bot.
    enum Claim: Sendable {
        /// The lock is ours, with a slot.
        case acquired(any HeldTokenLock)
        /// The bot stands by: held elsewhere or over `max_bots`, under `on_locked: wait`.
        case standBy
        /// The bot is left to other hosts; the reason is for the log.
        case skipped(String)
        /// Held elsewhere under `on_locked: fail`: the whole start-up ends with exit 3.
        case refused(String)
        /// The lock backend failed (a database that cannot be reached).
        case failed(TokenLockError)
    }

    /// Takes `bot`'s lock if a slot and the lock are free; otherwise applies `onLocked`.
    func claim(_ bot: BotConfiguration, onLocked: OnLocked) async -> Claim {
        guard slots.take() else {
            return onLocked == .wait ? .standBy : .skipped("max_bots (\(maxBots ?? 0)) reached")
        }
        let attempt: LockAttempt
        do {
            attempt = try await tokenLock.tryAcquire(bot.lockID, owner: .currentProcess(bot: bot.name))
        } catch {
            slots.give()
            return .failed(error)
        }
        switch attempt {
        case .acquired(let lock):
            return .acquired(lock)
        case .heldElsewhere(let holder):
            slots.give()
            let polled = "the bot is already polled by \(Self.describe(holder))"
            switch onLocked {
            case .fail: return .refused("\(polled) (lock \(bot.lockID))")
            case .skip: return .skipped(polled)
            case .wait: return .standBy
            }
        }
    }

    /// Gives a lock and its slot back.
    func release(_ lock: any HeldTokenLock) async {
        await lock.release()
        slots.give()
    }

    // MARK: - Standing by

    /// How many looks in a row must find a lock free, once seen held, before a standby
    /// over the `max_bots` limit adopts its bot: hosts under their limit, which try at every
    /// recheck, get the first chance at a freed lock.
    static let overLimitFreeLooks = 5

    /// What one standby bot has seen so far, so that it reports each change once.
    struct Standby: Sendable {
        fileprivate var sawHolder = false
        /// Looks in a row that found the lock free.
        fileprivate var freeLooks = 0
        fileprivate var reportedHolder: Int32?
        fileprivate var reportedError: String?

        fileprivate mutating func saw(_ holder: LockOwner?, logger: Logger) {
            sawHolder = true
            freeLooks = 0
            if let pid = holder?.pid, pid != reportedHolder {
                reportedHolder = pid
                logger.info("standing by: the bot is polled by \(LockClaims.describe(holder))")
            }
        }
    }

    /// One recheck of a standby bot: its lock (and slot) if it may poll now, else `nil`.
    ///
    /// Over the `max_bots` limit, the bot looks at its lock at every recheck without taking
    /// it. A lock it has seen held and then finds free belonged to a host that died or
    /// stopped, and the bot is adopted beyond the limit rather than left unpolled. A lock it
    /// never saw held stays free: nobody polls that bot, and the limit says not here. Looks
    /// rather than tries, because a standby's brief try would look like a holder to the
    /// standbys of other hosts, and they would adopt the bot when the try let go; a holder
    /// that comes and goes between two looks (one recheck) is still missed.
    func tryTakeOver(_ bot: BotConfiguration, standby: inout Standby, logger: Logger) async -> (any HeldTokenLock)? {
        do {
            if slots.take() { return try await take(bot, standby: &standby, logger: logger) }
            switch try await tokenLock.look(at: bot.lockID, bot: bot.name) {
            case .held(let holder):
                standby.saw(holder, logger: logger)
                return nil
            case .free:
                standby.freeLooks += 1
                guard standby.sawHolder, standby.freeLooks >= Self.overLimitFreeLooks else { return nil }
            }
            slots.takeBeyondLimit()
            guard let held = try await take(bot, standby: &standby, logger: logger) else { return nil }
            logger.warning("adopting the bot beyond max_bots: its previous host is gone")
            return held
        } catch {
            standby.freeLooks = 0
            if "\(error)" != standby.reportedError {
                standby.reportedError = "\(error)"
                logger.error("cannot take the lock: \(error); trying again")
            }
            return nil
        }
    }

    /// Tries the lock of a bot that holds a slot, and gives the slot back unless the lock is
    /// now ours.
    private func take(
        _ bot: BotConfiguration, standby: inout Standby, logger: Logger
    ) async throws(TokenLockError) -> (any HeldTokenLock)? {
        let attempt: LockAttempt
        do {
            attempt = try await tokenLock.tryAcquire(bot.lockID, owner: .currentProcess(bot: bot.name))
        } catch {
            slots.give()
            throw error
        }
        switch attempt {
        case .acquired(let held):
            return held
        case .heldElsewhere(let holder):
            slots.give()
            standby.saw(holder, logger: logger)
            return nil
        }
    }

    /// `pid 123 on host-a`, or `another process` when the holder did not say.
    static func describe(_ holder: LockOwner?) -> String {
        holder.map { "pid \($0.pid) on \($0.hostname)" } ?? "another process"
    }
}
