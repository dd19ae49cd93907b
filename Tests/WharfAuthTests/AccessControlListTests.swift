import Testing
import WharfAuth
import WharfCore

struct AccessControlListTests {
    static let text = """
        # anonymous clients
        topic read public/#

        user alice
        topic readwrite plant/#
        topic deny plant/secret
        topic read alarms/+
        topic write commands/#
        topic plain/topic with spaces
        user bob
        topic read plant/#
        pattern readwrite clients/%c/#
        pattern read users/%u/inbox
        """

    static let alice = Principal.client(username: "alice", clientIdentifier: "a1", listener: "lan")
    static let bob = Principal.client(username: "bob", clientIdentifier: "b1", listener: "lan")
    static let anonymous = Principal.client(username: nil, clientIdentifier: "anon", listener: "lan")

    func acl() throws -> AccessControlList {
        try AccessControlList(parsing: Self.text, file: "acl")
    }

    @Test func parsesSectionsAndAccessWords() throws {
        let acl = try acl()
        #expect(acl.anonymousRules == [ACLRule(access: .read, filter: "public/#", line: 2)])
        #expect(acl.userRules["alice"]?.count == 5)
        #expect(acl.userRules["alice"]?.last == ACLRule(access: .readwrite, filter: "plain/topic with spaces", line: 9))
        #expect(acl.patternRules.map(\.filter) == ["clients/%c/#", "users/%u/inbox"])
    }

    @Test func userLines() throws {
        let acl = try acl()
        #expect(acl.allows(.read, topic: "plant/line1/temp", for: Self.alice))
        #expect(acl.allows(.write, topic: "plant/line1/temp", for: Self.alice))
        #expect(acl.allows(.read, topic: "alarms/fire", for: Self.alice))
        #expect(!acl.allows(.write, topic: "alarms/fire", for: Self.alice))
        #expect(!acl.allows(.read, topic: "alarms/fire/extra", for: Self.alice))
        #expect(acl.allows(.write, topic: "commands/x", for: Self.alice))
        #expect(!acl.allows(.read, topic: "commands/x", for: Self.alice))
        #expect(acl.allows(.read, topic: "plant/x", for: Self.bob))
        #expect(!acl.allows(.write, topic: "plant/x", for: Self.bob))
        // The anonymous section does not apply to users.
        #expect(!acl.allows(.read, topic: "public/news", for: Self.alice))
    }

    @Test func denyTakesPrecedenceOverAnEarlierGrant() throws {
        let acl = try acl()
        #expect(!acl.allows(.read, topic: "plant/secret", for: Self.alice))
        #expect(!acl.allows(.write, topic: "plant/secret", for: Self.alice))
        #expect(acl.allows(.read, topic: "plant/secret/not", for: Self.alice))
    }

    @Test func anonymousClientsGetTheLinesBeforeAnyUser() throws {
        let acl = try acl()
        #expect(acl.allows(.read, topic: "public/news", for: Self.anonymous))
        #expect(!acl.allows(.write, topic: "public/news", for: Self.anonymous))
        #expect(!acl.allows(.read, topic: "plant/x", for: Self.anonymous))
        // An unknown user has no lines of its own, only the patterns.
        let stranger = Principal.client(username: "mallory", clientIdentifier: "m", listener: "lan")
        #expect(!acl.allows(.read, topic: "public/news", for: stranger))
        #expect(acl.allows(.write, topic: "clients/m/x", for: stranger))
    }

    @Test func patternsSubstituteClientIdAndUser() throws {
        let acl = try acl()
        #expect(acl.allows(.write, topic: "clients/a1/status", for: Self.alice))
        #expect(!acl.allows(.write, topic: "clients/b1/status", for: Self.alice))
        #expect(acl.allows(.read, topic: "users/alice/inbox", for: Self.alice))
        #expect(!acl.allows(.read, topic: "users/bob/inbox", for: Self.alice))
        #expect(!acl.allows(.write, topic: "users/alice/inbox", for: Self.alice))
        // %c applies to anonymous clients; %u patterns do not.
        #expect(acl.allows(.write, topic: "clients/anon/x", for: Self.anonymous))
        #expect(!acl.allows(.read, topic: "users//inbox", for: Self.anonymous))
        // Identities with wildcards or separators get no patterns at all.
        for (id, topic) in [("+", "clients/zzz/x"), ("#", "clients/zzz/x"), ("a/b", "clients/a/b/x")] {
            let sneaky = Principal.client(username: nil, clientIdentifier: id, listener: "lan")
            #expect(!acl.allows(.write, topic: topic, for: sneaky))
        }
        let wildUser = Principal.client(username: "x/+", clientIdentifier: "ok", listener: "lan")
        #expect(!acl.allows(.write, topic: "clients/ok/x", for: wildUser))
    }

    @Test func patternDenyDoesNotOverrideTheUsersOwnGrant() throws {
        // Mosquitto 2.0 looks at the user's lines first and stops at a grant there.
        let acl = try AccessControlList(
            parsing: "user alice\ntopic readwrite p/#\npattern deny p/%u/#\n", file: "acl")
        #expect(acl.allows(.write, topic: "p/alice/x", for: Self.alice))
        #expect(!acl.allows(.write, topic: "p/bob/x", for: Self.bob))
    }

    @Test func dollarTopicsNeedAnExplicitFilter() throws {
        let acl = try AccessControlList(parsing: "topic read #\ntopic read $SYS/broker/#\n", file: "acl")
        #expect(acl.allows(.read, topic: "a/b", for: Self.anonymous))
        #expect(!acl.allows(.read, topic: "$internal/x", for: Self.anonymous))
        #expect(acl.allows(.read, topic: "$SYS/broker/uptime", for: Self.anonymous))
    }

    @Test func subscriptions() throws {
        let acl = try acl()
        #expect(acl.allowsSubscription(to: "plant/#", for: Self.alice))
        #expect(acl.allowsSubscription(to: "plant/+/temp", for: Self.alice))
        #expect(acl.allowsSubscription(to: "#", for: Self.alice))
        #expect(acl.allowsSubscription(to: "+/fire", for: Self.alice))
        #expect(!acl.allowsSubscription(to: "plant/secret", for: Self.alice))
        #expect(!acl.allowsSubscription(to: "commands/#", for: Self.alice))
        #expect(!acl.allowsSubscription(to: "nothing/here", for: Self.alice))
        #expect(acl.allowsSubscription(to: "public/+", for: Self.anonymous))
        #expect(!acl.allowsSubscription(to: "plant/#", for: Self.anonymous))
        #expect(!acl.allowsSubscription(to: "$SYS/#", for: Self.anonymous))
        #expect(acl.allowsSubscription(to: "users/alice/inbox", for: Self.alice))
        #expect(!acl.allowsSubscription(to: "users/bob/inbox", for: Self.alice))
        #expect(acl.allowsSubscription(to: "users/+/inbox", for: Self.alice))
    }

    @Test(arguments: [
        ("topic read a\nfrobnicate x\n", 2, "found 'frobnicate'"),
        ("\n\nuser\n", 3, "needs a user name"),
        ("topic\n", 1, "needs a topic filter"),
        ("topic read\n", 1, "needs a topic filter"),
        ("# ok\ntopic deny a/#/b\n", 2, "not a valid MQTT topic filter"),
        ("pattern write x+/y\n", 1, "not a valid MQTT topic filter"),
    ])
    func reportsTheLineOfAProblem(_ text: String, _ line: Int, _ fragment: String) {
        #expect {
            try AccessControlList(parsing: text, file: "/etc/wharf/acl")
        } throws: { error in
            guard let error = error as? AuthFileError else { return false }
            return error.line == line && error.description.hasPrefix("/etc/wharf/acl:\(line): ")
                && error.message.contains(fragment)
        }
    }

    @Test func anEmptyListRefusesEverything() {
        let acl = AccessControlList()
        #expect(!acl.allows(.read, topic: "a", for: Self.alice))
        #expect(!acl.allowsSubscription(to: "#", for: Self.alice))
    }
}
