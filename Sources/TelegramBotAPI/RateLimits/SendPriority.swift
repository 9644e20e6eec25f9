/// Which of a bot's calls go first when its rate limits hold calls back: replies to
/// updates before bulk sending, so that a broadcast never delays a user who is waiting
/// for an answer.
///
/// A task-local: the host sets ``reply`` around each handler, the kit's scheduler sets
/// ``bulk`` around each job; tasks a handler starts inherit the handler's.
package enum SendPriority: Sendable, CaseIterable {
    /// Calls made while handling an update.
    case reply
    /// Everything else: scheduled jobs (broadcasts, auto-posting), hooks, plugin set-up.
    case bulk

    @TaskLocal package static var current: SendPriority = .bulk
}
