import Testing
import WharfConfig
import WharfCore

@Suite struct UplinkConfigTests {
    @Test func fullUplinkSectionIsRead() throws {
        let yaml = """
            storage:
              queue:
                max_bytes: 64MiB
                max_age: unlimited
                synchronous: normal
            uplink:
              enabled: true
              host: cloud.example.net
              mqtt_version: "3.1.1"
              client_id: gw-7
              username: gw
              password: secret
              keepalive: 30s
              clean_start: true
              session_expiry: 2h
              tls:
                ca_file: /etc/wharf/ca.pem
                cert_file: /etc/wharf/gw.pem
                key_file: /etc/wharf/gw.key
                server_name: mqtt.example.net
              backoff: {base: 500ms, cap: 1m, stable_after: 10s}
              max_inflight: 50
              forward:
                - filter: "devices/#"
                  remote_prefix: "sites/{gateway}/"
                  policy: reject-new
                - name: alarms
                  filter: "alarms/+"
                  qos: 0
              subscribe:
                - filter: "sites/{gateway}/commands/#"
                  strip_prefix: "sites/{gateway}/commands/"
                  local_prefix: "commands/"
            """
        let configuration = try ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()
        let queue = configuration.storage.queue
        #expect(queue.maxBytes == 64 << 20)
        #expect(queue.maxAge == nil)
        #expect(queue.synchronous == .normal)
        let uplink = configuration.uplink
        #expect(uplink.enabled)
        #expect(uplink.host == "cloud.example.net")
        #expect(uplink.effectivePort == 8883)
        #expect(uplink.mqttVersion == .v311)
        #expect(uplink.clientID == "gw-7")
        #expect(uplink.username == "gw" && uplink.password == "secret")
        #expect(uplink.keepAlive == .seconds(30))
        #expect(uplink.cleanStart)
        #expect(uplink.sessionExpiry == .seconds(7200))
        #expect(uplink.tls.certFile == "/etc/wharf/gw.pem" && uplink.tls.serverName == "mqtt.example.net")
        #expect(uplink.backoff == BackoffPolicy(base: .milliseconds(500), cap: .seconds(60), stableAfter: .seconds(10)))
        #expect(uplink.maxInflight == 50)
        #expect(uplink.forward.map(\.name) == ["devices/#", "alarms"])
        #expect(uplink.forward.first?.policy == .rejectNew)
        #expect(uplink.forward.last?.qos == 0)
        #expect(uplink.subscribe.first?.localPrefix == "commands/")
    }

    @Test func plainTCPDefaultsToPort1883() throws {
        let yaml = "uplink:\n  enabled: true\n  host: h\n  tls:\n    enabled: false\n"
        let configuration = try ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()
        #expect(configuration.uplink.effectivePort == 1883)
    }

    @Test func everyUplinkMistakeIsReportedAtOnce() throws {
        let yaml = """
            uplink:
              enabled: true
              tls:
                cert_file: /a.pem
              backoff:
                base: 10s
                cap: 1s
              forward:
                - filter: "a/#/b"
                - name: twice
                  filter: x
                - name: twice
                  filter: y
                  qos: 3
                - remote_prefix: z
                - filter: "exactly/once/#"
                  qos: 2
              subscribe:
                - filter: "c/#/d"
                  qos: 2
            """
        guard case .failure(let error) = ConfigLoader.load(yaml: yaml, file: "wharf.yaml") else {
            Issue.record("expected errors")
            return
        }
        let paths = error.issues.map(\.path)
        #expect(paths.contains("uplink.host"))
        #expect(paths.contains("uplink.tls.cert_file"))
        #expect(paths.contains("uplink.backoff.cap"))
        #expect(paths.contains("uplink.forward[0].filter"))
        #expect(paths.contains("uplink.forward[2].name"))
        #expect(paths.contains("uplink.forward[2].qos"))
        #expect(paths.contains("uplink.forward[3].filter"))
        #expect(paths.contains("uplink.subscribe[0].filter"))
        // QoS 2 is a forward rule's choice; cloud subscriptions stay at 0 or 1.
        #expect(!paths.contains("uplink.forward[4].qos"))
        #expect(paths.contains("uplink.subscribe[0].qos"))
        #expect(error.issues.allSatisfy { $0.line != nil })
    }
}
