import ArgumentParser
import RemoteConfig
import WharfSupport

/// `wharfctl config keygen [--out DIR] KEY_ID`: a new Ed25519 key pair for signing documents.
struct ConfigKeygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a signing key pair: KEY_ID.key (private, mode 0600) and KEY_ID.pub (for the gateways)."
    )

    @Option(name: .customLong("out"), help: "The directory to write the two files to.")
    var directory: String = "."

    @Argument(help: "The key id (\(KeyID.rule)); documents name the key by it.")
    var keyID: String

    func run() throws {
        guard KeyID.isValid(keyID) else {
            printError("wharfctl: invalid key id '\(keyID)': expected \(KeyID.rule)")
            throw ExitCode(2)
        }
        let key = SigningKey.generate(keyID: keyID)
        let base = directory.hasSuffix("/") ? directory + keyID : directory + "/" + keyID
        do {
            try ConfigFiles.create(base + KeyFile.privateSuffix, text: KeyFile.privateText(key), mode: 0o600)
            try ConfigFiles.create(base + KeyFile.publicSuffix, text: KeyFile.publicText(key.publicKey), mode: 0o644)
        } catch {
            printError("wharfctl: \(error.description)")
            throw ExitCode(error.exitCode)
        }
        print("\(base)\(KeyFile.privateSuffix): private key; keep it off the gateways")
        print("\(base)\(KeyFile.publicSuffix): public key; copy it to /etc/wharf/trusted-keys/ on each gateway")
    }
}
