import PropertyBased
import Testing
import WharfCore

@testable import Uplink

@Suite struct TopicRemapTests {
    @Test func identityLeavesTopicsAlone() throws {
        #expect(TopicRemap.identity.isIdentity)
        #expect(try TopicRemap().map("devices/x") == "devices/x")
        #expect(try TopicRemap().unmap("a/b/c") == "a/b/c")
    }

    @Test func localRuleAddsTheRemotePrefix() throws {
        let remap = TopicRemap(adding: "site1/")
        #expect(try remap.map("devices/x") == "site1/devices/x")
        #expect(try remap.map("devices/a/b") == "site1/devices/a/b")
        #expect(try remap.mapFilter("devices/#") == "site1/devices/#")
    }

    @Test func remoteSubscriptionStripsAndAddsAPrefix() throws {
        let subscription = RemoteSubscription(
            remoteFilter: "cmd/gw1/#", qos: .atLeastOnce, stripPrefix: "cmd/gw1/", localPrefix: "commands/")
        #expect(try subscription.remap.map("cmd/gw1/x") == "commands/x")
        #expect(try subscription.remap.map("cmd/gw1/valve/3/open") == "commands/valve/3/open")
        #expect(try subscription.localFilter() == "commands/#")
    }

    @Test func inverseMapsBack() throws {
        let remap = TopicRemap(removing: "cmd/gw1/", adding: "commands/")
        #expect(remap.inverse == TopicRemap(removing: "commands/", adding: "cmd/gw1/"))
        #expect(try remap.unmap("commands/x") == "cmd/gw1/x")
        #expect(remap.inverse.inverse == remap)
    }

    @Test func stripOnlyRemovesAPrefix() throws {
        let remap = TopicRemap(removing: "site1/")
        #expect(try remap.map("site1/devices/x") == "devices/x")
        #expect(throws: TopicRemapError.self) { try remap.map("site2/devices/x") }
    }

    @Test func missingPrefixIsRefused() {
        let remap = TopicRemap(removing: "cmd/gw1/", adding: "commands/")
        #expect(throws: TopicRemapError(input: "cmd/gw2/x", output: nil, problem: .missingPrefix("cmd/gw1/"))) {
            try remap.map("cmd/gw2/x")
        }
        // "#" also matches the parent level, which lacks the trailing separator of the prefix.
        #expect(throws: TopicRemapError.self) { try remap.map("cmd/gw1") }
    }

    @Test func emptyResultIsRefused() {
        let remap = TopicRemap(removing: "cmd/gw1/")
        #expect(throws: TopicRemapError(input: "cmd/gw1/", output: "", problem: .invalidResult(.empty))) {
            try remap.map("cmd/gw1/")
        }
    }

    @Test func wildcardsInTheResultAreRefused() {
        #expect(throws: TopicRemapError(input: "x", output: "a/+/x", problem: .invalidResult(.wildcardInName))) {
            try TopicRemap(adding: "a/+/").map("x")
        }
        #expect(throws: TopicRemapError.self) { try TopicRemap(adding: "#/").map("x") }
        #expect(throws: TopicRemapError.self) { try TopicRemap(adding: "a/#").mapFilter("x/#") }
    }

    @Test func wildcardInThePrefixToRemoveIsRefused() {
        let remap = TopicRemap(removing: "cmd/+/", adding: "commands/")
        #expect(throws: TopicRemapError(input: "cmd/+/x", output: nil, problem: .wildcardInPrefix("cmd/+/"))) {
            try remap.mapFilter("cmd/+/x")
        }
        #expect(throws: TopicRemapError.self) { try remap.map("cmd/a/x") }
    }

    @Test func nullCharacterInThePrefixIsRefused() {
        #expect(throws: TopicRemapError(input: "x", output: "a\u{0}/x", problem: .invalidResult(.containsNull))) {
            try TopicRemap(adding: "a\u{0}/").map("x")
        }
    }

    @Test func tooLongResultIsRefused() throws {
        let long = String(repeating: "a", count: Topic.maximumLength)
        #expect(throws: TopicRemapError.self) { try TopicRemap(adding: "x/").map(long) }
        #expect(try TopicRemap(removing: "a").map(long).utf8.count == Topic.maximumLength - 1)
    }

    @Test func filterThatDoesNotCoverThePrefixIsRefused() {
        // A subscription `cmd/+/x` cannot drop `cmd/gw1/`: the level is only known per message.
        let remap = TopicRemap(removing: "cmd/gw1/", adding: "commands/")
        #expect(throws: TopicRemapError.self) { try remap.mapFilter("cmd/+/x") }
    }

    @Test func prefixesCompareBytesNotCanonicalEquivalence() throws {
        // "é" precomposed and decomposed are equal Strings but different MQTT topics.
        let remap = TopicRemap(removing: "caf\u{E9}/", adding: "x/")
        #expect(try remap.map("caf\u{E9}/a") == "x/a")
        #expect(throws: TopicRemapError.self) { try remap.map("cafe\u{301}/a") }
    }

    @Test func multiByteTopicsSurviveTheCut() throws {
        let remap = TopicRemap(removing: "π/", adding: "σ/")
        #expect(try remap.map("π/ünïcödé/🚢") == "σ/ünïcödé/🚢")
    }

    @Test func errorsNameTheTopic() {
        let error = TopicRemapError(input: "cmd/gw2/x", output: nil, problem: .missingPrefix("cmd/gw1/"))
        #expect(error.description.contains("cmd/gw2/x"))
        #expect(error.description.contains("cmd/gw1/"))
    }

    @Test func mappingThenUnmappingIsTheIdentity() async {
        let levels = ["a", "b", "devices", "x1", "\u{E9}", "\u{1F6A2}"]
        let topic = Gen.int(in: 0..<levels.count).array(of: 1...5)
            .map { indices in indices.map { levels[$0] }.joined(separator: "/") }
        let prefix = Gen.int(in: 0..<levels.count).array(of: 0...2)
            .map { indices in indices.map { levels[$0] + "/" }.joined() }
        await propertyCheck(input: topic, prefix, prefix) { topic, removing, adding in
            let remap = TopicRemap(removing: removing, adding: adding)
            let remote = removing + topic
            let local = try remap.map(remote)
            #expect(local == adding + topic)
            #expect(try remap.unmap(local) == remote)
        }
    }
}
