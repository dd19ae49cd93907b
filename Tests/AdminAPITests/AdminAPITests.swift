import AdminAPI
import Testing

@Test func apiPrefixIsVersioned() {
    #expect(AdminAPI.apiPrefix == "/api/v1")
}
