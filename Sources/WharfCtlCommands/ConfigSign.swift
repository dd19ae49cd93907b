import ArgumentParser
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
            let signer = try DocumentSigner(
                keyFile: key, keyID: keyID, configFile: file, notBefore: notBefore, expires: expires)
            print(try signer.signedText(gateway: gateway, version: version))
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }
}
