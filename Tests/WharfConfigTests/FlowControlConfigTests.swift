import Testing
import WharfConfig

/// The flow-control keys of `broker:` and `storage.max_pending_bytes`.
@Suite struct FlowControlConfigTests {
    @Test func defaultsLeaveOrdinaryClientsAlone() {
        let limits = WharfConfiguration.default.broker.flowControl
        #expect(limits.maxOutboundBytes == 1 << 20)
        #expect(limits.maxPendingAcks == 1000)
        #expect(limits.maxPendingStoreBytes == 4 << 20)
        #expect(limits.maxPublishRate == 0)
        #expect(limits.maxPublishBytesRate == 0)
        #expect(limits.maxAuthInFlight == 64)
        #expect(limits.maxAuthInFlightPerAddress == 8)
        #expect(WharfConfiguration.default.storage.maxPendingBytes == 64 << 20)
    }

    @Test func everyKeyIsRead() {
        let yaml = """
            broker:
              max_outbound_bytes: 256KiB
              max_pending_acks: 50
              max_pending_store_bytes: 1MiB
              max_publish_rate: 100
              max_publish_bytes_rate: 64KiB
              max_auth_in_flight: 4
              max_auth_in_flight_per_address: 2
            storage:
              max_pending_bytes: 16MiB
            """
        let configuration = loadValid(yaml)
        #expect(
            configuration?.broker.flowControl
                == FlowControlConfig(
                    maxOutboundBytes: 256 << 10, maxPendingAcks: 50, maxPendingStoreBytes: 1 << 20, maxPublishRate: 100,
                    maxPublishBytesRate: 64 << 10, maxAuthInFlight: 4, maxAuthInFlightPerAddress: 2))
        #expect(configuration?.storage.maxPendingBytes == 16 << 20)
    }

    @Test(
        "Out-of-range values are reported with their key",
        arguments: [
            ("broker:\n  max_outbound_bytes: 1KiB\n", "broker.max_outbound_bytes"),
            ("broker:\n  max_pending_acks: 0\n", "broker.max_pending_acks"),
            ("broker:\n  max_pending_store_bytes: 1KiB\n", "broker.max_pending_store_bytes"),
            ("broker:\n  max_publish_rate: -1\n", "broker.max_publish_rate"),
            ("broker:\n  max_publish_bytes_rate: 100\n", "broker.max_publish_bytes_rate"),
            ("broker:\n  max_auth_in_flight: 0\n", "broker.max_auth_in_flight"),
            ("broker:\n  max_auth_in_flight_per_address: 0\n", "broker.max_auth_in_flight_per_address"),
            ("storage:\n  max_pending_bytes: 1KiB\n", "storage.max_pending_bytes"),
        ]
    )
    func outOfRange(yaml: String, path: String) {
        #expect(issues(of: yaml).map(\.path) == [path])
    }

    @Test func zeroMeansNoRateLimit() {
        let configuration = loadValid("broker:\n  max_publish_rate: 0\n  max_publish_bytes_rate: 0\n")
        #expect(configuration?.broker.flowControl.maxPublishRate == 0)
        #expect(configuration?.broker.flowControl.maxPublishBytesRate == 0)
    }
}
