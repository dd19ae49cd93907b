import PropertyBased
import Testing
import WharfCore

@testable import Store

@Suite struct BlobCodecTests {
    static let full = MessageProperties(
        payloadFormatIndicator: 1,
        messageExpiryInterval: 0xDEAD_BEEF,
        contentType: "application/json",
        responseTopic: "reply/é/☃",
        correlationData: [0, 1, 2, 255],
        userProperties: [UserProperty("a", "1"), UserProperty("a", "2"), UserProperty("", "")]
    )

    @Test func emptyPropertiesAreStoredAsNothing() throws {
        #expect(BlobCodec.encode(MessageProperties()) == nil)
        #expect(try BlobCodec.decodeProperties([]) == MessageProperties())
    }

    @Test func everyFieldRoundTrips() throws {
        let blob = try #require(BlobCodec.encode(Self.full))
        #expect(blob.first == BlobCodec.propertiesVersion)
        #expect(try BlobCodec.decodeProperties(blob) == Self.full)
    }

    @Test func eachFieldAloneRoundTrips() throws {
        let singles = [
            MessageProperties(payloadFormatIndicator: 0),
            MessageProperties(messageExpiryInterval: 0),
            MessageProperties(contentType: ""),
            MessageProperties(responseTopic: "r"),
            MessageProperties(correlationData: []),
            MessageProperties(userProperties: [UserProperty("k", "v")]),
        ]
        for properties in singles {
            let blob = try #require(BlobCodec.encode(properties))
            #expect(try BlobCodec.decodeProperties(blob) == properties)
        }
    }

    @Test func randomPropertiesRoundTrip() async {
        let text = Gen.uint32(in: 1...0x10FFFF).map { Unicode.Scalar($0) ?? "?" }.array(of: 0...20).map {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: $0)
            return String(view)
        }
        let input = zip(
            Gen.uint8(in: 0...1).optional,
            Gen.uint32(in: 0...UInt32.max).optional,
            text.optional,
            text.optional,
            Gen.uint8(in: 0...255).array(of: 0...40).optional,
            zip(text, text).array(of: 0...4)
        )
        await propertyCheck(count: 300, input: input) { indicator, expiry, contentType, responseTopic, data, pairs in
            let properties = MessageProperties(
                payloadFormatIndicator: indicator,
                messageExpiryInterval: expiry,
                contentType: contentType,
                responseTopic: responseTopic,
                correlationData: data,
                userProperties: pairs.map { UserProperty($0.0, $0.1) }
            )
            let decoded = try BlobCodec.decodeProperties(BlobCodec.encode(properties) ?? [])
            #expect(decoded == properties)
        }
    }

    @Test func everyTruncationIsRejected() throws {
        let blob = try #require(BlobCodec.encode(Self.full))
        for length in 1..<blob.count {
            #expect(throws: BlobDecodingError.self) { try BlobCodec.decodeProperties(Array(blob.prefix(length))) }
        }
    }

    @Test func malformedBlobsAreRejected() {
        let cases: [[UInt8]] = [
            [2, 0x01, 1],  // unknown version
            [1, 0x40],  // unknown flag
            [1, 0x01, 1, 9],  // trailing byte
            [1, 0x04, 2, 0xC3, 0x28],  // invalid UTF-8
            [1, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // varint longer than five bytes
            [1, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],  // varint above UInt32.max
            [1, 0x20, 0x7F],  // user property count far beyond the bytes
            [1, 0x20, 0],  // flag set but no pairs
        ]
        for blob in cases {
            #expect(throws: BlobDecodingError.self) { try BlobCodec.decodeProperties(blob) }
        }
    }

    @Test func randomBytesNeverTrap() async {
        let bytes = Gen.uint8(in: 0...255).array(of: 0...64)
        await propertyCheck(count: 1000, input: bytes) { bytes in
            // Any outcome is fine except a crash; a decoded value must re-encode to something decodable.
            if let properties = try? BlobCodec.decodeProperties([1] + bytes) {
                let again = try BlobCodec.decodeProperties(BlobCodec.encode(properties) ?? [])
                #expect(again == properties)
            }
            _ = try? BlobCodec.decodeSubscriptionIdentifiers([1] + bytes)
        }
    }

    @Test func subscriptionIdentifiersRoundTrip() async throws {
        #expect(BlobCodec.encode(subscriptionIdentifiers: []) == nil)
        #expect(try BlobCodec.decodeSubscriptionIdentifiers([]) == [])
        await propertyCheck(count: 200, input: Gen.uint32(in: 1...268_435_455).array(of: 1...8)) { identifiers in
            let blob = BlobCodec.encode(subscriptionIdentifiers: identifiers) ?? []
            let decoded = try BlobCodec.decodeSubscriptionIdentifiers(blob)
            #expect(decoded == identifiers)
        }
        #expect(throws: BlobDecodingError.self) { try BlobCodec.decodeSubscriptionIdentifiers([7, 1]) }
        #expect(throws: BlobDecodingError.self) { try BlobCodec.decodeSubscriptionIdentifiers([1, 0x80]) }
    }
}
