import Testing
import WharfConfig

@Suite struct ParsingTests {
    static let everyKey = """
        gateway:
          id: plant-7.line_2
        log:
          level: warning
          components:
            broker: debug
            uplink: ERROR
        storage:
          data_dir: /srv/wharf
        broker:
          listeners:
            - name: local
              bind: 127.0.0.1
              port: 1883
            - name: lan
              bind: 0.0.0.0
              port: 8883
            - bind: "::1"
              port: 1884
            - bind: gateway.local
          allow_anonymous: false
          max_connections: 0
          max_packet_size: 256KiB
          max_inflight_messages: 100
          max_queued_messages: 0
          max_keepalive: 300
          retain_available: no
          max_topic_alias: 0
          max_session_expiry: 2h
          sys_interval: 0
          shared_subscriptions: off
        adapters:
          - name: plc-1
            type: modbus
            host: 10.0.0.5
            points:
              - {name: temperature, address: 3, scale: 0.1}
          - name: sensors
            type: coap
            enabled: false

        """

    @Test func everyKeyIsRead() throws {
        let configuration = try #require(loadValid(Self.everyKey))
        #expect(configuration.gateway.id == "plant-7.line_2")
        #expect(configuration.log.level == .warning)
        #expect(configuration.log.components == ["broker": .debug, "uplink": .error])
        #expect(configuration.storage.dataDirectory == "/srv/wharf")
        let broker = configuration.broker
        #expect(
            broker.listeners == [
                ListenerConfig(name: "local", bind: "127.0.0.1", port: 1883),
                ListenerConfig(name: "lan", bind: "0.0.0.0", port: 8883),
                ListenerConfig(name: "[::1]:1884", bind: "::1", port: 1884),
                ListenerConfig(name: "gateway.local:1883", bind: "gateway.local", port: 1883),
            ]
        )
        #expect(broker.allowAnonymous == false)
        #expect(broker.maxConnections == 0)
        #expect(broker.maxPacketSize == 262_144)
        #expect(broker.maxInflightMessages == 100)
        #expect(broker.maxQueuedMessages == 0)
        #expect(broker.maxKeepAlive == 300)
        #expect(broker.retainAvailable == false)
        #expect(broker.maxTopicAlias == 0)
        #expect(broker.maxSessionExpiry == .seconds(7200))
        #expect(broker.sysInterval == .zero)
        #expect(broker.sharedSubscriptions == false)
        #expect(configuration.adapters.map(\.name) == ["plc-1", "sensors"])
        #expect(configuration.adapters.map(\.type) == ["modbus", "coap"])
        #expect(configuration.adapters.map(\.enabled) == [true, false])
    }

    @Test func adapterSettingsAreKeptRawWithPositions() throws {
        let configuration = try #require(loadValid(Self.everyKey))
        let plc = configuration.adapters[0]
        let expected: ConfigValue = [
            "host": "10.0.0.5",
            "points": [["name": "temperature", "address": 3, "scale": 0.1]],
        ]
        #expect(plc.settings == expected)
        #expect(configuration.adapters[1].settings == .object([]))
        #expect(plc.source.value == plc.settings)
        #expect(plc.source.path == "adapters[0]")
        let address = try #require(plc.source["points"]?[0]?["address"])
        #expect(address.path == "adapters[0].points[0].address")
        #expect(address.file == "wharf.yaml")
        #expect(address.line == 37)
        #expect(address.column == 38)
        #expect(
            address.issue("no such register").description
                == "wharf.yaml:37:38: adapters[0].points[0].address: no such register")
    }

    @Test func adapterEqualityIgnoresPositions() throws {
        let moved = "\n\n" + Self.everyKey
        let first = try #require(loadValid(Self.everyKey))
        let second = try #require(loadValid(moved))
        #expect(first.adapters[0].source.line != second.adapters[0].source.line)
        #expect(first == second)
    }

    @Test func scalarSpellings() throws {
        let configuration = try #require(
            loadValid(
                """
                broker:
                  max_connections: 1_000
                  max_queued_messages: 010
                  max_topic_alias: 0x10
                  allow_anonymous: Yes
                  retain_available: FALSE
                  max_packet_size: "64 kib"
                  sys_interval: 1.5m
                  max_session_expiry: 86400
                gateway:
                  id: 42

                """
            )
        )
        #expect(configuration.broker.maxConnections == 1000)
        #expect(configuration.broker.maxQueuedMessages == 10)
        #expect(configuration.broker.maxTopicAlias == 16)
        #expect(configuration.broker.allowAnonymous)
        #expect(configuration.broker.retainAvailable == false)
        #expect(configuration.broker.maxPacketSize == 65536)
        #expect(configuration.broker.sysInterval == .seconds(90))
        #expect(configuration.broker.maxSessionExpiry == .seconds(86400))
        #expect(configuration.gateway.id == "42")
    }

    @Test func sessionExpiryCanBeUnlimited() {
        #expect(loadValid("broker:\n  max_session_expiry: unlimited\n")?.broker.maxSessionExpiry == nil)
        #expect(loadValid("broker:\n  max_session_expiry: ~\n")?.broker.maxSessionExpiry == nil)
        #expect(loadValid("broker:\n  max_session_expiry: 0\n")?.broker.maxSessionExpiry == .zero)
    }

    @Test func mergeKeysAndTopLevelExtensionKeys() throws {
        let configuration = try #require(
            loadValid(
                """
                x-listener: &listener
                  bind: 0.0.0.0
                  port: 1883
                broker:
                  listeners:
                    - <<: *listener
                      name: lan
                    - <<: *listener
                      name: alt
                      port: 1884

                """
            )
        )
        #expect(
            configuration.broker.listeners == [
                ListenerConfig(name: "lan", bind: "0.0.0.0", port: 1883),
                ListenerConfig(name: "alt", bind: "0.0.0.0", port: 1884),
            ]
        )
    }

    @Test func jsonDocumentsUseTheSameSchema() throws {
        let json = """
            {
            \t"gateway": {"id": "gw-1"},
            \t"broker": {
            \t\t"listeners": [{"name": "lan", "bind": "0.0.0.0", "port": 1883}],
            \t\t"max_packet_size": "1MiB", "sys_interval": 30, "allow_anonymous": false
            \t},
            \t"adapters": [{"name": "a", "type": "exec", "command": "\\/usr\\/lib\\/wharf\\/plugins\\/x", "args": []}]
            }
            """
        let result = ConfigLoader.load(json: json, file: "push v7")
        let configuration = try result.get()
        #expect(configuration.gateway.id == "gw-1")
        #expect(configuration.broker.listeners == [ListenerConfig(name: "lan", bind: "0.0.0.0", port: 1883)])
        #expect(configuration.broker.sysInterval == .seconds(30))
        #expect(configuration.broker.allowAnonymous == false)
        #expect(configuration.adapters[0].settings == ["command": "/usr/lib/wharf/plugins/x", "args": []])
        #expect(loadJSON("{}") == .default)
    }

    @Test func jsonErrorsCarryPositions() throws {
        let error = try #require(
            ConfigLoader.load(json: #"{"broker": {"max_keepalive": 70000, "retain": true}}"#, file: "push").failureValue
        )
        #expect(
            error.issues.map(\.description) == [
                "push:1:30: broker.max_keepalive: expected an integer from 0 to 65535, got 70000",
                "push:1:37: broker.retain: unknown key 'retain'; did you mean 'retain_available'?",
            ]
        )
    }

    @Test func parseGivesTheRawTree() throws {
        let node = try ConfigLoader.parse(yaml: "a:\n  - b: 1\n", file: "f").get()
        #expect(node.value == ["a": [["b": 1]]])
        #expect(node["a"]?[0]?["b"]?.path == "a[0].b")
        #expect(node["a"]?[0]?["b"]?.line == 2)
        #expect(try ConfigLoader.parse(yaml: "", file: "f").get().isNull)
    }

    private func loadJSON(_ json: String) -> WharfConfiguration? {
        try? ConfigLoader.load(json: json, file: "push").get()
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
