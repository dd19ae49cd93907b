import PropertyBased
import Testing

@testable import WharfCore

/// Levels the filters of these tests are made of; `z` appears in no filter and stands for
/// "any other level" in the topics that decide intersection and cover.
private let smallLevels = ["", "a", "$x", "\u{E9}", "e\u{301}"]

/// Filters of up to three levels of `smallLevels` or `+`, perhaps followed by `#`.
private let smallFilterGen = zip(Gen.int(in: 0...smallLevels.count).array(of: 0...3), Gen.bool)
    .map { indices, trailingHash in
        let levels = indices.map { $0 == smallLevels.count ? "+" : smallLevels[$0] } + (trailingHash ? ["#"] : [])
        return levels.joined(separator: "/")
    }
    .filter { Topic.validateFilter($0) == nil }

/// Every topic of one to four levels of `smallLevels` and `z`: any topic that tells two small
/// filters apart has this shape, so checking all of them decides intersection and cover.
private let smallTopics: [String] = {
    let alphabet = smallLevels + ["z"]
    var topics: [[String]] = alphabet.map { [$0] }
    var result = topics
    for _ in 2...4 {
        topics = topics.flatMap { prefix in alphabet.map { prefix + [$0] } }
        result += topics
    }
    return result.map { $0.joined(separator: "/") }
}()

@Suite struct TopicFilterTests {
    @Test func matchesTheSpecExamples() {
        #expect(TopicFilter.filter("sport/#", matches: "sport"))
        #expect(TopicFilter.filter("sport/tennis/player1/#", matches: "sport/tennis/player1/ranking"))
        #expect(TopicFilter.filter("sport/+/player1", matches: "sport/tennis/player1"))
        #expect(!TopicFilter.filter("sport/+", matches: "sport/tennis/player1"))
        #expect(TopicFilter.filter("+/+", matches: "/finance"))
        #expect(TopicFilter.filter("/+", matches: "/finance"))
        #expect(!TopicFilter.filter("+", matches: "/finance"))
        #expect(!TopicFilter.filter("#", matches: "$SYS/broker/uptime"))
        #expect(!TopicFilter.filter("+/broker/uptime", matches: "$SYS/broker/uptime"))
        #expect(TopicFilter.filter("$SYS/#", matches: "$SYS/broker/uptime"))
        #expect(TopicFilter.filter("a//b", matches: "a//b"))
        #expect(!TopicFilter.filter("a/b", matches: "a/b/c"))
    }

    @Test func comparesBytesNotCanonicalEquivalence() {
        // The two spellings of "é" are equal as Swift strings but different MQTT topics.
        #expect("\u{E9}" == "e\u{301}")
        #expect(!TopicFilter.filter("plant/\u{E9}/set", matches: "plant/e\u{301}/set"))
        #expect(!TopicFilter.filter("plant/\u{E9}/#", intersects: "plant/e\u{301}/set"))
        #expect(!TopicFilter.filter("plant/\u{E9}/#", covers: "plant/e\u{301}/+"))
    }

    @Test func intersectionExamples() {
        #expect(TopicFilter.filter("a/#", intersects: "a"))
        #expect(TopicFilter.filter("a/+", intersects: "+/b"))
        #expect(!TopicFilter.filter("a/+", intersects: "a/b/c"))
        #expect(!TopicFilter.filter("#", intersects: "$SYS/x"))
        #expect(TopicFilter.filter("$SYS/#", intersects: "$SYS/+"))
        #expect(!TopicFilter.filter("+/x", intersects: "$SYS/+"))
    }

    @Test func coverExamples() {
        #expect(TopicFilter.filter("#", covers: "a/+/#"))
        #expect(TopicFilter.filter("a/#", covers: "a"))
        #expect(!TopicFilter.filter("a", covers: "a/#"))
        #expect(!TopicFilter.filter("#", covers: "$SYS/#"))
        #expect(TopicFilter.filter("$SYS/#", covers: "$SYS"))
        #expect(!TopicFilter.filter("a/b", covers: "a/+"))
    }

    @Test func levelCount() {
        #expect(TopicFilter.levelCount("a") == 1)
        #expect(TopicFilter.levelCount("a//b") == 3)
        #expect(TopicFilter.levelCount("/") == 2)
    }

    @Test func matchingAgreesWithTheNaiveMatcherAndTheTrie() async {
        await propertyCheck(count: 300, input: filterGen, topicGen.array(of: 1...10)) { filter, topics in
            var trie = TopicTrie<Int, Int>()
            trie.insert(filter: filter, key: 0, value: 0)
            for topic in topics {
                let expected = naiveMatches(filter: filter, topic: topic)
                #expect(TopicFilter.filter(filter, matches: topic) == expected, "\(escaped(filter)) \(escaped(topic))")
                #expect(!trieMatches(trie, topic: topic).isEmpty == expected)
            }
        }
    }

    @Test func intersectionMeansATopicMatchesBoth() async {
        await propertyCheck(count: 300, input: smallFilterGen, smallFilterGen) { a, b in
            let witness = smallTopics.contains {
                TopicFilter.filter(a, matches: $0) && TopicFilter.filter(b, matches: $0)
            }
            #expect(TopicFilter.filter(a, intersects: b) == witness, "\(escaped(a)) ∩ \(escaped(b))")
            #expect(TopicFilter.filter(b, intersects: a) == witness)
        }
    }

    @Test func coverMeansEveryTopicOfTheInnerFilterMatchesTheOuter() async {
        await propertyCheck(count: 300, input: smallFilterGen, smallFilterGen) { outer, inner in
            let covered = smallTopics.allSatisfy {
                !TopicFilter.filter(inner, matches: $0) || TopicFilter.filter(outer, matches: $0)
            }
            #expect(TopicFilter.filter(outer, covers: inner) == covered, "\(escaped(outer)) ⊇ \(escaped(inner))")
        }
    }
}
