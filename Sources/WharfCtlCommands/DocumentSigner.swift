import RemoteConfig
import WharfConfig
import WharfSupport

/// Signing of remote configuration documents, shared by `config sign` (one gateway) and `config push`
/// (one document per gateway, all with the same configuration, key and version).
struct DocumentSigner {
    /// The key, with the key id to write.
    let key: SigningKey
    /// The configuration sections to send.
    let config: JSONValue
    /// The name of the configuration's file, for messages.
    let file: String
    /// Not valid before (Unix seconds), if set.
    var notBefore: Int64?
    /// Not valid from (Unix seconds), if set.
    var expires: Int64?

    /// Reads the key file (renaming the key when `keyID` is given) and the configuration file, and
    /// parses the validity times.
    init(
        keyFile: String, keyID: String?, configFile: String, notBefore: String?, expires: String?
    ) throws(ConfigCommandError) {
        var signingKey: SigningKey
        switch KeyFile.parsePrivate(try ConfigFiles.readText(keyFile)) {
        case .failure(let error): throw ConfigCommandError("\(keyFile): \(error.description)")
        case .success(let parsed): signingKey = parsed
        }
        if let keyID {
            guard KeyID.isValid(keyID), let renamed = SigningKey(keyID: keyID, seed: signingKey.seed) else {
                throw ConfigCommandError("wharfctl: invalid key id '\(keyID)': expected \(KeyID.rule)")
            }
            signingKey = renamed
        }
        key = signingKey
        file = configFile
        config = try Self.readConfig(configFile)
        self.notBefore = try Self.time(notBefore, "--not-before")
        self.expires = try Self.time(expires, "--expires")
    }

    /// The signed document for `gateway` and `version`, as pretty-printed JSON text.
    func signedText(gateway: String, version: Int) throws(ConfigCommandError) -> String {
        var document = RemoteConfigDocument(gateway: gateway, version: version, config: config)
        document.notBefore = notBefore
        document.expires = expires
        // The same shape checks a gateway runs, so that nothing is signed that every gateway refuses.
        if case .failure(let rejection) = RemoteConfigDocument.read(document.json) {
            throw ConfigCommandError(rejection.description, exitCode: 1)
        }
        switch key.sign(document) {
        case .failure(let error): throw ConfigCommandError("\(file): \(error.description)", exitCode: 1)
        case .success(let signed):
            switch signed.json.prettyText() {
            case .failure(let error): throw ConfigCommandError("\(file): \(error.description)", exitCode: 1)
            case .success(let text): return text
            }
        }
    }

    /// The configuration as JSON: JSON files through the strict parser, YAML through the file's parser.
    static func readConfig(_ file: String) throws(ConfigCommandError) -> JSONValue {
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

    private static func time(_ text: String?, _ option: String) throws(ConfigCommandError) -> Int64? {
        guard let text else { return nil }
        guard let seconds = UTCTimestamp.parse(text) else {
            throw ConfigCommandError(
                "wharfctl: \(option) expects a UTC time such as 2026-12-07T14:30:00Z, got '\(text)'")
        }
        return seconds
    }
}
