import Testing

@testable import WharfCoAP

private func path(_ text: String) -> [[UInt8]] {
    text.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
}

/// What a plain peer gets for a POST to `topic` under the default settings.
private func plainPost(_ topic: String) -> CoAPCode? {
    let result = RequestRouter(settings: CoAPSettings()).ingest(
        path: path("t/" + topic), identity: .plain, payloadSize: 1)
    if case .failure(let rejection) = result { return rejection.code }
    return nil
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
