import Testing
import WharfCore

@testable import WharfCoAP

@Test func subjectCommonNameIsTheIdentityNotTheAltNameOrTheIssuer() {
    #expect(X509Subject.commonName(der: X509Fixtures.san) == "sensor-9")
}

@Test func onlyTheCommonNameAttributeCounts() {
    // libcoap's own rendering finds "CN=admin" inside the O attribute first.
    #expect(X509Subject.commonName(der: X509Fixtures.injected) == "device-1")
}

@Test func certificatesWithoutExactlyOneCommonNameHaveNoIdentity() {
    #expect(X509Subject.commonName(der: X509Fixtures.nocn) == nil)
    #expect(X509Subject.commonName(der: X509Fixtures.twocn) == nil)
}

@Test func utf8NamesAreKept() {
    #expect(X509Subject.commonName(der: X509Fixtures.utf8) == "Zähler-1")
}

/// The certificate with the string type of its subject CN changed to `tag` (the issuer's
/// "Fixture CA" is a UTF8String too, so only the second occurrence is the subject's).
private func retagged(_ tag: UInt8) -> [UInt8] {
    var der = X509Fixtures.san
    let name = Array("sensor-9".utf8)
    for index in der.indices.dropFirst(2) where der[index...].starts(with: name) {
        der[index - 2] = tag
    }
    return der
}

@Test func directoryStringTypes() {
    #expect(X509Subject.commonName(der: retagged(0x13)) == "sensor-9")  // PrintableString
    #expect(X509Subject.commonName(der: retagged(0x16)) == "sensor-9")  // IA5String
    #expect(X509Subject.commonName(der: retagged(0x1E)) == nil)  // BMPString: not read
    #expect(X509Subject.commonName(der: retagged(0x04)) == nil)  // not a string
}

@Test func namesWithControlCharactersAreRefused() {
    var der = X509Fixtures.san
    let name = Array("sensor-9".utf8)
    if let start = der.indices.first(where: { der[$0...].starts(with: name) }) { der[start + 6] = 0x0A }
    #expect(X509Subject.commonName(der: der) == nil)
    #expect(!X509Subject.isUsable(""))
    #expect(!X509Subject.isUsable("a\u{7F}b"))
    #expect(!X509Subject.isUsable("a\u{85}b"))
    #expect(X509Subject.isUsable("plc 7 / line 2"))
}

@Test func everyTruncationHasNoIdentity() {
    for fixture in [X509Fixtures.san, X509Fixtures.utf8, X509Fixtures.injected] {
        for length in 0..<fixture.count {
            #expect(X509Subject.commonName(der: Array(fixture.prefix(length))) == nil)
        }
        // Trailing bytes after the certificate are not DER either.
        #expect(X509Subject.commonName(der: fixture + [0]) == nil)
    }
}

@Test func corruptedCertificatesNeverTrap() {
    // Every byte of the header and subject set to values that break lengths and tags.
    let fixture = X509Fixtures.san
    for index in fixture.indices.prefix(200) {
        for value: UInt8 in [0x00, 0x1F, 0x7F, 0x80, 0x81, 0x84, 0x85, 0xFF] {
            var der = fixture
            der[index] = value
            _ = X509Subject.commonName(der: der)
        }
    }
    var generator = SplitMix(seed: 0x5EED)
    for _ in 0..<2000 {
        let count = Int(generator.next() % 64)
        let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        #expect(X509Subject.commonName(der: [0x30, UInt8(count)] + bytes) == nil)
    }
}

/// A small deterministic generator, so that a failure repeats.
private struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
