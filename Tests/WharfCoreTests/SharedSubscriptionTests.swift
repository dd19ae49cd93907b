import Testing
import WharfCore

@Suite struct SharedSubscriptionTests {
    @Test(arguments: [
        ("$share/group/sport/tennis", "group", "sport/tennis"),
        ("$share/g/#", "g", "#"),
        ("$share/g/+/x", "g", "+/x"),
        ("$share/g//", "g", "/"),
        ("$share/$SYS/$SYS/#", "$SYS", "$SYS/#"),
        ("$share/gr\u{FC}ppe/a", "gr\u{FC}ppe", "a"),
    ])
    func parsesSharedSubscriptions(_ raw: String, _ group: String, _ filter: String) throws {
        let parsed = try #require(SharedSubscription.parse(raw)).get()
        #expect(parsed == SharedSubscription(group: group, filter: filter))
        #expect(parsed.rawValue == raw)
    }

    @Test(arguments: ["sport/tennis", "$SYS/#", "$share", "$sharegroup/a", "share/g/a", "#", "$SHARE/g/a"])
    func ignoresOrdinaryFilters(_ filter: String) {
        #expect(SharedSubscription.parse(filter) == nil)
    }

    @Test(arguments: [
        ("$share/", TopicValidationError.invalidSharedSubscription),
        ("$share/group", .invalidSharedSubscription),
        ("$share/group/", .invalidSharedSubscription),
        ("$share//a", .invalidSharedSubscription),
        ("$share/g+/a", .invalidSharedSubscription),
        ("$share/+/a", .invalidSharedSubscription),
        ("$share/g#/a", .invalidSharedSubscription),
        ("$share/#/a", .invalidSharedSubscription),
        ("$share/g/a#", .misplacedWildcard),
        ("$share/g/#/a", .misplacedWildcard),
        ("$share/g/a\u{0}", .containsNull),
    ])
    func rejectsMalformedSharedSubscriptions(_ filter: String, _ error: TopicValidationError) {
        #expect(SharedSubscription.parse(filter) == .failure(error))
    }
}
