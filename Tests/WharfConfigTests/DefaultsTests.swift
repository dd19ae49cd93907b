import Testing
import WharfConfig

@Suite struct DefaultsTests {
    @Test func defaultValuesAreTheDocumentedOnes() {
        let configuration = WharfConfiguration.default
        #expect(configuration.gateway.id == "")
        #expect(configuration.log.level == .info)
        #expect(configuration.log.components.isEmpty)
        #expect(configuration.storage.dataDirectory == "/var/lib/wharf")
        #expect(configuration.adapters.isEmpty)
        let broker = configuration.broker
        #expect(broker.listeners == [ListenerConfig(name: "default", bind: "127.0.0.1", port: 1883)])
        #expect(broker.allowAnonymous)
        #expect(broker.maxConnections == 10000)
        #expect(broker.maxPacketSize == 1_048_576)
        #expect(broker.maxInflightMessages == 20)
        #expect(broker.maxQueuedMessages == 1000)
        #expect(broker.maxKeepAlive == 65535)
        #expect(broker.retainAvailable)
        #expect(broker.maxTopicAlias == 10)
        #expect(broker.maxSessionExpiry == nil)
        #expect(broker.sysInterval == .seconds(10))
        #expect(broker.sharedSubscriptions)
    }

    @Test(
        "Empty documents give the defaults",
        arguments: [
            "", "~", "null", "\n\n", "# only a comment\n", "---\n", "---\n...\n",
            "gateway:\nlog:\nstorage:\nbroker:\nadapters:\n",
            "gateway: ~\nlog: null\nbroker:\n  # max_connections: 5\n",
            "broker:\n  max_connections:\n  listeners:\n",
            "{}",
        ]
    )
    func emptyDocumentsGiveDefaults(yaml: String) {
        #expect(loadValid(yaml) == .default)
    }

    @Test func emptyListenerListIsAllowed() {
        #expect(loadValid("broker:\n  listeners: []\n")?.broker.listeners == [])
    }

    @Test func effectivePacketSizeReplacesZero() {
        #expect(BrokerConfig(maxPacketSize: 0).effectiveMaxPacketSize == 268_435_455)
        #expect(BrokerConfig(maxPacketSize: 4096).effectiveMaxPacketSize == 4096)
    }

    @Test func componentLevelFallsBackToOverallLevel() {
        let log = LogConfig(level: .warning, components: ["broker": .debug])
        #expect(log.level(for: "broker") == .debug)
        #expect(log.level(for: "uplink") == .warning)
        #expect(LogLevel.trace < LogLevel.critical)
        #expect(LogLevel.warning > LogLevel.info)
    }
}
