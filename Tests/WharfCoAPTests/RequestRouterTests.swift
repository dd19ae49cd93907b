import Testing
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
    return RequestRouter(settings: settings)
}

@Test func pathAfterThePrefixIsTheTopic() {
    let result = router().ingest(path: segments("t/a/b/c"), identity: .plain, payloadSize: 3)
    #expect(result == .success("a/b/c"))
}

@Test func multiSegmentPrefix() {
    let result = router { $0.ingest.pathPrefix = ["api", "v1"] }
        .ingest(path: segments("api/v1/x"), identity: .plain, payloadSize: 0)
    #expect(result == .success("x"))
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
    #expect(router.ingest(path: segments("t/temp"), identity: .psk("s1"), payloadSize: 1) == .success("dev/s1/temp"))
    #expect(router.ingest(path: segments("t/temp"), identity: .plain, payloadSize: 1) == .success("dev//temp"))
}

@Test func payloadLimit() {
    let router = router { $0.maxPayload = 10 }
    #expect(router.ingest(path: segments("t/a"), identity: .plain, payloadSize: 10) == .success("a"))
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
    #expect(router.ingest(path: segments("t/sensors/a"), identity: .plain, payloadSize: 0) == .success("sensors/a"))
    #expect(
        router.ingest(path: segments("t/devices/a/b"), identity: .plain, payloadSize: 0).rejection?.code == .forbidden)
    #expect(router.read(path: segments("t/config/a"), identity: .plain) == .success("config/a"))
    #expect(router.read(path: segments("t/sensors/a"), identity: .plain).rejection?.code == .forbidden)
}

@Test func certificateSubjectLimitedToItsFilters() {
    let router = router {
        $0.dtls.certificates = [
            CoAPSettings.CertificateSubject(subject: "gw-1", publish: ["sensors/#"], read: ["cmd/gw-1"])
        ]
        $0.ingest.topic = TopicTemplate(parsing: "sensors/{identity}/{path}")
    }
    #expect(
        router.ingest(path: segments("t/temp"), identity: .certificate("gw-1"), payloadSize: 0)
            == .success("sensors/gw-1/temp"))
    #expect(router.read(path: segments("t/cmd/gw-1"), identity: .certificate("gw-1")) == .success("cmd/gw-1"))
    #expect(router.read(path: segments("t/sensors/x"), identity: .certificate("gw-1")).rejection?.code == .forbidden)
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
        router.ingest(path: segments("t/sensors/s1/t"), identity: .psk("s1"), payloadSize: 0)
            == .success("sensors/s1/t"))
    #expect(
        router.ingest(path: segments("t/sensors/s2/t"), identity: .psk("s1"), payloadSize: 0).rejection?.code
            == .forbidden)
    #expect(router.read(path: segments("t/cmd/s1"), identity: .psk("s1")) == .success("cmd/s1"))
    #expect(router.read(path: segments("t/sensors/s1/t"), identity: .psk("s1")).rejection?.code == .forbidden)
    #expect(router.ingest(path: segments("t/a"), identity: .psk("other"), payloadSize: 0).rejection?.code == .forbidden)
}

@Test func readIgnoresTheIngestTemplate() {
    let router = router { $0.ingest.topic = TopicTemplate(parsing: "in/{path}") }
    #expect(router.read(path: segments("t/in/a"), identity: .plain) == .success("in/a"))
}

@Test func nonConfirmablePublishesAtQoS0() {
    #expect(router().qos(confirmable: true) == .atLeastOnce)
    #expect(router().qos(confirmable: false) == .atMostOnce)
}

@Test func filterMatching() {
    #expect(AccessPolicy.filter("#", matches: "a/b"))
    #expect(AccessPolicy.filter("a/#", matches: "a"))
    #expect(AccessPolicy.filter("a/+/c", matches: "a/b/c"))
    #expect(!AccessPolicy.filter("a/+/c", matches: "a/b/d"))
    #expect(!AccessPolicy.filter("a/+", matches: "a/b/c"))
    #expect(!AccessPolicy.filter("#", matches: "$SYS/x"))
    #expect(AccessPolicy.filter("$SYS/#", matches: "$SYS/x"))
    #expect(AccessPolicy.filter("a//b", matches: "a//b"))
}

extension Result where Failure == Rejection {
    var rejection: Rejection? {
        if case .failure(let rejection) = self { return rejection }
        return nil
    }
}

extension Result where Success == String, Failure == Rejection {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.success(let left), .success(let right)): return left == right
        case (.failure(let left), .failure(let right)): return left == right
        default: return false
        }
    }
}
