/// Prometheus's text format, merged: the supervisor's own metrics and each worker's, as one
/// `/metrics` page.
///
/// Each metric family appears once, with its `# HELP` and `# TYPE` lines once and the
/// samples of every source under them (a format rule: a family's lines stay together).
/// A family that the first source has is taken from it alone: the supervisor's copy of a
/// bot's state wins over a worker's.
enum PrometheusText {
    static func merge(_ sources: [String]) -> String {
        var order: [String] = []
        var headers: [String: [Substring]] = [:]
        var samples: [String: [Substring]] = [:]
        var owner: [String: Int] = [:]
        for (index, source) in sources.enumerated() {
            var family = ""
            for line in source.split(separator: "\n") {
                if line.hasPrefix("# ") {
                    let words = line.split(separator: " ", maxSplits: 3)
                    guard words.count >= 3 else { continue }
                    family = String(words[2])
                    if owner[family] == nil {
                        owner[family] = index
                        order.append(family)
                    }
                    if owner[family] == index {
                        headers[family, default: []].append(line)
                    }
                } else if owner[family] == index || (index > 0 && owner[family] != 0) {
                    samples[family, default: []].append(line)
                }
            }
        }
        var text = ""
        for family in order {
            for line in headers[family, default: []] + samples[family, default: []] {
                text += line
                text += "\n"
            }
        }
        return text
    }
}
