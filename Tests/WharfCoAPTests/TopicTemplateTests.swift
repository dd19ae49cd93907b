import NIOCore
import Testing
import WharfCore

@testable import WharfCoAP

@Test func templateParts() {
    let template = TopicTemplate(parsing: "a/{identity}/{path}")
    #expect(template.parts == [.literal("a/"), .identity, .literal("/"), .path])
    #expect(template.render(path: "x/y", identity: "id") == "a/id/x/y")
    #expect(template.unknownPlaceholder == nil)
}

@Test func unknownPlaceholdersStayLiteral() {
    let template = TopicTemplate(parsing: "{x}/{path}/{")
    #expect(template.unknownPlaceholder == "x")
    #expect(template.render(path: "p") == "{x}/p/{")
}

@Test func deviceURIs() throws {
    let plain = try DeviceURI.parse("coap://192.0.2.7/a/b%20c").get()
    #expect(!plain.secure && plain.host == "192.0.2.7" && plain.port == 5683 && plain.path == ["a", "b c"])
    let secure = try DeviceURI.parse("COAPS://gw.local:6000").get()
    #expect(secure.secure && secure.host == "gw.local" && secure.port == 6000 && secure.path.isEmpty)
    let v6 = try DeviceURI.parse("coap://[fe80::1]:5/x?a=1&b").get()
    #expect(v6.host == "fe80::1" && v6.port == 5 && v6.query == ["a=1", "b"])
    for bad in ["http://x", "coap://", "coap://h:0/x", "coap://h:99999", "coap://[::1/x", "coap://h/%zz"] {
        #expect(throws: DeviceURI.URIError.self) { try DeviceURI.parse(bad).get() }
    }
}

@Test func hexKeys() {
    #expect(hexBytes("00aBff") == [0, 0xAB, 0xFF])
    #expect(hexBytes("abc") == nil)
    #expect(hexBytes("zz") == nil)
}

@Test func representationOfARetainedMessage() {
    var properties = MessageProperties(messageExpiryInterval: 60, contentType: "application/json")
    var message = Message(
        topic: "a", payload: ByteBuffer(), properties: properties, principal: .adapter("test"),
        receivedAt: 1_000_000_000)
    var representation = Representation(message, now: 11_500_000_000)
    #expect(representation.contentFormat == 50)
    #expect(representation.maxAge == 50)
    representation = Representation(message, now: 100_000_000_000)
    #expect(representation.maxAge == 0)
    properties = MessageProperties(payloadFormatIndicator: 1)
    message.properties = properties
    representation = Representation(message, now: 0)
    #expect(representation.contentFormat == 0)
    #expect(representation.maxAge == nil)
    message.properties = MessageProperties()
    #expect(Representation(message, now: 0).contentFormat == 42)
}
