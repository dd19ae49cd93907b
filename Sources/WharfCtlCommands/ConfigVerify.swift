import ArgumentParser
import RemoteConfig
import RemoteConfigHost
import WharfAuth
import WharfChecks
import WharfConfig
import WharfSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `wharfctl config verify`: every check a gateway runs on a document, with every problem printed.
struct ConfigVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a signed document as the gateway would: signature, gateway, version, times, "
            + "allowed sections and the effective configuration."
    )

    @Option(help: "The trusted-keys directory (KEY_ID.pub files).")
    var keys: String = "/etc/wharf/trusted-keys"

    @Option(help: "The id of the gateway that receives the document.")
    var gateway: String

    @Option(name: .customLong("last-version"), help: "The version the gateway applied last (none by default).")
    var lastVersion: Int?

    @Option(name: .customLong("config"), help: "The gateway's local configuration file (none: an empty one).")
    var localFile: String?

    @Option(help: "Check the times against this UTC time instead of now (2026-12-07T14:30:00Z).")
    var now: String?

    @Argument(help: "The signed document (JSON).")
    var file: String

    func run() throws {
        do {
            let problems = try check()
            guard problems.isEmpty else {
                printError(
                    problems.joined(separator: "\n")
                        + "\n\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s") found")
                throw ExitCode(1)
            }
            print("\(file): OK")
        } catch let error as ConfigCommandError {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }

    /// Every problem, one line each, as `wharfctl check` prints them.
    private func check() throws(ConfigCommandError) -> [String] {
        var local = ConfigNode(.null, file: localFile ?? "")
        if let localFile {
            switch ConfigLoader.parse(yaml: try ConfigFiles.readText(localFile), file: localFile) {
            case .failure(let error): throw ConfigCommandError(error.description, exitCode: 1)
            case .success(let node): local = node
            }
        }
        let (settings, settingIssues) = RemoteConfigSettings.read(from: local)
        if !settingIssues.isEmpty { return settingIssues.map(\.description) }
        var nowSeconds = Int64(time(nil))
        if let now {
            guard let parsed = UTCTimestamp.parse(now) else {
                throw ConfigCommandError(
                    "wharfctl: --now expects a UTC time such as 2026-12-07T14:30:00Z, got '\(now)'")
            }
            nowSeconds = parsed
        }
        let context = VerificationContext(
            gateway: gateway, trustedKeys: try trustedKeys(), settings: settings, lastAppliedVersion: lastVersion,
            now: nowSeconds)
        let bytes = try ConfigFiles.read(file)
        switch RemoteConfigVerifier.verify(bytes, local: local, context: context) {
        case .failure(let rejection):
            let version = RemoteConfigDocument.parse(bytes).success?.version
            let source = version.map(RemoteConfigVerifier.sourceName(version:)) ?? file
            return rejection.problems.map { "\($0.configIssue(file: source)) [\($0.kind.rawValue)]" }
        case .success(let accepted):
            // What `wharfctl check` runs beyond the schema: each adapter as it reads its section,
            // the broker's auth files, and here the ACL content the document sends.
            let source = RemoteConfigVerifier.sourceName(version: accepted.document.version)
            var lines = ConfigCheck.problems(in: accepted.effective.configuration, file: source)
            if let acl = accepted.effective.acl {
                do { _ = try AccessControlList(parsing: acl, file: "\(source) acl") } catch { lines.append("\(error)") }
            }
            return lines
        }
    }

    private func trustedKeys() throws(ConfigCommandError) -> TrustedKeys {
        switch TrustedKeyDirectory.load(keys) {
        case .success(let trusted): return trusted
        case .failure(let failure): throw ConfigCommandError(failure.description)
        }
    }

}

extension Result {
    /// The value, when this is a success.
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
