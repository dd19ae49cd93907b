import Testing
import WharfConfig

/// The broker keys that bound what one client may send or ask for.
@Suite struct BrokerStrictnessConfigTests {
    @Test func allowEmptyPasswordsIsReadAndOffByDefault() throws {
        #expect(WharfConfiguration.default.broker.allowEmptyPasswords == false)
        let on = try #require(loadValid("broker:\n  allow_empty_passwords: true\n"))
        #expect(on.broker.allowEmptyPasswords)
        let problems = issues(of: "broker:\n  allow_empty_passwords: maybe\n")
        #expect(problems.map(\.path) == ["broker.allow_empty_passwords"])
    }
}

extension BrokerStrictnessConfigTests {
    @Test func limitsAreReadWithSafeDefaults() throws {
        let broker = WharfConfiguration.default.broker
        #expect(broker.maxTopicLevels == 200)
        #expect(broker.maxClientIDLength == 256)
        #expect(broker.maxConnectUserProperties == 32)
        let configuration = try #require(
            loadValid(
                "broker:\n  max_topic_levels: 16\n  max_client_id_length: 23\n  max_connect_user_properties: 0\n"))
        #expect(configuration.broker.maxTopicLevels == 16)
        #expect(configuration.broker.maxClientIDLength == 23)
        #expect(configuration.broker.maxConnectUserProperties == 0)
    }

    @Test(
        arguments: [
            ("max_topic_levels: 0", "expected an integer from 1 to 65535, got 0"),
            ("max_topic_levels: 70000", "expected an integer from 1 to 65535, got 70000"),
            ("max_client_id_length: 22", "expected an integer from 23 to 65535, got 22"),
            ("max_connect_user_properties: -1", "expected an integer from 0 to 65535, got -1"),
        ])
    func limitsOutOfRangeAreReported(line: String, message: String) {
        let problems = issues(of: "broker:\n  \(line)\n")
        #expect(problems.count == 1)
        #expect(problems.first?.message == message)
    }
}
