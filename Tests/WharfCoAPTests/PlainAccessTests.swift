import AdapterKit
import Testing
import WharfAuth

@testable import WharfCoAP

private func path(_ text: String) -> [[UInt8]] {
    text.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
}

/// What a plain peer gets for a POST to `topic` under the default settings: the code of the
/// request's rejection, or of the broker's refusal (without an ACL file) of its principal's publish.
private func plainPost(_ topic: String) -> CoAPCode? {
    let result = RequestRouter(settings: CoAPSettings(), adapter: "coap").ingest(
        path: path("t/" + topic), identity: .plain, payloadSize: 1)
    switch result {
    case .failure(let rejection):
        return rejection.code
    case .success(let routed):
        guard Authorizer(acl: nil).checkPublish(routed.topic, by: routed.principal) != nil else { return nil }
        return CoAPCode.forPublishError(PublishError(reason: "not-authorized", message: "refused"))
    }
}

@Test func plainPublishToCommandTopicsIsForbiddenByDefault() {
    #expect(plainPost("devices/plc-1/pump/set") == .forbidden)
    #expect(plainPost("devices/plc-1/pump/set/result") == .forbidden)
    #expect(plainPost("sensors/hall/temp") == .forbidden)
    #expect(plainPost("devices/plc-1") == .forbidden)
}

@Test func plainPublishOfTelemetryIsAllowedByDefault() {
    #expect(plainPost("devices/plc-1/temp") == nil)
    #expect(plainPost("devices/meter-2/kwh") == nil)
}
