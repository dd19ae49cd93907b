import AdapterKit
import MQTTCodec
import NIOCore
import Testing
import WharfAuth
import WharfConfig
import WharfCore

@testable import Broker

/// The router's one choke point: in-process publishers and subscribers (adapters, CoAP peers,
/// the uplink) are held to the same ACL as MQTT clients.
@Suite struct PrincipalRoutingTests {
    static let acl = """
        user adapter:plc-1
        topic write devices/plc-1/#
        topic read devices/plc-1/+/set
        user wharf:uplink
        topic read devices/#
        topic write devices/+/+/set
        """

    static let plc = Principal.adapter("plc-1")

    func harness() throws -> BrokerHarness {
        let harness = BrokerHarness()
        let acl = try AccessControlList(parsing: Self.acl, file: "acl")
        harness.broker.updateAccessControl(AccessControl(allowAnonymous: true, acl: acl))
        return harness
    }

    func message(_ topic: String, _ principal: Principal, qos: QoS = .atMostOnce, retain: Bool = false) -> Message {
        Message(topic: topic, payload: ByteBuffer(string: topic), qos: qos, retain: retain, principal: principal)
    }

    @Test func anAdapterPublishesOnlyWhereTheACLLetsIt() throws {
        let broker = try harness().broker
        #expect(throws: Never.self) { try broker.publishNow(message("devices/plc-1/temp", Self.plc)) }
        #expect {
            try broker.publishNow(message("devices/plc-2/temp", Self.plc))
        } throws: { error in
            (error as? PublishError)?.reason == "not-authorized"
        }
        #expect {
            try broker.publishNow(message("devices/plc-1/temp", .adapter("plc-2")))
        } throws: { error in
            (error as? PublishError)?.reason == "not-authorized"
        }
        #expect(broker.snapshot().authorizationRefusals == 2)
    }

    @Test func theCompletionFormRefusesToo() throws {
        let broker = try harness().broker
        let progress = broker.publish(message("devices/plc-2/temp", Self.plc, qos: .atLeastOnce)) { _ in
            Issue.record("a refused publish reports at once, never through the completion")
        }
        guard case .finished(.failure(let error)) = progress else {
            Issue.record("expected a refusal, got \(progress)")
            return
        }
        #expect(error.reason == "not-authorized")
    }

    @Test func nobodyButTheBrokerPublishesOnSys() throws {
        let broker = BrokerHarness().broker  // no ACL at all
        for principal in [Self.plc, .uplink, Principal(.coapPeer(adapter: "c", peer: .plain))] {
            #expect(throws: PublishError.self) { try broker.publishNow(message("$SYS/broker/version", principal)) }
            #expect(throws: PublishError.self) { try broker.publishNow(message("$anything", principal)) }
        }
        #expect(try broker.retainedMessages(matching: "$SYS/#", principal: Self.plc).isEmpty)
    }

    @Test func aRefusedRetainedMessageIsNotKept() throws {
        let broker = try harness().broker
        #expect(throws: PublishError.self) {
            try broker.publishNow(message("devices/plc-2/temp", Self.plc, retain: true))
        }
        #expect(try broker.retainedMessages(matching: "#", principal: .uplink).isEmpty)
    }

    @Test func inProcessSubscribersAreCheckedOnSubscribeAndOnEveryDelivery() throws {
        let broker = try harness().broker
        #expect(throws: SubscribeError.self) {
            _ = try broker.subscribe(filter: "plant/#", qos: .atMostOnce, principal: Self.plc) { _ in }
        }
        let inbox = Inbox()
        let subscription = try broker.subscribe(filter: "devices/+/+/set", qos: .atMostOnce, principal: Self.plc) {
            inbox.append($0)
        }
        defer { subscription.cancel() }
        _ = try broker.publishNow(message("devices/plc-1/valve/set", .uplink))
        _ = try broker.publishNow(message("devices/plc-2/valve/set", .uplink))
        #expect(inbox.topics == ["devices/plc-1/valve/set"])
    }

    @Test func retainedMessagesAreFilteredForTheReader() throws {
        let broker = try harness().broker
        _ = try broker.publishNow(message("devices/plc-1/valve/set", .uplink, retain: true))
        _ = try broker.publishNow(message("devices/plc-2/valve/set", .uplink, retain: true))
        #expect(
            try broker.retainedMessages(matching: "devices/+/valve/set", principal: Self.plc).map(\.topic) == [
                "devices/plc-1/valve/set"
            ])
        #expect(try broker.retainedMessages(matching: "devices/#", principal: .uplink).count == 2)
        #expect(throws: SubscribeError.self) {
            try broker.retainedMessages(matching: "#", principal: .adapter("plc-2"))
        }
    }

    @Test func forwardRulesReadAsTheUplink() throws {
        let harness = try harness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        _ = try harness.broker.publishNow(message("devices/plc-1/temp", Self.plc))
        // The uplink may read devices/# only: an MQTT client's message elsewhere stays local.
        let client = try harness.connection()
        _ = try client.connect("c")
        try client.send(.publish(PublishPacket(topic: "plant/x", payload: ByteBuffer(string: "x"), qos: .atMostOnce)))
        #expect(sink.topics == ["devices/plc-1/temp"])
    }

    @Test func inProcessPublishersAreHeldToTheTopicLevelLimit() throws {
        let broker = BrokerHarness { $0.maxTopicLevels = 3 }.broker
        #expect(throws: Never.self) { try broker.publishNow(message("a/b/c", Self.plc)) }
        #expect {
            try broker.publishNow(message("a/b/c/d", .uplink))
        } throws: { error in
            (error as? PublishError)?.reason == "topic-invalid"
        }
        #expect(broker.snapshot().limitHits["max_topic_levels"] == 1)
    }

    @Test func aConfinedPrincipalStaysWithinItsFilters() throws {
        let broker = BrokerHarness().broker  // the confinement applies without an ACL too
        let peer = Principal(
            .coapPeer(adapter: "coap", peer: .psk("sensor-7")),
            confinement: Confinement(publish: ["devices/sensor-7/+"], read: ["devices/sensor-7/+/set"])
        )
        #expect(throws: Never.self) { try broker.publishNow(message("devices/sensor-7/t", peer)) }
        #expect(throws: PublishError.self) { try broker.publishNow(message("devices/plc-1/valve/set", peer)) }
        #expect(throws: SubscribeError.self) {
            _ = try broker.subscribe(filter: "plant/#", qos: .atMostOnce, principal: peer) { _ in }
        }
        // A filter that reaches some allowed topic is taken; each message is checked on delivery.
        let inbox = Inbox()
        let subscription = try broker.subscribe(filter: "devices/#", qos: .atMostOnce, principal: peer) {
            inbox.append($0)
        }
        defer { subscription.cancel() }
        _ = try broker.publishNow(message("devices/sensor-7/valve/set", .uplink))
        _ = try broker.publishNow(message("devices/sensor-8/valve/set", .uplink))
        #expect(inbox.topics == ["devices/sensor-7/valve/set"])
    }
}
