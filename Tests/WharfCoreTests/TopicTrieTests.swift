import Testing

@testable import WharfCore

/// The keys `trie` reports for `topic`, once per matching filter, sorted.
func matchingKeys<Value>(_ trie: TopicTrie<String, Value>, _ topic: String) -> [String] {
    var keys: [String] = []
    trie.forEachMatch(topic: topic) { key, _ in keys.append(key) }
    return keys.sorted()
}

@Suite struct TopicTrieTests {
    /// MQTT 3.1.1 §4.7.1–4.7.2 (and the same in 5.0), plus empty levels and the `$` rule.
    @Test(arguments: [
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
        ("sport/tennis/player1/#", "sport/tennis/player2", false),
        ("sport/#", "sport", true),
        ("sport/#", "sports", false),
        ("#", "sport/tennis/player1", true),
        ("#", "/", true),
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/tennis/+", "sport/tennis", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+", "finance", true),
        ("+/tennis/#", "sport/tennis/player1", true),
        ("sport/+/player1", "sport/tennis/player1", true),
        ("+/#", "sport", true),
        ("a/+/b", "a//b", true),
        ("a//b", "a//b", true),
        ("a//b", "a/x/b", false),
        ("+//+", "//", true),
        ("ACCOUNTS", "accounts", false),
        ("#", "$SYS/monitor/Clients", false),
        ("#", "$", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("+", "$SYS", false),
        ("$SYS/#", "$SYS/monitor/Clients", true),
        ("$SYS/#", "$SYS", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        ("$SYS/+/Clients", "$SYS/monitor/Clients", true),
        ("a/$SYS/#", "a/$SYS/b", true),
        ("a/#", "a/$SYS", true),
        ("a/+", "a/$SYS", true),
        ("\u{E9}", "\u{E9}", true),
        ("\u{E9}", "e\u{301}", false),
        ("e\u{301}", "\u{E9}", false),
    ])
    func specExamples(_ filter: String, _ topic: String, _ matches: Bool) {
        var trie = TopicTrie<String, Int>()
        trie.insert(filter: filter, key: "client", value: 1)
        #expect(matchingKeys(trie, topic) == (matches ? ["client"] : []))
    }

    @Test func overlappingFiltersReportTheKeyOncePerFilter() {
        var trie = TopicTrie<String, Int>()
        trie.insert(filter: "sport/#", key: "a", value: 1)
        trie.insert(filter: "sport/tennis/+", key: "a", value: 2)
        trie.insert(filter: "sport/tennis/player1", key: "a", value: 3)
        trie.insert(filter: "sport/tennis/player1", key: "b", value: 4)
        trie.insert(filter: "#", key: "c", value: 5)
        trie.insert(filter: "sport/tennis/player2", key: "d", value: 6)
        var seen: [String: [Int]] = [:]
        trie.forEachMatch(topic: "sport/tennis/player1") { key, value in seen[key, default: []].append(value) }
        #expect(seen.mapValues { $0.sorted() } == ["a": [1, 2, 3], "b": [4], "c": [5]])
    }

    @Test func insertReplacesAndReturnsThePreviousValue() {
        var trie = TopicTrie<String, Int>()
        #expect(trie.isEmpty)
        #expect(trie.insert(filter: "a/b", key: "k", value: 1) == nil)
        #expect(trie.insert(filter: "a/b", key: "k", value: 2) == 1)
        #expect(trie.count == 1)
        #expect(trie.insert(filter: "a/b", key: "j", value: 3) == nil)
        #expect(trie.insert(filter: "a/+", key: "k", value: 4) == nil)
        #expect(trie.count == 3)
        #expect(trie.values(forFilter: "a/b") == ["k": 2, "j": 3])
        #expect(trie.values(forFilter: "a") == [:])
        #expect(trie.values(forFilter: "a/c") == [:])
        #expect(trie.value(forFilter: "a/+", key: "k") == 4)
        #expect(trie.value(forFilter: "a/+", key: "j") == nil)
    }

    @Test func removeReturnsTheValueAndPrunesEmptyNodes() {
        var trie = TopicTrie<String, Int>()
        trie.insert(filter: "a/b/c", key: "k", value: 1)
        trie.insert(filter: "a/+/#", key: "k", value: 2)
        trie.insert(filter: "a", key: "j", value: 3)
        #expect(trie.nodeCount == 6)  // root, a, a/b, a/b/c, a/+, a/+/#
        #expect(trie.remove(filter: "a/b/c", key: "missing") == nil)
        #expect(trie.remove(filter: "a/b", key: "k") == nil)
        #expect(trie.remove(filter: "x/y", key: "k") == nil)
        #expect(trie.count == 3)

        #expect(trie.remove(filter: "a/b/c", key: "k") == 1)
        #expect(trie.remove(filter: "a/b/c", key: "k") == nil)
        #expect(trie.nodeCount == 4)  // root, a, a/+, a/+/#
        #expect(trie.remove(filter: "a/+/#", key: "k") == 2)
        #expect(trie.nodeCount == 2)  // "a" still holds j
        #expect(matchingKeys(trie, "a") == ["j"])
        #expect(trie.remove(filter: "a", key: "j") == 3)
        #expect(trie.nodeCount == 1)
        #expect(trie.count == 0)
        #expect(trie.isEmpty)
        #expect(matchingKeys(trie, "a/b/c").isEmpty)
    }

    @Test func copiesAreIndependent() {
        var original = TopicTrie<String, Int>()
        original.insert(filter: "a/+", key: "k", value: 1)
        var copy = original
        copy.insert(filter: "a/+", key: "k", value: 2)
        copy.insert(filter: "a/b", key: "j", value: 3)
        original.remove(filter: "a/+", key: "k")
        #expect(original.isEmpty)
        #expect(matchingKeys(original, "a/b").isEmpty)
        #expect(copy.count == 2)
        #expect(copy.value(forFilter: "a/+", key: "k") == 2)
        #expect(matchingKeys(copy, "a/b") == ["j", "k"])
    }

    @Test func deepFiltersAndTopicsNeitherRecurseNorTrap() {
        // 32,768 levels: the most a 65,535-byte filter can hold.
        let deepFilter = Array(repeating: "+", count: 32_768).joined(separator: "/")
        let deepTopic = String(repeating: "/", count: 32_767)
        var trie = TopicTrie<String, Int>()
        trie.insert(filter: deepFilter, key: "deep", value: 1)
        trie.insert(filter: "#", key: "all", value: 2)
        #expect(matchingKeys(trie, deepTopic) == ["all", "deep"])
        var copy = trie
        copy.insert(filter: "x", key: "x", value: 3)
        #expect(trie.remove(filter: deepFilter, key: "deep") == 1)
        #expect(trie.nodeCount == 2)
        #expect(copy.count == 3)
    }

    @Test func invalidFiltersAreStoredWithoutTrapping() {
        var trie = TopicTrie<String, Int>()
        trie.insert(filter: "a/#/b", key: "k", value: 1)
        trie.insert(filter: "", key: "e", value: 2)
        trie.insert(filter: "a+", key: "p", value: 3)
        #expect(trie.count == 3)
        #expect(matchingKeys(trie, "a/x/b").isEmpty)
        #expect(matchingKeys(trie, "a+") == ["p"])
        #expect(matchingKeys(trie, "a") == [])
        #expect(trie.remove(filter: "a/#/b", key: "k") == 1)
        #expect(trie.remove(filter: "", key: "e") == 2)
        #expect(trie.remove(filter: "a+", key: "p") == 3)
        #expect(trie.nodeCount == 1)
    }

    /// The matching cost depends on the topic and the filters that match it, not on how many
    /// unrelated subscriptions exist, even siblings in the same node.
    @Test func matchingCostIgnoresUnrelatedSubscriptions() {
        func build(unrelated: Int) -> TopicTrie<String, Int> {
            var trie = TopicTrie<String, Int>()
            for filter in ["sensors/room1/temp", "sensors/+/temp", "sensors/#", "+/room1/#", "#"] {
                trie.insert(filter: filter, key: filter, value: 0)
            }
            for i in 0..<unrelated {
                switch i % 3 {
                case 0: trie.insert(filter: "devices/d\(i)/point", key: "u\(i)", value: i)
                case 1: trie.insert(filter: "sensors/room\(i + 1000)/temp", key: "u\(i)", value: i)
                default: trie.insert(filter: "sensors/room1/other\(i)", key: "u\(i)", value: i)
                }
            }
            return trie
        }
        let small = build(unrelated: 10)
        let large = build(unrelated: 100_000)
        #expect(large.count == 100_005)
        for topic in ["sensors/room1/temp", "sensors/room2/temp", "devices/x/y", "$SYS/broker/load", "a/b/c/d/e/f"] {
            var smallMatches: [String] = []
            var largeMatches: [String] = []
            let smallVisits = small.walk(topic: topic) { key, _ in smallMatches.append(key) }
            let largeVisits = large.walk(topic: topic) { key, _ in largeMatches.append(key) }
            #expect(smallVisits == largeVisits, "\(topic)")
            #expect(smallMatches.sorted() == largeMatches.sorted(), "\(topic)")
        }
        // root, sensors, sensors/room1, sensors/room1/temp, sensors/+, sensors/+/temp, +, +/room1.
        #expect(large.walk(topic: "sensors/room1/temp") { _, _ in } == 8)
    }
}
