import AdapterKit
import Testing

@testable import WharfCoAP

@Test func codesPrintAsClassDotDetail() {
    #expect(CoAPCode.changed.description == "2.04")
    #expect(CoAPCode.requestEntityTooLarge.description == "4.13")
    #expect(CoAPCode.serviceUnavailable.description == "5.03")
}

@Test func wireValueRoundTrips() {
    #expect(CoAPCode.changed.wireValue == 0x44)
    #expect(CoAPCode.notFound.wireValue == 0x84)
    for number in [201, 204, 205, 400, 401, 403, 404, 405, 413, 500, 503] {
        #expect(CoAPCode(wireValue: CoAPCode(number).wireValue) == CoAPCode(number))
    }
}

@Test func publishErrorsMapToCodes() {
    #expect(CoAPCode.forPublishError(PublishError(reason: "quota-exceeded", message: "")) == .serviceUnavailable)
    #expect(CoAPCode.forPublishError(PublishError(reason: "shutting-down", message: "")) == .serviceUnavailable)
    #expect(CoAPCode.forPublishError(PublishError(reason: "store-failed", message: "")) == .serviceUnavailable)
    #expect(CoAPCode.forPublishError(PublishError(reason: "topic-invalid", message: "")) == .badRequest)
    #expect(CoAPCode.forPublishError(PublishError(reason: "not-authorized", message: "")) == .forbidden)
}

@Test func contentFormatsMapBothWays() {
    let table: [(UInt16, String)] = [
        (0, "text/plain;charset=utf-8"), (40, "application/link-format"), (41, "application/xml"),
        (42, "application/octet-stream"), (47, "application/exi"), (50, "application/json"),
        (60, "application/cbor"), (110, "application/senml+json"), (112, "application/senml+cbor"),
    ]
    for (format, type) in table {
        #expect(ContentFormat.contentType(for: format) == type)
        #expect(ContentFormat.format(for: type) == format)
    }
    #expect(ContentFormat.contentType(for: 11050) == "application/coap-cf-11050")
    #expect(ContentFormat.format(for: "application/coap-cf-11050") == 11050)
    #expect(ContentFormat.format(for: "text/plain") == 0)
    #expect(ContentFormat.format(for: "text/plain; charset=utf-8") == 0)
    #expect(ContentFormat.format(for: "Application/JSON") == 50)
    #expect(ContentFormat.format(for: "image/png") == nil)
}

@Test func commandResultIsEscapedJSON() {
    #expect(CommandResult(code: .changed, payload: "ok").json == #"{"code": "2.04", "payload": "ok"}"#)
    #expect(
        CommandResult(code: .badRequest, payload: "a\"b\\\n\u{1}").json
            == #"{"code": "4.00", "payload": "a\"b\\\n\u0001"}"#)
    #expect(CommandResult(code: nil, payload: "no answer").json == #"{"code": "timeout", "payload": "no answer"}"#)
}
