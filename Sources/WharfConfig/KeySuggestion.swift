/// Finds the name a user most likely meant, for "did you mean" hints.
public enum KeySuggestion {
    /// The candidate closest to `input`, or `nil` when none is close enough to be a likely typo.
    ///
    /// Case, `_` and `-` are ignored (`maxPacketSize` finds `max_packet_size`); a swap of two
    /// neighbouring letters counts as one edit; an unambiguous prefix of at least three letters
    /// also matches (`warn` finds `warning`).
    public static func closest(to input: String, among candidates: [String]) -> String? {
        let typed = normalized(input)
        guard !typed.isEmpty else { return nil }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let known = normalized(candidate)
            let distance = editDistance(typed, known)
            let limit = max(1, min(3, known.count / 3))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.candidate }
        let prefixed = candidates.filter {
            let known = normalized($0)
            return typed.count >= 3 && (known.starts(with: typed) || typed.starts(with: known))
        }
        return prefixed.count == 1 ? prefixed.first : nil
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps.
    static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        var twoBack = [Int](repeating: 0, count: rhs.count + 1)
        var previous = Array(0...rhs.count)
        var current = [Int](repeating: 0, count: rhs.count + 1)
        for i in 1...lhs.count {
            current[0] = i
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    current[j] = min(current[j], twoBack[j - 2] + 1)
                }
            }
            (twoBack, previous, current) = (previous, current, twoBack)
        }
        return previous[rhs.count]
    }

    private static func normalized(_ text: String) -> [Character] {
        Array(text.lowercased().filter { $0 != "_" && $0 != "-" })
    }
}
