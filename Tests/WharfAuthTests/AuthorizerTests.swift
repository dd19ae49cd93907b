import Testing
import WharfAuth
import WharfCore

struct AuthorizerTests {
    static let acl = """
        topic read devices/#
        user alice
        topic readwrite plant/#
        user adapter:plc-1
        topic write devices/plc-1/+
        topic write devices/plc-1/+/set/result
        topic read devices/plc-1/+/set
        user coap-psk:sensor-7
        topic write devices/sensor-7/#
        topic read devices/sensor-7/+/set
        user coap-plain:coap
        topic write devices/+/temperature
        user wharf:uplink
        topic read #
        topic write devices/+/+/set
        pattern readwrite clients/%c/#
        """

    static let alice = Principal.client(username: "alice", clientIdentifier: "a1", listener: "lan")
    static let anonymous = Principal.client(username: nil, clientIdentifier: "anon", listener: "lan")
    static let plc = Principal.adapter("plc-1")
    static let otherAdapter = Principal.adapter("plc-2")
    static let sensor = Principal(.coapPeer(adapter: "coap", peer: .psk("sensor-7")))
    static let plainPeer = Principal(.coapPeer(adapter: "coap", peer: .plain))

    func rules() throws -> Authorizer {
        Authorizer(acl: try AccessControlList(parsing: Self.acl, file: "acl"))
    }

    @Test func principalsOtherThanClientsHaveSectionsOfTheirOwn() throws {
        let rules = try rules()
        #expect(rules.checkPublish("devices/plc-1/temp", by: Self.plc) == nil)
        #expect(rules.checkPublish("devices/plc-2/temp", by: Self.plc) == .acl)
        #expect(rules.checkSubscribe("devices/plc-1/+/set", by: Self.plc) == nil)
        #expect(rules.checkRead("devices/plc-1/valve/set", by: Self.plc) == nil)
        #expect(rules.checkRead("devices/plc-2/valve/set", by: Self.plc) == .acl)
        // An adapter without a section gets nothing: the ACL refuses what it does not grant.
        #expect(rules.checkPublish("devices/plc-2/temp", by: Self.otherAdapter) == .acl)
        #expect(rules.checkPublish("devices/sensor-7/t", by: Self.sensor) == nil)
        #expect(rules.checkPublish("devices/x/temperature", by: Self.plainPeer) == nil)
        #expect(rules.checkPublish("devices/x/valve/set", by: Self.plainPeer) == .acl)
        #expect(rules.checkPublish("devices/plc-1/valve/set", by: .uplink) == nil)
        #expect(rules.checkRead("anything/at/all", by: .uplink) == nil)
    }

    @Test func onlyTheUplinkMayWriteCommandTopicsInTheLockedDownExample() throws {
        let rules = try rules()
        let command = "devices/plc-1/valve/set"
        let refused = [Self.alice, Self.anonymous, Self.plc, Self.otherAdapter, Self.sensor, Self.plainPeer]
        for principal in refused {
            #expect(rules.checkPublish(command, by: principal) != nil, "\(principal)")
        }
        #expect(rules.checkPublish(command, by: .uplink) == nil)
    }

    @Test func anMQTTClientNamedLikeAnotherPrincipalGetsNoneOfItsGrants() throws {
        let rules = try rules()
        for name in ["adapter:plc-1", "wharf:uplink", "coap-psk:sensor-7"] {
            let impostor = Principal.client(username: name, clientIdentifier: "x", listener: "lan")
            #expect(rules.checkPublish("devices/plc-1/temp", by: impostor) == .acl)
            #expect(rules.checkPublish("devices/plc-1/valve/set", by: impostor) == .acl)
            #expect(rules.checkPublish("devices/sensor-7/t", by: impostor) == .acl)
        }
    }

    @Test func patternsApplyToMQTTClientsOnly() throws {
        let rules = try rules()
        #expect(rules.checkPublish("clients/a1/x", by: Self.alice) == nil)
        // An adapter has no client id: "%c" never becomes its name.
        #expect(rules.checkPublish("clients/plc-1/x", by: Self.plc) == .acl)
        #expect(rules.checkPublish("clients/adapter:plc-1/x", by: Self.plc) == .acl)
    }

    @Test func onlyTheBrokerPublishesOnSys() throws {
        for rules in [try rules(), Authorizer(acl: nil)] {
            #expect(rules.checkPublish("$SYS/broker/version", by: .broker) == nil)
            #expect(rules.checkPublish("$SYS/broker/version", by: Self.alice) == .systemTopic)
            #expect(rules.checkPublish("$SYS", by: Self.plc) == .systemTopic)
            #expect(rules.checkPublish("$SYS/x", by: .uplink) == .systemTopic)
            #expect(rules.checkPublish("$SYS/x", by: Self.sensor) == .systemTopic)
        }
    }

    @Test func inProcessPublishersUseNoDollarTopics() {
        let open = Authorizer(acl: nil)
        #expect(open.checkPublish("$internal/x", by: Self.plc) == .reservedTopic)
        #expect(open.checkPublish("$share/g/x", by: .uplink) == .reservedTopic)
        #expect(open.checkPublish("$internal/x", by: Self.plainPeer) == .reservedTopic)
        // MQTT clients may publish to `$` topics other than `$SYS`, as MQTT allows.
        #expect(open.checkPublish("$internal/x", by: Self.alice) == nil)
        #expect(open.checkPublish("$SYSTEM/x", by: Self.alice) == nil)
        #expect(open.checkPublish("anything", by: .restored) == .notAPublisher)
    }

    @Test func withoutAnACLEverythingElseIsAllowed() {
        let open = Authorizer(acl: nil)
        for principal in [Self.alice, Self.anonymous, Self.plc, Self.sensor, Self.plainPeer, .uplink] {
            #expect(open.checkPublish("devices/plc-1/valve/set", by: principal) == nil)
            #expect(open.checkSubscribe("#", by: principal) == nil)
            #expect(open.checkRead("devices/plc-1/valve/set", by: principal) == nil)
            #expect(open.readsUnrestricted(by: principal))
        }
    }

    @Test func aConfinementAppliesWithAndWithoutAnACL() throws {
        let confined = Principal(
            .coapPeer(adapter: "coap", peer: .psk("sensor-7")),
            confinement: Confinement(publish: ["devices/sensor-7/+"], read: ["devices/sensor-7/+/set"])
        )
        for rules in [try rules(), Authorizer(acl: nil)] {
            #expect(rules.checkPublish("devices/sensor-7/t", by: confined) == nil)
            #expect(rules.checkPublish("devices/sensor-7/a/b", by: confined) == .confinement)
            #expect(rules.checkSubscribe("devices/+/+/set", by: confined) == nil)
            #expect(rules.checkSubscribe("plant/#", by: confined) == .confinement)
            #expect(rules.checkRead("devices/sensor-7/x/set", by: confined) == nil)
            #expect(rules.checkRead("devices/sensor-8/x/set", by: confined) == .confinement)
            #expect(!rules.readsUnrestricted(by: confined))
        }
    }

    @Test(arguments: [
        ("user wharf:cloud\n", "unknown Wharf principal 'wharf:cloud'"),
        ("user adapter:\n", "'adapter:' needs a name"),
        ("user coap-psk:\n", "'coap-psk:' needs a name"),
    ])
    func reservedNamesMustNameAPrincipal(_ text: String, _ fragment: String) {
        #expect {
            _ = try AccessControlList(parsing: text, file: "acl")
        } throws: { error in
            "\(error)".contains(fragment) && "\(error)".contains("acl:1")
        }
    }

    @Test func reservedNamesGoToTheirOwnTable() throws {
        let acl = try AccessControlList(parsing: Self.acl, file: "acl")
        #expect(acl.userRules.keys.sorted() == ["alice"])
        #expect(
            acl.principalRules.keys.sorted() == [
                "adapter:plc-1", "coap-plain:coap", "coap-psk:sensor-7", "wharf:uplink",
            ]
        )
    }

    @Test func aclNamesOfEveryKind() {
        #expect(Self.alice.aclName == "alice")
        #expect(Self.anonymous.aclName == nil)
        #expect(Self.plc.aclName == "adapter:plc-1")
        #expect(Self.sensor.aclName == "coap-psk:sensor-7")
        #expect(Self.plainPeer.aclName == "coap-plain:coap")
        #expect(Principal(.coapPeer(adapter: "coap", peer: .certificate("meter-12"))).aclName == "coap-cert:meter-12")
        #expect(Principal.uplink.aclName == "wharf:uplink")
        #expect(Principal.plugin("opcua").aclName == "plugin:opcua")
        #expect(Principal.broker.aclName == nil)
    }
}
