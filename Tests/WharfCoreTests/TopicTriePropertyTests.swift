import PropertyBased
import Testing

@testable import WharfCore

/// The MQTT matching rule written as plainly as possible, comparing levels byte by byte.
func naiveMatches(filter: String, topic: String) -> Bool {
    func levels(_ string: String) -> [[UInt8]] {
        string.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }
    let filterLevels = levels(filter)
    let topicLevels = levels(topic)
    let plus = Array("+".utf8)
    let hash = Array("#".utf8)
    if topic.hasPrefix("$"), let first = filterLevels.first, first == plus || first == hash {
        return false
    }
    for (index, level) in filterLevels.enumerated() {
        if level == hash { return true }
        guard index < topicLevels.count, level == plus || level == topicLevels[index] else { return false }
    }
    return filterLevels.count == topicLevels.count
}

/// Levels of topic names: empty levels, `$` levels and two spellings of "é" that only bytes tell apart.
let nameLevels = ["", "a", "b", "sport", "$SYS", "\u{E9}", "e\u{301}"]

let topicGen = Gen.int(in: 0..<nameLevels.count).array(of: 1...5)
    .map { indices in indices.map { nameLevels[$0] }.joined(separator: "/") }
    .filter { Topic.validateName($0) == nil }

let filterGen = zip(Gen.int(in: 0...nameLevels.count).array(of: 0...4), Gen.bool)
    .map { indices, trailingHash in
        // Index `nameLevels.count` stands for "+"; "#" may only come last.
        let levels = indices.map { $0 == nameLevels.count ? "+" : nameLevels[$0] } + (trailingHash ? ["#"] : [])
        return levels.joined(separator: "/")
    }
    .filter { Topic.validateFilter($0) == nil }

/// One step of a random sequence of subscription changes.
struct TrieOperation: Sendable, CustomStringConvertible {
    var insert: Bool
    var filter: String
    var key: Int

    var description: String { "\(insert ? "insert" : "remove")(\(escaped(filter)), \(key))" }
}

let operationGen = zip(Gen.bool(0.6), filterGen, Gen.int(in: 0...3))
    .map { insert, filter, key in TrieOperation(insert: insert, filter: filter, key: key) }

/// Shows non-ASCII scalars as escapes, so that "\u{E9}" and "e\u{301}" look different in failure reports.
func escaped(_ string: String) -> String {
    string.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
}

/// The subscriptions as a plain dictionary, matched with `naiveMatches`. Filters are keyed by their
/// bytes: `String` keys would merge canonically equivalent spellings that MQTT keeps apart.
typealias TrieModel = [[UInt8]: [Int: Int]]

/// The (key, value) pairs the model says match `topic`, once per matching filter, sorted.
func naiveMatches(_ model: TrieModel, topic: String) -> [[Int]] {
    model.filter { naiveMatches(filter: String(decoding: $0.key, as: UTF8.self), topic: topic) }
        .flatMap { $0.value.map { [$0.key, $0.value] } }
        .sorted { $0.lexicographicallyPrecedes($1) }
}

/// The (key, value) pairs the trie reports for `topic`, sorted.
func trieMatches(_ trie: TopicTrie<Int, Int>, topic: String) -> [[Int]] {
    var found: [[Int]] = []
    trie.forEachMatch(topic: topic) { key, value in found.append([key, value]) }
    return found.sorted { $0.lexicographicallyPrecedes($1) }
}

@Suite struct TopicTriePropertyTests {
    @Test func naiveMatcherAgreesWithTheSpecExamples() {
        #expect(naiveMatches(filter: "sport/#", topic: "sport"))
        #expect(naiveMatches(filter: "+/+", topic: "/finance"))
        #expect(!naiveMatches(filter: "+", topic: "/finance"))
        #expect(!naiveMatches(filter: "#", topic: "$SYS/x"))
        #expect(naiveMatches(filter: "$SYS/#", topic: "$SYS/x"))
        #expect(!naiveMatches(filter: "\u{E9}", topic: "e\u{301}"))
    }

    @Test func trieMatchesLikeTheNaiveMatcher() async {
        let subscriptions = zip(filterGen, Gen.int(in: 0...3)).array(of: 0...25)
        await propertyCheck(count: 300, input: subscriptions, topicGen.array(of: 1...10)) { subscriptions, topics in
            var trie = TopicTrie<Int, Int>()
            var model: TrieModel = [:]
            for (index, (filter, key)) in subscriptions.enumerated() {
                trie.insert(filter: filter, key: key, value: index)
                model[Array(filter.utf8), default: [:]][key] = index
            }
            for topic in topics {
                #expect(trieMatches(trie, topic: topic) == naiveMatches(model, topic: topic), "\(escaped(topic))")
            }
        }
    }

    @Test func randomInsertsAndRemovesFollowADictionaryModel() async {
        await propertyCheck(count: 300, input: operationGen.array(of: 0...60), topicGen.array(of: 5)) { ops, topics in
            var trie = TopicTrie<Int, Int>()
            var model: TrieModel = [:]
            var snapshot: (trie: TopicTrie<Int, Int>, model: TrieModel)?
            for (index, op) in ops.enumerated() {
                let filterBytes = Array(op.filter.utf8)
                if op.insert {
                    let previous = model[filterBytes, default: [:]].updateValue(index, forKey: op.key)
                    #expect(trie.insert(filter: op.filter, key: op.key, value: index) == previous, "\(op)")
                } else {
                    let removed = model[filterBytes]?.removeValue(forKey: op.key)
                    if model[filterBytes]?.isEmpty == true { model[filterBytes] = nil }
                    #expect(trie.remove(filter: op.filter, key: op.key) == removed, "\(op)")
                }
                #expect(trie.count == model.values.reduce(0) { $0 + $1.count })
                if index == ops.count / 2 { snapshot = (trie, model) }
            }
            for (filter, entries) in model {
                #expect(trie.values(forFilter: String(decoding: filter, as: UTF8.self)) == entries)
            }
            for topic in topics {
                #expect(trieMatches(trie, topic: topic) == naiveMatches(model, topic: topic), "\(escaped(topic))")
            }
            // A copy taken halfway is unaffected by the later changes.
            if let snapshot {
                for topic in topics {
                    #expect(trieMatches(snapshot.trie, topic: topic) == naiveMatches(snapshot.model, topic: topic))
                }
            }
            // Removing everything prunes the trie back to its root.
            for (filter, entries) in model {
                for key in entries.keys { trie.remove(filter: String(decoding: filter, as: UTF8.self), key: key) }
            }
            #expect(trie.isEmpty)
            #expect(trie.nodeCount == 1)
        }
    }
}
