/// What a reload changed: `2 added, 0 removed, 1 restarted, 5 unchanged`, as the log line
/// and `POST /reload` say it.
package struct ReloadSummary: Codable, Sendable, Equatable, CustomStringConvertible {
    package var added: Int
    package var removed: Int
    /// Bots whose settings or token changed, and failed bots that the manifest still has.
    package var restarted: Int
    package var unchanged: Int

    package var description: String {
        "\(added) added, \(removed) removed, \(restarted) restarted, \(unchanged) unchanged"
    }
}
