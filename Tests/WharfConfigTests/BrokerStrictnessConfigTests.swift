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
