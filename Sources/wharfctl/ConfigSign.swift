import ArgumentParser
import RemoteConfig
import WharfConfig
import WharfSupport

/// `wharfctl config sign`: a configuration (YAML or JSON) in, a signed document (JSON) out.
struct ConfigSign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign configuration sections for one gateway; the signed document is written to standard output."
    )

    @Option(help: "The private key file (KEY_ID.key from 'wharfctl config keygen').")
    var key: String

    @Option(help: "The id of the gateway the document is for.")
    var gateway: String

    @Option(help: "The document's version: greater than the one the gateway last applied.")
    var version: Int

    @Option(name: .customLong("key-id"), help: "The key id to write (default: the one in the key file).")
    var keyID: String?

    @Option(name: .customLong("not-before"), help: "Not valid before this UTC time (2026-12-07T14:30:00Z).")
    var notBefore: String?

    @Option(help: "Not valid from this UTC time on (2026-12-08T00:00:00Z).")
    var expires: String?

    @Argument(help: "The configuration sections to send, in YAML or JSON.")
    var file: String

    func run() throws {
        do {
            print(try signedText())
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }

    private func signedText() throws(ConfigCommandError) -> String {
        var signingKey: SigningKey
        switch KeyFile.parsePrivate(try ConfigFiles.readText(key)) {
        case .failure(let error): throw ConfigCommandError("\(key): \(error.description)")
        case .success(let parsed): signingKey = parsed
        }
        if let keyID {
            guard KeyID.isValid(keyID), let renamed = SigningKey(keyID: keyID, seed: signingKey.seed) else {
                throw ConfigCommandError("wharfctl: invalid key id '\(keyID)': expected \(KeyID.rule)")
            }
            signingKey = renamed
        }
        let config = try readConfig()
        var document = RemoteConfigDocument(gateway: gateway, version: version, config: config)
        document.notBefore = try time(notBefore, "--not-before")
        document.expires = try time(expires, "--expires")
        // The same shape checks a gateway runs, so that nothing is signed that every gateway refuses.
        if case .failure(let rejection) = RemoteConfigDocument.read(document.json) {
            throw ConfigCommandError(rejection.description, exitCode: 1)
        }
        switch signingKey.sign(document) {
        case .failure(let error): throw ConfigCommandError("\(file): \(error.description)", exitCode: 1)
        case .success(let signed):
            switch signed.json.prettyText() {
            case .failure(let error): throw ConfigCommandError("\(file): \(error.description)", exitCode: 1)
            case .success(let text): return text
            }
        }
    }

    /// The configuration as JSON: JSON files through the strict parser, YAML through the file's parser.
    private func readConfig() throws(ConfigCommandError) -> JSONValue {
        let bytes = try ConfigFiles.read(file)
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        let value: JSONValue
        if first == UInt8(ascii: "{") {
            switch JSONParser.parse(bytes) {
            case .failure(let error): throw ConfigCommandError("\(file):\(error.description)", exitCode: 1)
            case .success(let parsed): value = parsed
            }
        } else {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ConfigCommandError("\(file): not UTF-8 text")
            }
            switch ConfigLoader.parse(yaml: text, file: file) {
            case .failure(let error): throw ConfigCommandError(error.description, exitCode: 1)
            case .success(let node):
                do { value = try JSONValue(configNode: node) } catch {
                    throw ConfigCommandError("\(file): \(error.description)", exitCode: 1)
                }
            }
        }
        guard case .object = value else {
            throw ConfigCommandError("\(file): expected a mapping of configuration sections", exitCode: 1)
        }
        return value
    }

    private func time(_ text: String?, _ option: String) throws(ConfigCommandError) -> Int64? {
        guard let text else { return nil }
        guard let seconds = UTCTimestamp.parse(text) else {
            throw ConfigCommandError(
                "wharfctl: \(option) expects a UTC time such as 2026-12-07T14:30:00Z, got '\(text)'")
        }
        return seconds
    }
}
