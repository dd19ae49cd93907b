import ArgumentParser
import Foundation
import MQTTCodec
import RemoteConfig
import Testing

@testable import WharfCtlCommands

/// `config push`'s arguments: the gateways, the topics, the documents and the option rules.
@Suite struct PushArgumentsTests {
    @Test func gatewaysComeFromOptionsThenTheFile() throws {
        let text = "# fleet A\ngw-3\r\n\n  gw-4  \n#gw-5\n"
        #expect(
            try PushPlan.gateways(options: ["gw-1", "gw-2"], fileText: text, file: "fleet.txt")
                == ["gw-1", "gw-2", "gw-3", "gw-4"])
        #expect(try PushPlan.gateways(options: []).isEmpty)
    }

    @Test func aGatewayListedTwiceIsRefusedWithBothPlaces() {
        #expect {
            try PushPlan.gateways(options: ["gw-1"], fileText: "gw-2\ngw-1\n", file: "fleet.txt")
        } throws: { error in
            (error as? ConfigCommandError)?.description.contains(
                "fleet.txt:2: gateway 'gw-1' is already listed (--gateway)")
                == true
        }
    }

    @Test(arguments: [
        ("", 1), ("wharf/{gateway}/config/", 1), ("wharf/+/config", 1), ("wharf/#", 1), ("fleet/config", 2),
    ])
    func unusableTopicPrefixesAreRefused(prefix: String, count: Int) {
        #expect(throws: ConfigCommandError.self) { try PushPlan.checkTopicPrefix(prefix, gatewayCount: count) }
    }

    @Test func topicsFollowThePrefix() throws {
        try PushPlan.checkTopicPrefix("fleet/config", gatewayCount: 1)
        try PushPlan.checkTopicPrefix("sites/{gateway}/cfg", gatewayCount: 5)
        let target = PushPlan.target(gateway: "gw-7", version: 3, template: "sites/{gateway}/cfg", document: [1])
        #expect(target.desiredTopic == "sites/gw-7/cfg/desired" && target.reportedTopic == "sites/gw-7/cfg/reported")
        #expect(
            PushPlan.target(gateway: "gw-7", version: 3, template: PushPlan.defaultTopicPrefix, document: [])
                .desiredTopic
                == "wharf/gw-7/config/desired")
    }

    static let key = SigningKey.generate(keyID: "fleet-test")

    static func signed(gateway: String = "gw-1", version: Int = 7) throws -> [UInt8] {
        let document = RemoteConfigDocument(
            gateway: gateway, version: version, config: .object([JSONMember("log", .object([]))]))
        let signed = try Self.key.sign(document).get()
        return Array(try signed.json.prettyText().get().utf8)
    }

    @Test func aSignedDocumentNamesItsGatewayAndVersion() throws {
        let bytes = try Self.signed()
        let target = try PushPlan.signedTarget(
            bytes, file: "d.json", gateways: [], version: nil, template: PushPlan.defaultTopicPrefix)
        #expect(target.gateway == "gw-1" && target.version == 7 && target.document == bytes)
        #expect(target.desiredTopic == "wharf/gw-1/config/desired")
        // --gateway and --version, when given, must be the document's own.
        _ = try PushPlan.signedTarget(bytes, file: "d.json", gateways: ["gw-1"], version: 7, template: "x/{gateway}")
        #expect(throws: ConfigCommandError.self) {
            try PushPlan.signedTarget(bytes, file: "d.json", gateways: ["gw-2"], version: nil, template: "x")
        }
        #expect(throws: ConfigCommandError.self) {
            try PushPlan.signedTarget(bytes, file: "d.json", gateways: [], version: 8, template: "x")
        }
    }

    @Test func unsignedOrMalformedDocumentsAreRefused() throws {
        let unsigned = Array(#"{"gateway":"gw-1","version":7,"config":{}}"#.utf8)
        #expect {
            try PushPlan.signedTarget(unsigned, file: "u.json", gateways: [], version: nil, template: "x")
        } throws: { error in
            (error as? ConfigCommandError).map { $0.exitCode == 1 && $0.description.contains("not signed") } == true
        }
        #expect {
            try PushPlan.signedTarget(Array("log: {}".utf8), file: "c.yaml", gateways: [], version: nil, template: "x")
        } throws: { error in
            (error as? ConfigCommandError)?.exitCode == 1
        }
    }

    static func push(_ arguments: [String]) throws -> ConfigPush {
        try ConfigPush.parse(["conf.yaml", "--host", "127.0.0.1"] + arguments)
    }

    @Test(arguments: [
        (["--port", "0"], "--port 0"),
        (["--key-id", "k"], "--key-id needs --key"),
        (["--gateways-file", "f"], "--gateways-file needs --key"),
        (["--expires", "2030-01-01T00:00:00Z"], "--expires needs --key"),
        (["--gateway", "a", "--gateway", "b"], "a signed document is for one gateway"),
        (["--key", "k.key", "--gateway", "a"], "--key needs --version"),
        (["--key", "k.key", "--version", "3"], "name the gateways"),
        (["--password-file", "p"], "--password-file needs --username"),
        (["--ca-file", "ca.pem"], "--ca-file needs --tls"),
        (["--tls", "--cert-file", "c.pem"], "--cert-file and --key-file go together"),
        (["--mqtt-version", "4"], "--mqtt-version"),
        (["--timeout", "soon"], "--timeout 'soon'"),
        (["--timeout", "0s"], "--timeout '0s'"),
        (["--client-id", ""], "--client-id"),
    ])
    func optionRulesAreChecked(arguments: [String], message: String) throws {
        let command = try Self.push(arguments)
        #expect {
            _ = try command.checkArguments()
        } throws: { error in
            guard let error = error as? ConfigCommandError else { return false }
            return error.exitCode == 2 && error.description.contains(message)
        }
    }

    @Test func validArgumentsGiveTheTimeToWait() throws {
        #expect(try Self.push([]).checkArguments() == .seconds(600))
        let full = try Self.push([
            "--key", "k.key", "--version", "3", "--gateways-file", "fleet.txt", "--timeout", "90s", "--tls",
            "--ca-file", "ca.pem", "--cert-file", "c.pem", "--key-file", "c.key", "--username", "ops",
            "--password-file", "pw", "--wait", "pending", "--mqtt-version", "3.1.1",
        ])
        #expect(try full.checkArguments() == .seconds(90))
        #expect(full.wait == .pending)
        let broker = try Self.push(["--tls"]).makeBroker()
        #expect(broker.port == 8883 && broker.version == .v5 && broker.clientIdentifier.hasPrefix("wharfctl-push-"))
        #expect(try Self.push(["--port", "1884", "--mqtt-version", "3.1.1"]).makeBroker().version == .v311)
    }

    /// With --key, one document per gateway, each signed for its gateway with the same version.
    @Test func withAKeyEachGatewayGetsItsOwnSignedDocument() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharfctl-push-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("fleet-test.key").path
        let configFile = directory.appendingPathComponent("sections.yaml").path
        let fleetFile = directory.appendingPathComponent("fleet.txt").path
        try KeyFile.privateText(Self.key).write(toFile: keyFile, atomically: true, encoding: .utf8)
        try "log:\n  level: debug\n".write(toFile: configFile, atomically: true, encoding: .utf8)
        try "gw-2\ngw-3\n".write(toFile: fleetFile, atomically: true, encoding: .utf8)
        let command = try ConfigPush.parse([
            configFile, "--host", "127.0.0.1", "--key", keyFile, "--version", "9", "--gateway", "gw-1",
            "--gateways-file", fleetFile,
        ])
        _ = try command.checkArguments()
        let targets = try command.makeTargets()
        #expect(targets.map(\.gateway) == ["gw-1", "gw-2", "gw-3"])
        for target in targets {
            let document = try RemoteConfigDocument.parse(target.document).get()
            #expect(document.gateway == target.gateway && document.version == 9 && document.keyID == "fleet-test")
            let payload = try document.signingPayload().get()
            let signature = try #require(document.signature)
            #expect(Self.key.publicKey.isValidSignature(signature, for: payload))
            #expect(target.desiredTopic == "wharf/\(target.gateway)/config/desired")
        }
    }
}
