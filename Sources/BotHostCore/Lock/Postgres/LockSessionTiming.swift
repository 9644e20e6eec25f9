/// The clocks of self-fencing: how a host that loses its database session stops polling
/// before another host starts.
///
/// A lock is freed by the server when the session that holds it ends, which the holder
/// may not learn at once: a network partition hides it, and a session the server has
/// already terminated may still look open to the client. So every holder proves its
/// session alive with a heartbeat, and stops polling (fences itself) when one goes
/// unanswered: at most `heartbeatInterval + answerTimeout` after its last answer.
/// Any later holder waits `takeoverDelay`, longer than that, after taking a lock before
/// its first poll. The lock was free when it took it, so the old session had ended and
/// had answered its last heartbeat before then; the old holder has stopped by the time
/// the new one polls.
///
/// The server frees the locks of a host that vanished silently once its TCP keepalives
/// go unanswered (`keepalive*`, set on the session; PostgreSQL's default waits two hours),
/// and those of a host that exits or is killed at once.
package struct LockSessionTiming: Sendable {
    package var heartbeatInterval: Duration = .milliseconds(500)
    /// How long the server may take to answer any query (a heartbeat, a lock, an unlock)
    /// before the session is given up as lost.
    package var answerTimeout: Duration = .seconds(1)
    /// Longer than `heartbeatInterval + answerTimeout`, with room for a busy machine.
    package var takeoverDelay: Duration = .seconds(2)
    /// How long after a failed connection attempt the next one may start; attempts in
    /// between fail at once with the same error, so standbys do not hammer a down server.
    package var reconnectDelay: Duration = .seconds(1)
    /// How old a snapshot of the server's advisory locks may be when a standby asks
    /// whether its lock is free: all of a host's standbys share one query.
    package var holdersMaxAge: Duration = .milliseconds(100)
    /// Seconds of silence before the server probes the connection, and between probes.
    package var keepaliveIdle = 5
    package var keepaliveInterval = 1
    /// Unanswered probes after which the server drops the connection and frees its locks.
    package var keepaliveCount = 3

    package init() {}

    /// The most a connection can stay silent before the server frees its locks.
    var serverDetection: Duration { .seconds(keepaliveIdle + keepaliveInterval * keepaliveCount) }
}
