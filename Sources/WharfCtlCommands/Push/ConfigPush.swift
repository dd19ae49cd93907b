import ArgumentParser
import MQTTCodec
import NIOSSL
import WharfConfig
import WharfSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `wharfctl config push`: publishes signed documents to the cloud broker for one or many gateways,
/// then waits for and prints each gateway's reported outcome.
struct ConfigPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Publish signed documents to gateways through the cloud broker and wait for their outcome.",
        discussion: """
            With --key, FILE is a configuration (YAML or JSON) signed for each gateway with that key and \
            --version; without it, FILE is a document signed already, for its own gateway. Each document \
            is published retained at QoS 1 on PREFIX/desired, and the gateway's PREFIX/reported is \
            watched until it reports the version's outcome. Exit status: 0 every gateway applied (or \
            pending confirmation, with --wait pending), 1 any rejected, rolled back or silent until \
            the timeout, 2 bad arguments, unusable files, or a broker that cannot be reached.
            """
    )

    @Argument(help: "The configuration to sign (with --key), or a signed document.")
    var file: String

    @Option(help: "The cloud broker's host name or address.")
    var host: String

    @Option(help: "The cloud broker's port (default 1883, 8883 with --tls).")
    var port: Int?

    @Option(help: "The user name to log in with.")
    var username: String?

    @Option(name: .customLong("password-file"), help: "A file holding the password (its first line).")
    var passwordFile: String?

    @Flag(help: "Connect with TLS.")
    var tls = false

    @Option(name: .customLong("ca-file"), help: "The CA certificates to trust (PEM; default: the system's).")
    var caFile: String?

    @Option(name: .customLong("cert-file"), help: "A client certificate (PEM), with --key-file.")
    var certFile: String?

    @Option(name: .customLong("key-file"), help: "The client certificate's private key (PEM).")
    var keyFile: String?

    @Option(name: .customLong("gateway"), help: "A gateway id to push to (repeatable).")
    var gateways: [String] = []

    @Option(name: .customLong("gateways-file"), help: "A file of gateway ids, one a line ('#' starts a comment).")
    var gatewaysFile: String?

    @Option(help: "The private key file to sign FILE with, for each gateway.")
    var key: String?

    @Option(help: "The version to sign (with --key); must match the document's without.")
    var version: Int?

    @Option(name: .customLong("key-id"), help: "The key id to write (with --key; default: the key file's).")
    var keyID: String?

    @Option(name: .customLong("not-before"), help: "Not valid before this UTC time (with --key).")
    var notBefore: String?

    @Option(help: "Not valid from this UTC time on (with --key).")
    var expires: String?

    @Option(name: .customLong("topic-prefix"), help: "The gateways' topic prefix; {gateway} is the gateway's id.")
    var topicPrefix = PushPlan.defaultTopicPrefix

    @Option(help: "How long to wait for the outcomes (600s, 10m, ...).")
    var timeout = "600s"

    @Option(help: "What ends the wait for a gateway: applied (confirmed) or pending (tried).")
    var wait: PushProgress.Wait = .applied

    @Option(name: .customLong("mqtt-version"), help: "The MQTT version to speak: 5 or 3.1.1.")
    var mqttVersion = "5"

    @Option(name: .customLong("client-id"), help: "The MQTT client id (default: wharfctl-push- and a random part).")
    var clientID: String?

    static let name = "wharfctl config push"

    func run() async throws {
        let targets: [PushTarget]
        let broker: PushBroker
        let context: NIOSSLContext?
        let waitLimit: Duration
        do {
            waitLimit = try checkArguments()
            targets = try makeTargets()
            broker = try makeBroker()
            context = try broker.tls?.makeContext()
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
        let versions = targets.map { (gateway: $0.gateway, version: UInt64($0.version)) }
        var state = PushState(progress: PushProgress(versions: versions, wait: wait))
        let deadline = ContinuousClock.now + waitLimit
        var delay = Duration.seconds(1)
        let emit: (String) -> Void = { line in
            print(line)
            fflush(nil)  // every stream: `stdout` itself is a global Swift 6 will not touch
        }
        connections: while true {
            let end: PushSessionEnd
            do {
                end = try await PushSession.run(
                    broker: broker, tls: context, targets: targets, state: &state, deadline: deadline, emit: emit)
            } catch {
                printError("\(Self.name): \(error.description)")
                throw ExitCode(2)
            }
            switch end {
            case .complete, .deadline:
                break connections
            case .lost(let reason):
                guard state.connected else {
                    printError("\(Self.name): \(reason)")
                    throw ExitCode(2)
                }
                let now = ContinuousClock.now
                if now >= deadline { break connections }
                printError("\(Self.name): \(reason); connecting again")
                try? await Task.sleep(until: min(now + delay, deadline), clock: .continuous)
                delay = min(delay * 2, .seconds(30))
            }
        }
        let summary = state.progress.summary(waited: timeout)
        summary.lines.forEach(emit)
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }

    /// The checks of the options among themselves; the time to wait.
    func checkArguments() throws(ConfigCommandError) -> Duration {
        func usage(_ text: String) -> ConfigCommandError { ConfigCommandError("\(Self.name): \(text)") }
        if let port, !(1...65_535).contains(port) { throw usage("--port \(port): expected 1 to 65535") }
        if key == nil {
            for (name, value) in [
                ("--key-id", keyID), ("--not-before", notBefore), ("--expires", expires),
                ("--gateways-file", gatewaysFile),
            ] where value != nil {
                throw usage("\(name) needs --key (FILE is then a configuration to sign)")
            }
            if gateways.count > 1 {
                throw usage("a signed document is for one gateway; pass --key to sign FILE for several")
            }
        } else {
            if version == nil { throw usage("--key needs --version") }
            if gateways.isEmpty && gatewaysFile == nil {
                throw usage("name the gateways: --gateway or --gateways-file")
            }
        }
        if passwordFile != nil && username == nil { throw usage("--password-file needs --username") }
        if !tls {
            for (name, value) in [("--ca-file", caFile), ("--cert-file", certFile), ("--key-file", keyFile)]
            where value != nil {
                throw usage("\(name) needs --tls")
            }
        }
        if (certFile == nil) != (keyFile == nil) { throw usage("--cert-file and --key-file go together") }
        if mqttVersion != "5" && mqttVersion != "3.1.1" { throw usage("--mqtt-version: expected 5 or 3.1.1") }
        if let clientID, clientID.isEmpty || clientID.utf8.count > 65_535 {
            throw usage("--client-id: expected 1 to 65535 bytes")
        }
        guard let limit = ConfigUnits.parseDuration(timeout), limit > .zero else {
            throw usage("--timeout '\(timeout)': expected \(ConfigUnits.durationExamples)")
        }
        return limit
    }

    /// One target per gateway: documents signed here with `--key`, or the signed FILE as it is.
    func makeTargets() throws(ConfigCommandError) -> [PushTarget] {
        guard let key, let version else {
            try PushPlan.checkTopicPrefix(topicPrefix, gatewayCount: 1)
            let bytes = try ConfigFiles.read(file)
            return [
                try PushPlan.signedTarget(
                    bytes, file: file, gateways: gateways, version: version, template: topicPrefix)
            ]
        }
        let ids = try PushPlan.gateways(
            options: gateways, fileText: try gatewaysFile.map(ConfigFiles.readText), file: gatewaysFile ?? "")
        if ids.isEmpty { throw ConfigCommandError("\(Self.name): \(gatewaysFile ?? "--gateway"): no gateway ids") }
        try PushPlan.checkTopicPrefix(topicPrefix, gatewayCount: ids.count)
        let signer = try DocumentSigner(
            keyFile: key, keyID: keyID, configFile: file, notBefore: notBefore, expires: expires)
        var targets: [PushTarget] = []
        for gateway in ids {
            let text = try signer.signedText(gateway: gateway, version: version)
            targets.append(
                PushPlan.target(gateway: gateway, version: version, template: topicPrefix, document: Array(text.utf8)))
        }
        return targets
    }

    /// The broker's address, login and TLS settings.
    func makeBroker() throws(ConfigCommandError) -> PushBroker {
        var password: [UInt8]?
        if let passwordFile {
            // The first line; "\r\n" is one Character, so a file from Windows loses its "\r" too.
            let text = try ConfigFiles.readText(passwordFile)
            password = Array(
                (text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first ?? "").utf8)
        }
        return PushBroker(
            host: host, port: port ?? (tls ? 8883 : 1883), username: username, password: password,
            tls: tls ? PushTLS(caFile: caFile, certificateFile: certFile, keyFile: keyFile) : nil,
            clientIdentifier: clientID ?? "wharfctl-push-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))",
            version: mqttVersion == "3.1.1" ? .v311 : .v5)
    }
}

extension PushProgress.Wait: ExpressibleByArgument {}
