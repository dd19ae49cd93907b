/// Relations between MQTT topic filters and topic names, decided byte by byte: the one matcher
/// behind routing decisions outside the ``TopicTrie`` (ACL grants, retained lookups, adapter
/// grants). It agrees with the trie on every input, so a grant never covers a topic that routing
/// would treat as different (such as `é` spelled as one scalar or as `e` and a combining accent).
///
/// Filters are expected to have passed ``Topic/validateFilter(_:)``; in an invalid filter, only
/// a level made of `+` or `#` alone is a wildcard and any other level is literal text. Topic names
/// starting with `$` are matched only by filters whose first level is literal (MQTT §4.7.2).
public enum TopicFilter {
    /// Whether `filter` matches the topic name `topic`.
    public static func filter(_ filter: String, matches topic: String) -> Bool {
        withLevels(filter, topic) { filter, topic in
            let dollar = topic.startsWithDollar
            var isFirst = true
            while let level = filter.next() {
                if level.isHash { return !(isFirst && dollar) }
                guard let topicLevel = topic.next() else { return false }
                if level.isPlus {
                    if isFirst && dollar { return false }
                } else if !level.elementsEqual(topicLevel) {
                    return false
                }
                isFirst = false
            }
            return topic.next() == nil
        }
    }

    /// Whether some topic name is matched by both filters.
    public static func filter(_ a: String, intersects b: String) -> Bool {
        withLevels(a, b) { a, b in
            var isFirst = true
            while true {
                switch (a.next(), b.next()) {
                case (nil, nil):
                    return true
                case (let level?, nil), (nil, let level?):
                    // "x/#" matches "x" as well.
                    return level.isHash && level.isLastLevel
                case (let left?, let right?):
                    if isFirst, left.isWildcard && right.startsWithDollar || right.isWildcard && left.startsWithDollar {
                        return false
                    }
                    if left.isHash || right.isHash { return true }
                    if !left.isPlus && !right.isPlus && !left.elementsEqual(right) { return false }
                }
                isFirst = false
            }
        }
    }

    /// Whether every topic name matched by `inner` is also matched by `outer`.
    public static func filter(_ outer: String, covers inner: String) -> Bool {
        withLevels(outer, inner) { outer, inner in
            var isFirst = true
            while true {
                let outerLevel = outer.next()
                let innerLevel = inner.next()
                if let outerLevel, outerLevel.isHash {
                    // A leading wildcard leaves out the `$` topics a literal `$` level reaches.
                    return !(isFirst && innerLevel?.startsWithDollar == true)
                }
                guard let outerLevel, let innerLevel else { return outerLevel == nil && innerLevel == nil }
                if innerLevel.isHash {
                    // A leading "#" matches every topic of one level or more, as "+/#" does.
                    return isFirst && outerLevel.isPlus && outer.next()?.isHash == true
                }
                if outerLevel.isPlus {
                    if isFirst && innerLevel.startsWithDollar { return false }
                } else if innerLevel.isPlus || !outerLevel.elementsEqual(innerLevel) {
                    return false
                }
                isFirst = false
            }
        }
    }

    /// The number of levels of a topic name or filter ("a//b" has three).
    public static func levelCount(_ text: String) -> Int {
        var count = 1
        for byte in text.utf8 where byte == Topic.separator { count += 1 }
        return count
    }

    /// Runs `body` with level iterators over the UTF-8 bytes of both strings.
    private static func withLevels(
        _ first: String,
        _ second: String,
        _ body: (inout Levels, inout Levels) -> Bool
    ) -> Bool {
        var first = first
        var second = second
        return first.withUTF8 { firstBytes in
            second.withUTF8 { secondBytes in
                var firstLevels = Levels(firstBytes)
                var secondLevels = Levels(secondBytes)
                return body(&firstLevels, &secondLevels)
            }
        }
    }
}

/// The levels of a topic or filter as borrowed byte slices, empty levels included.
private struct Levels {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Where the next level starts; `nil` once the last level was returned.
    var start: Int? = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var startsWithDollar: Bool { bytes.first == UInt8(ascii: "$") }

    mutating func next() -> Level? {
        guard let from = start else { return nil }
        var end = from
        while end < bytes.count && bytes[end] != Topic.separator { end += 1 }
        start = end < bytes.count ? end + 1 : nil
        return Level(bytes: UnsafeBufferPointer(rebasing: bytes[from..<end]), isLastLevel: start == nil)
    }
}

/// One level of a topic or filter.
private struct Level {
    let bytes: UnsafeBufferPointer<UInt8>
    let isLastLevel: Bool

    var isPlus: Bool { bytes.count == 1 && bytes[0] == Topic.singleLevelWildcard }
    var isHash: Bool { bytes.count == 1 && bytes[0] == Topic.multiLevelWildcard }
    var isWildcard: Bool { isPlus || isHash }
    var startsWithDollar: Bool { bytes.first == UInt8(ascii: "$") }

    func elementsEqual(_ other: Level) -> Bool {
        bytes.elementsEqual(other.bytes)
    }
}
