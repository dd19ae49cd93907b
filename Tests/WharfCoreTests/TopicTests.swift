import Testing
import WharfCore

@Suite struct TopicTests {
    static let longest = String(repeating: "a", count: 65_535)
    static let tooLong = String(repeating: "a", count: 65_536)
    /// 65,534 ASCII bytes plus a two-byte "é": 65,536 bytes in 65,535 characters.
    static let tooLongInBytes = String(repeating: "a", count: 65_534) + "\u{E9}"

    @Test(arguments: [
        "sport/tennis/player1", "sport", "/", "//", "/finance", "a//b", "$SYS/broker/uptime",
        "sport/tennis player1", " ", "\u{E9}t\u{E9}/\u{1F600}", "ACCOUNTS/accounts", longest,
    ])
    func validNames(_ name: String) {
        #expect(Topic.validateName(name) == nil)
    }

    @Test(arguments: [
        ("", TopicValidationError.empty),
        ("sport/tennis/+", .wildcardInName),
        ("sport/tennis/#", .wildcardInName),
        ("#", .wildcardInName),
        ("+", .wildcardInName),
        ("sport/tennis#", .wildcardInName),
        ("a+b", .wildcardInName),
        ("a\u{0}b", .containsNull),
        (tooLong, .tooLong),
        (tooLongInBytes, .tooLong),
    ])
    func invalidNames(_ name: String, _ error: TopicValidationError) {
        #expect(Topic.validateName(name) == error)
    }

    @Test(arguments: [
        "#", "+", "sport/#", "sport/tennis/#", "sport/tennis/player1/#", "sport/tennis/+", "+/+", "/+", "+/tennis/#",
        "sport/+/player1", "/", "//", "$SYS/#", "$SYS/monitor/+", "a//b", "+//+", "+/#", "/#", "sport", longest,
        "$share/group/a/#",
    ])
    func validFilters(_ filter: String) {
        #expect(Topic.validateFilter(filter) == nil)
    }

    @Test(arguments: [
        ("", TopicValidationError.empty),
        ("sport/tennis#", .misplacedWildcard),
        ("sport/tennis/#/ranking", .misplacedWildcard),
        ("sport+", .misplacedWildcard),
        ("sport/+tennis", .misplacedWildcard),
        ("+a", .misplacedWildcard),
        ("a/#b", .misplacedWildcard),
        ("##", .misplacedWildcard),
        ("++", .misplacedWildcard),
        ("+#", .misplacedWildcard),
        ("#/", .misplacedWildcard),
        ("#/a", .misplacedWildcard),
        ("a\u{0}/#", .containsNull),
        (tooLong, .tooLong),
    ])
    func invalidFilters(_ filter: String, _ error: TopicValidationError) {
        #expect(Topic.validateFilter(filter) == error)
    }

    @Test func systemTopics() {
        #expect(Topic.isSystemTopic("$SYS/broker/uptime"))
        #expect(Topic.isSystemTopic("$"))
        #expect(Topic.isSystemTopic("$share/group/a"))
        #expect(!Topic.isSystemTopic("SYS/$"))
        #expect(!Topic.isSystemTopic("/$SYS"))
        #expect(!Topic.isSystemTopic(""))
    }
}
