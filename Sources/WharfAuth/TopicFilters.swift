/// Relations between MQTT topic filters, as ACL decisions need them. Topics starting with `$`
/// are matched only by filters whose first level is literal (MQTT §4.7.2).
enum TopicFilters {
    /// Whether `filter` matches the topic name `topic`.
    static func filter(_ filter: String, matches topic: String) -> Bool {
        let filter = levels(filter)
        let topic = levels(topic)
        if isDollar(topic.first), isWildcard(filter.first) { return false }
        for (index, level) in filter.enumerated() {
            if level == "#" { return true }
            guard index < topic.count else { return false }
            if level != "+" && level != topic[index] { return false }
        }
        return filter.count == topic.count
    }

    /// Whether some topic name matches both filters.
    static func filter(_ a: String, intersects b: String) -> Bool {
        let a = levels(a)
        let b = levels(b)
        if isWildcard(a.first) && isDollar(b.first) || isWildcard(b.first) && isDollar(a.first) { return false }
        var index = 0
        while true {
            let aEnded = index == a.count
            let bEnded = index == b.count
            if aEnded && bEnded { return true }
            if !aEnded && a[index] == "#" || !bEnded && b[index] == "#" { return true }
            if aEnded || bEnded { return false }
            if a[index] != "+" && b[index] != "+" && a[index] != b[index] { return false }
            index += 1
        }
    }

    /// Whether every topic name matched by `inner` is also matched by `outer`.
    static func filter(_ outer: String, covers inner: String) -> Bool {
        let outer = levels(outer)
        let inner = levels(inner)
        if isWildcard(outer.first) && isDollar(inner.first) { return false }
        var index = 0
        while true {
            let outerEnded = index == outer.count
            let innerEnded = index == inner.count
            if !outerEnded && outer[index] == "#" { return true }
            if outerEnded || innerEnded { return outerEnded && innerEnded }
            if inner[index] == "#" { return false }
            if outer[index] != "+" && outer[index] != inner[index] { return false }
            index += 1
        }
    }

    private static func levels(_ text: String) -> [Substring] {
        text.split(separator: "/", omittingEmptySubsequences: false)
    }

    private static func isWildcard(_ level: Substring?) -> Bool {
        level == "+" || level == "#"
    }

    private static func isDollar(_ level: Substring?) -> Bool {
        level?.first == "$"
    }
}
