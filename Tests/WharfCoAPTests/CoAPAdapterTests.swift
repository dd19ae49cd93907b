import Testing
import WharfCoAP

@Test func typeName() {
    #expect(CoAPAdapter.typeName == "coap")
}
