import Testing
import WharfConfig
import WharfCore

@testable import WharfCoAP

/// Reads the first adapter of a YAML document whose `adapters:` list is given indented by four.
func coapSettings(_ body: String) -> Result<CoAPSettings, ConfigError> {
    let yaml = "adapters:\n  - name: coap\n    type: coap\n" + body
    switch ConfigLoader.load(yaml: yaml, file: "wharf.yaml") {
    case .failure(let error): return .failure(error)
    case .success(let configuration):
        guard let adapter = configuration.adapters.first else { return .failure(ConfigError(issues: [])) }
        do throws(ConfigError) {
            return .success(try CoAPSettings(config: adapter))
        } catch {
            return .failure(error)
        }
    }
}

func issues(_ body: String) -> [ConfigIssue] {
    if case .failure(let error) = coapSettings(body) { return error.issues }
    return []
}

@Test func typeName() {
    #expect(CoAPAdapter.typeName == "coap")
}

@Test func defaultsMatchTheContract() throws {
    let settings = try coapSettings("").get()
    #expect(settings.bind == "127.0.0.1")
    #expect(settings.port == 5683)
    #expect(settings.allowPlain)
    #expect(settings.plain.publish == ["devices/+/+"])
    #expect(settings.plain.read == ["#"])
    #expect(settings.maxPayload == 65_536)
    #expect(settings.ingest.pathPrefix == ["t"])
    #expect(settings.ingest.topic.description == "{path}")
    #expect(settings.ingest.qos == .atLeastOnce)
    #expect(!settings.ingest.retain)
    #expect(!settings.observe.confirmable)
    #expect(settings.observe.maxObservers == 1000)
    #expect(!settings.dtls.enabled)
    #expect(settings.dtls.port == 5684)
    #expect(settings.dtls.certificates.isEmpty)
    #expect(settings.devices.isEmpty)
}

@Test func readsEveryKey() throws {
    let settings = try coapSettings(
        """
            bind: 0.0.0.0
            port: 6000
            allow_plain: false
            plain:
              publish: ["devices/+/temp"]
              read: []
            max_payload: 1KiB
            ingest:
              path_prefix: up
              topic: "sensors/{identity}/{path}"
              qos: 0
              retain: true
            observe:
              confirmable: true
              max_observers: 5
            dtls:
              enabled: true
              port: 6001
              psk:
                - identity: sensor-1
                  key: secret
                  publish: ["sensors/sensor-1/#"]
                  read: ["cmd/+"]
                - identity: sensor-2
                  key_hex: "00ab"
              cert_file: /etc/wharf/coap.crt
              key_file: /etc/wharf/coap.key
              ca_file: /etc/wharf/ca.crt
              certificates:
                - subject: gw-1
                  publish: ["gw/#"]
                  read: ["cmd/gw-1"]
                - subject: "Zähler 7"
            devices:
              - name: thermo-1
                uri: coaps://[::1]:5690/temp?unit=c
                mode: observe
                interval: 500ms
                topic: "dev/{device}/t"
                qos: 1
                command_topic: "cmd/thermo-1"
                method: post
                result_topic: "dev/{device}/r"
                psk: { identity: me, key: k }

        """
    ).get()
    #expect(settings.bind == "0.0.0.0")
    #expect(settings.port == 6000)
    #expect(!settings.allowPlain)
    #expect(settings.maxPayload == 1024)
    #expect(settings.ingest.pathPrefix == ["up"])
    #expect(settings.ingest.topic.render(path: "a/b", identity: "x") == "sensors/x/a/b")
    #expect(settings.ingest.qos == .atMostOnce)
    #expect(settings.ingest.retain)
    #expect(settings.observe.confirmable)
    #expect(settings.observe.maxObservers == 5)
    #expect(settings.dtls.enabled)
    #expect(settings.dtls.port == 6001)
    #expect(settings.dtls.psk.count == 2)
    #expect(settings.dtls.psk[0].key == Array("secret".utf8))
    #expect(settings.dtls.psk[0].publish == ["sensors/sensor-1/#"])
    #expect(settings.dtls.psk[0].read == ["cmd/+"])
    #expect(settings.dtls.psk[1].key == [0x00, 0xAB])
    #expect(settings.dtls.psk[1].publish == ["#"])
    #expect(settings.plain == TopicGrant(publish: ["devices/+/temp"], read: []))
    #expect(settings.dtls.caFile == "/etc/wharf/ca.crt")
    #expect(
        settings.dtls.certificates == [
            CoAPSettings.CertificateSubject(subject: "gw-1", publish: ["gw/#"], read: ["cmd/gw-1"]),
            CoAPSettings.CertificateSubject(subject: "Zähler 7", publish: ["#"], read: ["#"]),
        ])
    let device = try #require(settings.devices.first)
    #expect(device.name == "thermo-1")
    #expect(device.uri.secure)
    #expect(device.uri.host == "::1")
    #expect(device.uri.port == 5690)
    #expect(device.uri.path == ["temp"])
    #expect(device.uri.query == ["unit=c"])
    #expect(device.mode == .observe)
    #expect(device.interval == .milliseconds(500))
    #expect(device.topic == "dev/thermo-1/t")
    #expect(device.qos == .atLeastOnce)
    #expect(device.commandTopic == "cmd/thermo-1")
    #expect(device.method == .post)
    #expect(device.resultTopic == "dev/thermo-1/r")
    #expect(device.pskIdentity == "me")
    #expect(device.pskKey == Array("k".utf8))
}

@Test func deviceDefaultsUseItsName() throws {
    let settings = try coapSettings("    devices:\n      - name: d1\n        uri: coap://127.0.0.1/x\n").get()
    let device = try #require(settings.devices.first)
    #expect(device.topic == "devices/d1/value")
    #expect(device.resultTopic == "devices/d1/result")
    #expect(device.mode == .poll)
    #expect(device.interval == .seconds(10))
    #expect(device.method == .put)
    #expect(device.uri.port == 5683)
}

@Test func reportsEveryProblemWithItsPath() {
    let found = issues(
        """
            port: 70000
            max_payloadd: 10
            ingest:
              topic: "a/{nope}"
              qos: 3
            observe:
              confirmable: maybe
            dtls:
              enabled: true
              psk:
                - identity: a
                  key: x
                  key_hex: "00"
                - identity: b
                  key_hex: "0g"
                  publish: ["a/#/b"]
            devices:
              - name: Bad Name
                uri: http://x
                mode: watch
                interval: 1ms
              - name: sec
                uri: coaps://127.0.0.1/x

        """
    )
    let paths = found.map(\.path)
    #expect(paths.contains("adapters[0].port"))
    #expect(paths.contains("adapters[0].max_payloadd"))
    #expect(paths.contains("adapters[0].ingest.topic"))
    #expect(paths.contains("adapters[0].ingest.qos"))
    #expect(paths.contains("adapters[0].observe.confirmable"))
    #expect(paths.contains("adapters[0].dtls.psk[0].key_hex"))
    #expect(paths.contains("adapters[0].dtls.psk[1].key_hex"))
    #expect(paths.contains("adapters[0].dtls.psk[1].publish[0]"))
    #expect(paths.contains("adapters[0].devices[0].name"))
    #expect(paths.contains("adapters[0].devices[0].uri"))
    #expect(paths.contains("adapters[0].devices[0].mode"))
    #expect(paths.contains("adapters[0].devices[0].interval"))
    #expect(paths.contains("adapters[0].devices[1].uri"))
    #expect(found.allSatisfy { $0.line != nil })
    let unknown = found.first { $0.path == "adapters[0].max_payloadd" }
    #expect(unknown?.message.contains("max_payload") == true)
}

@Test func dtlsNeedsIdentitiesOrACertificate() {
    let found = issues("    dtls:\n      enabled: true\n")
    #expect(found.contains { $0.path == "adapters[0].dtls.enabled" })
}

@Test func certificateAndKeyGoTogether() {
    let found = issues("    dtls:\n      cert_file: /etc/wharf/coap.pem\n")
    #expect(found.contains { $0.message.contains("cert_file and key_file") })
}

@Test func plainRefusedWithoutDTLSIsReported() {
    let found = issues("    allow_plain: false\n")
    #expect(found.contains { $0.path == "adapters[0].allow_plain" })
}

@Test func duplicateNamesAreReported() {
    let found = issues(
        """
            dtls:
              enabled: true
              psk:
                - { identity: a, key: x }
                - { identity: a, key: y }
            devices:
              - { name: d, uri: "coap://h/x" }
              - { name: d, uri: "coap://h/y" }

        """
    )
    #expect(found.contains { $0.path == "adapters[0].dtls.psk[1].identity" })
    #expect(found.contains { $0.path == "adapters[0].devices[1].name" })
}

@Test func bindMustBeAnAddress() {
    #expect(issues("    bind: localhost\n").contains { $0.path == "adapters[0].bind" })
    #expect(issues("    bind: \"::1\"\n").isEmpty)
    #expect(issues("    bind: 0.0.0.0\n").isEmpty)
}
