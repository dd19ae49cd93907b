import PropertyBased
import Testing

@testable import WharfCore

/// Levels of topic names, including a `/` followed by a combining accent, which is a separator
/// in MQTT although Swift sees one `Character` there.
private let retainedLevels = ["", "a", "b", "$SYS", "\u{E9}", "e\u{301}", "\u{301}"]

private let retainedTopicGen = Gen.int(in: 0..<retainedLevels.count).array(of: 1...4)
    .map { indices in indices.map { retainedLevels[$0] }.joined(separator: "/") }
    .filter { Topic.validateName($0) == nil }

@Suite struct RetainedTrieTests {
    @Test func storesReplacesAndRemovesByTopic() {
        var trie = RetainedTrie<Int>()
        #expect(trie.set(1, for: "a/b") == nil)
        #expect(trie.set(2, for: "a/b") == 1)
        #expect(trie.set(3, for: "a") == nil)
        #expect(trie.count == 2)
        #expect(trie.value(for: "a/b") == 2)
        #expect(trie.remove("a/b") == 2)
        #expect(trie.remove("a/b") == nil)
        #expect(trie.value(for: "a") == 3)
        #expect(trie.count == 1)
    }

    @Test func wildcardsFollowTheSpec() {
        var trie = RetainedTrie<Int>()
        for (index, topic) in ["sport", "sport/tennis", "sport/tennis/p1", "$SYS/x", "/finance"].enumerated() {
            trie.set(index, for: topic)
        }
        func matches(_ filter: String) -> [String] {
            var topics: [String] = []
            trie.forEachMatch(filter) { topic, _ in topics.append(topic) }
            return topics.sorted()
        }
        #expect(matches("sport/#") == ["sport", "sport/tennis", "sport/tennis/p1"])
        #expect(matches("#") == ["/finance", "sport", "sport/tennis", "sport/tennis/p1"])
        #expect(matches("+/+") == ["/finance", "sport/tennis"])
        #expect(matches("$SYS/#") == ["$SYS/x"])
        #expect(matches("+/x").isEmpty)
    }

    @Test func deepTopicsNeedNoRecursion() {
        var trie = RetainedTrie<Int>()
        let deep = Array(repeating: "l", count: 50_000).joined(separator: "/")
        trie.set(1, for: deep)
        var found = 0
        trie.forEachMatch("#") { _, _ in found += 1 }
        #expect(found == 1)
        #expect(trie.remove(deep) == 1)
        #expect(trie.count == 0)
    }

    @Test func matchesExactlyWhatTheMatcherSays() async {
        let operations = zip(Gen.bool(0.7), retainedTopicGen).array(of: 0...40)
        await propertyCheck(count: 300, input: operations, filterGen.array(of: 1...8)) { operations, filters in
            var trie = RetainedTrie<Int>()
            var model: [[UInt8]: (topic: String, value: Int)] = [:]
            for (index, (store, topic)) in operations.enumerated() {
                if store {
                    #expect(trie.set(index, for: topic) == model[Array(topic.utf8)]?.value)
                    model[Array(topic.utf8)] = (topic, index)
                } else {
                    #expect(trie.remove(topic) == model.removeValue(forKey: Array(topic.utf8))?.value)
                }
            }
            #expect(trie.count == model.count)
            for filter in filters {
                var found: [[UInt8]] = []
                trie.forEachMatch(filter) { topic, value in
                    found.append(Array(topic.utf8))
                    #expect(model[Array(topic.utf8)]?.value == value)
                }
                let expected = model.values.filter { TopicFilter.filter(filter, matches: $0.topic) }
                    .map { Array($0.topic.utf8) }
                #expect(
                    found.sorted { $0.lexicographicallyPrecedes($1) }
                        == expected.sorted { $0.lexicographicallyPrecedes($1) }, "\(escaped(filter))")
            }
            var all = 0
            trie.forEach { _, _ in all += 1 }
            #expect(all == model.count)
        }
    }
}
