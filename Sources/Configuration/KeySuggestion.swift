/// Suggestions for misspelled configuration keys.
enum KeySuggestion {
    /// Returns the known key closest to `key` by Levenshtein distance, ignoring case, when that distance is at most
    /// 2 and under half the key's length, so short unrelated keys get no suggestion. Returns nil when two known keys
    /// are equally close, such as `p50` and `p95` for `p90`, because either guess could be wrong.
    static func closest(to key: String, among knownKeys: [String]) -> String? {
        let lowered = Array(key.lowercased())
        var best: (key: String, distance: Int)?
        var isTied = false
        for candidate in knownKeys {
            let distance = levenshtein(lowered, Array(candidate.lowercased()))
            if distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
                isTied = false
            } else if distance == best?.distance {
                isTied = true
            }
        }
        guard let best, !isTied, best.distance <= 2, best.distance * 2 < max(key.count, 1) else { return nil }
        return best.key
    }

    /// Edit distance counting insertions, deletions and substitutions, with one row of memory.
    static func levenshtein(_ source: [Character], _ target: [Character]) -> Int {
        guard !source.isEmpty else { return target.count }
        guard !target.isEmpty else { return source.count }
        var previous = Array(0...target.count)
        var current = previous
        for i in 1...source.count {
            current[0] = i
            for j in 1...target.count {
                let substitution = previous[j - 1] + (source[i - 1] == target[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[target.count]
    }
}
