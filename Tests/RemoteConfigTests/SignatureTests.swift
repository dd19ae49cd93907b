import PropertyBased
import Testing
import WharfConfig

@testable import RemoteConfig

@Suite struct SignatureTests {
    /// Made once with `wharfctl config keygen fleet-2026` and `wharfctl config sign --key fleet-2026.key
    /// --gateway gw-01 --version 7 --expires 2030-01-01T00:00:00Z`; the private key was not kept.
    static let goldenPublicKeyHex = "0be93a70a497d4b1950940328f65f8b3005a92aa35ac8d58d9e1adf9c2f5b9fb"
    static let goldenSignatureHex =
        "c6217e347a713d3f005a2146ac1224d0c6230d3117b1219720eea7d8652f8f39"
        + "20004349a00499047bf864181782f01149192a8a04cb83f442996b8d9eb7430b"
    static let goldenDocument = #"""
        {
          "gateway": "gw-01",
          "version": 7,
          "key_id": "fleet-2026",
          "expires": "2030-01-01T00:00:00Z",
          "config": {
            "log": {
              "level": "debug"
            },
            "uplink": {
              "forward": [
                {
                  "filter": "sensors/#"
                }
              ]
            }
          },
          "signature": "xiF+NHpxPT8AWiFGrBIk0MYjDTEXsSGXIO6n2GUvjzkgAENJoASZBHv4ZBgXgvARSRkqigTLg/RCmWuNnrdDCw=="
        }
        """#
    static let goldenPayload =
        #"{"config":{"log":{"level":"debug"},"uplink":{"forward":[{"filter":"sensors/#"}]}},"#
        + #""expires":"2030-01-01T00:00:00Z","gateway":"gw-01","key_id":"fleet-2026","version":7}"#

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static var goldenKeys: TrustedKeys {
        TrustedKeys([TrustedKey(keyID: "fleet-2026", raw: hex(goldenPublicKeyHex))].compactMap { $0 })
    }

    static let now = UTCTimestamp.parse("2026-12-07T12:00:00Z") ?? 0

    static func context(gateway: String = "gw-01", keys: TrustedKeys = goldenKeys, last: Int? = nil)
        -> VerificationContext
    {
        VerificationContext(gateway: gateway, trustedKeys: keys, lastAppliedVersion: last, now: now)
    }

    static func verify(_ text: String, _ context: VerificationContext = context()) -> [RemoteConfigProblem.Kind] {
        switch RemoteConfigVerifier.verify(Array(text.utf8), local: ConfigNode(.null), context: context) {
        case .success: return []
        case .failure(let rejection): return rejection.kinds
        }
    }

    @Test func goldenDocumentVerifies() throws {
        let document = try RemoteConfigDocument.parse(Array(Self.goldenDocument.utf8)).get()
        #expect(document.signature == Self.hex(Self.goldenSignatureHex))
        #expect(try document.signingPayload().get() == Array(Self.goldenPayload.utf8))
        #expect(Self.verify(Self.goldenDocument) == [])
    }

    @Test func tamperedDocumentsAreRefused() {
        let golden = Self.goldenDocument
        #expect(Self.verify(golden.replacingOccurrences("\"debug\"", "\"trace\"")) == [.badSignature])
        #expect(Self.verify(golden.replacingOccurrences("\"version\": 7", "\"version\": 8")) == [.badSignature])
        #expect(Self.verify(golden.replacingOccurrences("2030-01-01", "2031-01-01")) == [.badSignature])
        #expect(
            Self.verify(golden.replacingOccurrences("\"gw-01\"", "\"gw-02\""), Self.context(gateway: "gw-02"))
                == [.badSignature])
        #expect(Self.verify(golden, Self.context(gateway: "gw-02")) == [.wrongGateway])
        #expect(Self.verify(golden, Self.context(last: 7)) == [.staleVersion])
        #expect(Self.verify(golden, Self.context(last: 9)) == [.staleVersion])
        #expect(Self.verify(golden, Self.context(last: 6)) == [])
        #expect(Self.verify(golden, Self.context(keys: TrustedKeys())) == [.unknownKeyID])
        // The same id, another key.
        let other = SigningKey.generate(keyID: "fleet-2026").publicKey
        #expect(Self.verify(golden, Self.context(keys: TrustedKeys([other]))) == [.badSignature])
    }

    @Test func whitespaceAndKeyOrderDoNotMatter() {
        let reordered = """
            {"signature":"xiF+NHpxPT8AWiFGrBIk0MYjDTEXsSGXIO6n2GUvjzkgAENJoASZBHv4ZBgXgvARSRkqigTLg/RCmWuNnrdDCw==",
            "config":{"uplink":{"forward":[{"filter":"sensors/#"}]},"log":{"level":"debug"}},
            "version":7,"key_id":"fleet-2026","gateway":"gw-01","expires":"2030-01-01T00:00:00Z"}
            """
        #expect(Self.verify(reordered) == [])
    }

    @Test func unsignedOnlyWhenAllowed() throws {
        let document = RemoteConfigDocument(gateway: "gw-01", version: 1, config: .object([]))
        let text = try document.json.canonicalText().get()
        #expect(Self.verify(text) == [.unsigned])
        var context = Self.context()
        context.settings.allowUnsigned = true
        #expect(Self.verify(text, context) == [])
    }

    @Test func validityTimes() throws {
        let key = SigningKey.generate(keyID: "k")
        var document = RemoteConfigDocument(gateway: "gw-01", version: 3, config: .object([]))
        document.notBefore = Self.now + 60
        document.expires = Self.now + 3600
        let text = try key.sign(document).get().json.canonicalText().get()
        var context = Self.context(keys: TrustedKeys([key.publicKey]))
        #expect(Self.verify(text, context) == [.notYetValid])
        context.now = Self.now + 60
        #expect(Self.verify(text, context) == [])
        context.now = Self.now + 3600
        #expect(Self.verify(text, context) == [.expired])
    }

    @Test func signThenVerifyRoundTrip() async {
        let key = SigningKey.generate(keyID: "round-trip")
        let keys = TrustedKeys([key.publicKey])
        await propertyCheck(count: 100, input: Gen.int(in: 1...1_000_000), Gen.int(in: 0...1000).array(of: 0...6)) {
            version, levels in
            let config = JSONValue.object([
                JSONMember(
                    "log", .object([JSONMember("level", .string(["debug", "info", "warning"][levels.count % 3]))])),
                JSONMember("x-data", .array(levels.map { .number(JSONNumber($0)) })),
            ])
            let document = RemoteConfigDocument(gateway: "gw-01", version: version, config: config)
            let signed = try key.sign(document).get()
            let payload = try signed.signingPayload().get()
            let signature = try #require(signed.signature)
            #expect(keys["round-trip"]?.isValidSignature(signature, for: payload) == true)
            let reparsed = try RemoteConfigDocument.parse(Array(signed.json.prettyText().get().utf8)).get()
            #expect(reparsed == signed)
        }
    }

    @Test func anySingleByteChangeOfThePayloadBreaksVerification() async throws {
        let key = try #require(TrustedKey(keyID: "fleet-2026", raw: Self.hex(Self.goldenPublicKeyHex)))
        let payload = Array(Self.goldenPayload.utf8)
        let signature = Self.hex(Self.goldenSignatureHex)
        #expect(key.isValidSignature(signature, for: payload))
        await propertyCheck(count: 300, input: Gen.int(in: 0...(payload.count - 1)), Gen.int(in: 1...255)) {
            index, delta in
            var changed = payload
            changed[index] = changed[index] &+ UInt8(delta)
            #expect(!key.isValidSignature(signature, for: changed))
        }
    }

    @Test func keyFilesRoundTripAndRefuseMismatches() throws {
        let key = SigningKey.generate(keyID: "fleet-2027")
        let publicText = KeyFile.publicText(key.publicKey)
        #expect(publicText.hasPrefix("wharf-ed25519-public-key fleet-2027\n"))
        #expect(try KeyFile.parsePublic(publicText, keyID: "fleet-2027").get().raw == key.publicKey.raw)
        #expect(KeyFile.parsePublic(publicText, keyID: "other").isFailure)
        #expect(KeyFile.parsePublic(publicText.replacingOccurrences("=\n", "\n"), keyID: "fleet-2027").isFailure)
        let reread = try KeyFile.parsePrivate(KeyFile.privateText(key)).get()
        #expect(reread.seed == key.seed && reread.keyID == "fleet-2027")
        #expect(KeyFile.keyID(forFileName: "fleet-2027.pub") == "fleet-2027")
        #expect(KeyFile.keyID(forFileName: ".hidden.pub") == nil)
        #expect(KeyFile.keyID(forFileName: "fleet.pub~") == nil)
    }

    @Test func base64IsStrict() {
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm8=") == Array("fo".utf8))
        for text in ["Zm9", "Zm9=", "Zm8", "Zm9vYmFy\n", "Z=8=", "Zm8==", "Zg==Zg=="] {
            #expect(Base64.decode(text) == nil, "\(text)")
        }
    }

    @Test func utcTimestamps() {
        #expect(UTCTimestamp.parse("1970-01-01T00:00:00Z") == 0)
        #expect(UTCTimestamp.parse("2024-02-29T23:59:59Z") == 1_709_251_199)
        #expect(UTCTimestamp.format(1_709_251_199) == "2024-02-29T23:59:59Z")
        for text in [
            "2023-02-29T00:00:00Z", "2026-12-07T24:00:00Z", "2026-12-07T10:00:00+01:00", "2026-12-07 10:00:00Z",
            "2026-12-07T10:00:00.5Z", "2026-12-07t10:00:00z",
        ] {
            #expect(UTCTimestamp.parse(text) == nil, "\(text)")
        }
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
