import Testing

@testable import WharfCoAP

/// wharfd is not linked with libcoap; the CoAP server loads it when it starts.
@Suite struct CoAPLibraryTests {
    @Test func debiansLibcoapHasEveryFunctionWharfCalls() {
        #expect(CoAPLibrary.probe("libcoap-3-openssl.so.3") == nil)
    }

    @Test func aMissingLibraryIsNamedWithThePackageToInstall() throws {
        let message = try #require(CoAPLibrary.probe("libwharf-no-such-coap.so.3"))
        #expect(message.contains("cannot load libcoap (libwharf-no-such-coap.so.3)"))
        #expect(message.contains("libcoap3"))
    }

    @Test func aLibraryWithoutLibcoapsFunctionsIsRefused() throws {
        // libyaml is loaded by wharfd anyway and has none of libcoap's functions.
        let message = try #require(CoAPLibrary.probe("libyaml-0.so.2"))
        #expect(message.hasPrefix("libyaml-0.so.2 has no function coap_"))
        #expect(message.contains("libcoap 4.3.1 or later is needed"))
    }

    @Test func loadingTwiceGivesTheSameAnswer() {
        #expect(CoAPLibrary.load() == nil)
        #expect(CoAPLibrary.load() == nil)
    }
}
