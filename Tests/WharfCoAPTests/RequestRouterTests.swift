import Testing
import WharfAuth
import WharfCore

@testable import WharfCoAP

private func segments(_ path: String) -> [[UInt8]] {
    path.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
}

/// A router whose plain peers may publish anywhere (these tests are about topics), then `configure`.
private func router(_ configure: (inout CoAPSettings) -> Void = { _ in }) -> RequestRouter {
    var settings = CoAPSettings()
    settings.plain.publish = ["#"]
    configure(&settings)
    return RequestRouter(settings: settings, adapter: "coap")
}

@Test func pathAfterThePrefixIsTheTopic() {
    let result = router().ingest(path: segments("t/a/b/c"), identity: .plain, payloadSize: 3)
    #expect(result.topic == "a/b/c")
}

@Test func multiSegmentPrefix() {
    let result = router { $0.ingest.pathPrefix = ["api", "v1"] }
        .ingest(path: segments("api/v1/x"), identity: .plain, payloadSize: 0)
    #expect(result.topic == "x")
}

@Test func pathOutsideThePrefixIsNotFound() {
    #expect(router().ingest(path: segments("x/a"), identity: .plain, payloadSize: 0).rejection?.code == .notFound)
    #expect(router().ingest(path: [], identity: .plain, payloadSize: 0).rejection?.code == .notFound)
}

@Test func emptyTopicIsBadRequest() {
    #expect(router().ingest(path: segments("t"), identity: .plain, payloadSize: 0).rejection?.code == .badRequest)
}

@Test func wildcardsInThePathAreBadRequests() {
    for path in ["t/a/+", "t/#", "t/a+b"] {
        #expect(router().ingest(path: segments(path), identity: .plain, payloadSize: 0).rejection?.code == .badRequest)
    }
}

@Test func invalidUTF8IsBadRequest() {
    let path: [[UInt8]] = [Array("t".utf8), [0xFF, 0xFE]]
    #expect(router().ingest(path: path, identity: .plain, payloadSize: 0).rejection?.code == .badRequest)
}

@Test func nulIsBadRequest() {
    let path: [[UInt8]] = [Array("t".utf8), [0x61, 0x00]]
    #expect(router().ingest(path: path, identity: .plain, payloadSize: 0).rejection?.code == .badRequest)
}

@Test func templateUsesIdentity() {
    let router = router {
        $0.ingest.topic = TopicTemplate(parsing: "dev/{identity}/{path}")
        $0.dtls.psk = [CoAPSettings.PSKIdentity(identity: "s1", key: [1])]
    }
    #expect(router.ingest(path: segments("t/temp"), identity: .psk("s1"), payloadSize: 1).topic == "dev/s1/temp")
    #expect(router.ingest(path: segments("t/temp"), identity: .plain, payloadSize: 1).topic == "dev//temp")
}

@Test func payloadLimit() {
    let router = router { $0.maxPayload = 10 }
    #expect(router.ingest(path: segments("t/a"), identity: .plain, payloadSize: 10).topic == "a")
    #expect(
        router.ingest(path: segments("t/a"), identity: .plain, payloadSize: 11).rejection?.code
            == .requestEntityTooLarge)
}

@Test func plainRefusedWhenNotAllowed() {
    let router = router { $0.allowPlain = false }
    #expect(router.ingest(path: segments("t/a"), identity: .plain, payloadSize: 0).rejection?.code == .unauthorized)
    #expect(router.read(path: segments("t/a"), identity: .plain).rejection?.code == .unauthorized)
    #expect(router.access.grant(for: .plain) == nil)
}

@Test func plainFiltersAreConfigurable() {
    let router = router {
        $0.plain = TopicGrant(publish: ["sensors/#"], read: ["config/+"])
    }
    #expect(router.ingest(path: segments("t/sensors/a"), identity: .plain, payloadSize: 0).mayPublish)
    #expect(
        router.ingest(path: segments("t/devices/a/b"), identity: .plain, payloadSize: 0).publishRefusal == .confinement)
    #expect(router.read(path: segments("t/config/a"), identity: .plain).mayRead)
    #expect(router.read(path: segments("t/sensors/a"), identity: .plain).readRefusal == .confinement)
}

@Test func certificateSubjectLimitedToItsFilters() {
    let router = router {
        $0.dtls.certificates = [
            CoAPSettings.CertificateSubject(subject: "gw-1", publish: ["sensors/#"], read: ["cmd/gw-1"])
        ]
        $0.ingest.topic = TopicTemplate(parsing: "sensors/{identity}/{path}")
    }
    #expect(
        router.ingest(path: segments("t/temp"), identity: .certificate("gw-1"), payloadSize: 0).topic
            == "sensors/gw-1/temp")
    #expect(router.ingest(path: segments("t/temp"), identity: .certificate("gw-1"), payloadSize: 0).mayPublish)
    #expect(router.read(path: segments("t/cmd/gw-1"), identity: .certificate("gw-1")).mayRead)
    #expect(router.read(path: segments("t/sensors/x"), identity: .certificate("gw-1")).readRefusal == .confinement)
    // A CA-verified subject that is not listed may do nothing.
    #expect(
        router.ingest(path: segments("t/temp"), identity: .certificate("gw-2"), payloadSize: 0).rejection?.code
            == .forbidden)
    #expect(router.read(path: segments("t/cmd/gw-1"), identity: .certificate("gw-2")).rejection?.code == .forbidden)
    #expect(router.access.grant(for: .certificate("gw-2")) == nil)
}

@Test func dtlsPeerWithoutIdentityMayDoNothing() {
    let router = router { $0.dtls.psk = [CoAPSettings.PSKIdentity(identity: "", key: [1])] }
    #expect(
        router.ingest(path: segments("t/a"), identity: .unverified, payloadSize: 0).rejection?.code == .unauthorized)
    #expect(router.read(path: segments("t/a"), identity: .unverified).rejection?.code == .unauthorized)
}

@Test func grantsAreTheConfiguredFilters() {
    let router = router {
        $0.plain = TopicGrant(publish: ["p/#"], read: ["r/#"])
        $0.dtls.psk = [CoAPSettings.PSKIdentity(identity: "s1", key: [1], publish: ["s/#"], read: [])]
        $0.dtls.certificates = [CoAPSettings.CertificateSubject(subject: "gw", publish: [], read: ["g/#"])]
    }
    #expect(router.access.grant(for: .plain) == TopicGrant(publish: ["p/#"], read: ["r/#"]))
    #expect(router.access.grant(for: .psk("s1")) == TopicGrant(publish: ["s/#"], read: []))
    #expect(router.access.grant(for: .certificate("gw")) == TopicGrant(publish: [], read: ["g/#"]))
    #expect(router.access.grant(for: .psk("gw")) == nil)
    #expect(router.access.grant(for: .certificate("s1")) == nil)
    #expect(router.access.grant(for: .unverified) == nil)
}

@Test func pskIdentityLimitedToItsFilters() {
    let router = router {
        $0.dtls.psk = [
            CoAPSettings.PSKIdentity(identity: "s1", key: [1], publish: ["sensors/s1/#"], read: ["cmd/s1"])
        ]
    }
    #expect(
        router.ingest(path: segments("t/sensors/s1/t"), identity: .psk("s1"), payloadSize: 0).topic
            == "sensors/s1/t")
    #expect(router.ingest(path: segments("t/sensors/s1/t"), identity: .psk("s1"), payloadSize: 0).mayPublish)
    #expect(
        router.ingest(path: segments("t/sensors/s2/t"), identity: .psk("s1"), payloadSize: 0).publishRefusal
            == .confinement)
    #expect(router.read(path: segments("t/cmd/s1"), identity: .psk("s1")).mayRead)
    #expect(router.read(path: segments("t/sensors/s1/t"), identity: .psk("s1")).readRefusal == .confinement)
    #expect(router.ingest(path: segments("t/a"), identity: .psk("other"), payloadSize: 0).rejection?.code == .forbidden)
}

@Test func readIgnoresTheIngestTemplate() {
    let router = router { $0.ingest.topic = TopicTemplate(parsing: "in/{path}") }
    #expect(router.read(path: segments("t/in/a"), identity: .plain).topic == "in/a")
}

@Test func nonConfirmablePublishesAtQoS0() {
    #expect(router().qos(confirmable: true) == .atLeastOnce)
    #expect(router().qos(confirmable: false) == .atMostOnce)
}

@Test func principalsCarryTheirGrantsAsConfinement() {
    let router = router {
        $0.plain = TopicGrant(publish: ["p/#"], read: ["r/#"])
        $0.dtls.psk = [CoAPSettings.PSKIdentity(identity: "s1", key: [1], publish: ["s/#"], read: [])]
        $0.dtls.certificates = [CoAPSettings.CertificateSubject(subject: "gw", publish: [], read: ["g/#"])]
    }
    let plain = router.principal(of: .plain).success
    #expect(
        plain
            == Principal(
                .coapPeer(adapter: "coap", peer: .plain), confinement: Confinement(publish: ["p/#"], read: ["r/#"])))
    #expect(plain?.aclName == "coap-plain:coap")
    let psk = router.principal(of: .psk("s1")).success
    #expect(
        psk
            == Principal(
                .coapPeer(adapter: "coap", peer: .psk("s1")), confinement: Confinement(publish: ["s/#"], read: [])))
    #expect(psk?.aclName == "coap-psk:s1")
    let certificate = router.principal(of: .certificate("gw")).success
    #expect(
        certificate
            == Principal(
                .coapPeer(adapter: "coap", peer: .certificate("gw")),
                confinement: Confinement(publish: [], read: ["g/#"])))
    #expect(certificate?.aclName == "coap-cert:gw")
    // Requests act as the same principals.
    #expect(router.ingest(path: segments("t/p/1"), identity: .plain, payloadSize: 0).success?.principal == plain)
    #expect(router.read(path: segments("t/g/1"), identity: .certificate("gw")).success?.principal == certificate)
    // Identities that may do nothing have no principal.
    #expect(router.principal(of: .psk("gw")).rejection?.code == .forbidden)
    #expect(router.principal(of: .certificate("s1")).rejection?.code == .forbidden)
    #expect(router.principal(of: .unverified).rejection?.code == .unauthorized)
}

@Test func theAdapterNameIsPartOfPlainPrincipals() {
    let router = RequestRouter(settings: CoAPSettings(), adapter: "coap-lan")
    #expect(router.principal(of: .plain).success?.aclName == "coap-plain:coap-lan")
    #expect(router.principal(of: .plain).success?.confinement == CoAPSettings().plain.confinement)
}

@Test func theACLAppliesOnTopOfTheGrant() throws {
    let router = router {
        $0.dtls.psk = [CoAPSettings.PSKIdentity(identity: "s1", key: [1], publish: ["s/#"], read: ["s/#"])]
    }
    let acl = try AccessControlList(
        parsing: "user coap-psk:s1\ntopic readwrite s/open/#\ntopic write x/#\n", file: "acl")
    let rules = Authorizer(acl: acl)
    let principal = try #require(router.principal(of: .psk("s1")).success)
    #expect(rules.checkPublish("s/open/t", by: principal) == nil)
    #expect(rules.checkPublish("s/closed/t", by: principal) == .acl)
    #expect(rules.checkPublish("x/t", by: principal) == .confinement)
    #expect(rules.checkRead("s/open/t", by: principal) == nil)
    #expect(rules.checkRead("s/closed/t", by: principal) == .acl)
    // Plain peers have no lines in this ACL: nothing is allowed.
    let plain = try #require(router.principal(of: .plain).success)
    #expect(rules.checkPublish("s/open/t", by: plain) != nil)
}

extension Result where Failure == Rejection {
    var rejection: Rejection? {
        if case .failure(let rejection) = self { return rejection }
        return nil
    }

    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

extension Result where Success == RoutedRequest, Failure == Rejection {
    /// The topic of a request passed on to the broker's router.
    var topic: String? { success?.topic }

    /// Whether the broker's rules (without an ACL file) let the request's principal publish to
    /// its topic; `false` when the request is refused before it reaches the broker.
    var mayPublish: Bool {
        success.map { Authorizer(acl: nil).checkPublish($0.topic, by: $0.principal) == nil } ?? false
    }

    /// Why the broker's rules refuse the publish; `nil` when they allow it or the request never
    /// reaches the broker.
    var publishRefusal: Authorizer.Refusal? {
        success.flatMap { Authorizer(acl: nil).checkPublish($0.topic, by: $0.principal) }
    }

    /// As ``mayPublish``, for reading the topic.
    var mayRead: Bool { success.map { Authorizer(acl: nil).checkRead($0.topic, by: $0.principal) == nil } ?? false }

    /// As ``publishRefusal``, for reading the topic.
    var readRefusal: Authorizer.Refusal? {
        success.flatMap { Authorizer(acl: nil).checkRead($0.topic, by: $0.principal) }
    }
}
