/// How often each update was handed to the chaos plugin in a host's log, by
/// `bot=NAME update_id=N`: what shows an update handled twice.
func chaosHandoffs(in log: String) -> [String: Int] {
    var counts: [String: Int] = [:]
    for line in log.split(separator: "\n") where line.contains("chaos: handling an update") {
        let fields = line.split(separator: " ").filter { $0.hasPrefix("bot=") || $0.hasPrefix("update_id=") }
        counts[fields.joined(separator: " "), default: 0] += 1
    }
    return counts
}
