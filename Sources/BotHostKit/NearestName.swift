/// Finds the known name an operator most likely meant, for "did you mean 'x'?" hints.
package enum NearestName {
    /// The candidate closest to `name` by edit distance (ignoring case and `-` versus `_`),
    /// if it is close enough to be a typo: at most one edit per three characters, and
    /// always one.
    package static func nearest(to name: String, among candidates: some Sequence<String>) -> String? {
        let typed = normalized(name)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let allowed = max(1, candidate.count / 3)
            guard abs(typed.count - candidate.count) <= allowed else { continue }
            let distance = editDistance(typed, normalized(candidate))
            guard distance <= allowed else { continue }
            if best.map({ distance < $0.distance }) ?? true { best = (candidate, distance) }
        }
        return best?.name
    }

    private static func normalized(_ name: String) -> [Character] {
        name.lowercased().map { $0 == "-" ? "_" : $0 }
    }

    /// Edit distance counting insertions, deletions, substitutions and swaps of two
    /// neighbours (`lable` for `label` is one typo, not two): the optimal string alignment
    /// distance.
    package static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var beforePrevious: [Int] = []
        var previous = Array(0...b.count)
        for i in a.indices {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for j in b.indices {
                current[j + 1] = Swift.min(
                    previous[j + 1] + 1,
                    current[j] + 1,
                    previous[j] + (a[i] == b[j] ? 0 : 1)
                )
                if i > 0, j > 0, a[i] == b[j - 1], a[i - 1] == b[j] {
                    current[j + 1] = Swift.min(current[j + 1], beforePrevious[j - 1] + 1)
                }
            }
            beforePrevious = previous
            previous = current
        }
        return previous[b.count]
    }
}
