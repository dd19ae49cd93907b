import Crypto
public import RemoteConfig
public import RemoteConfigState
public import WharfConfig
import WharfSupport

/// A configuration the daemon runs: the local file, or the local file overlaid with an accepted
/// remote version, with where each section came from and a hash the cloud can compare.
public struct RunningConfiguration: Sendable {
    /// The validated configuration; when the document sends ACL content, `broker.acl_file` names
    /// the staged copy of it.
    public var configuration: WharfConfiguration
    /// The remote version (0: the local file alone).
    public var version: UInt64
    /// Each top-level section, and each `section.key` a document replaced, mapped to `local` or
    /// `remote:VERSION`.
    public var sources: [String: String]
    /// The hex SHA-256 of the effective tree's canonical JSON and the ACL content the document sends.
    public var hash: String

    /// The local file alone.
    public static func local(tree: ConfigNode, configuration: WharfConfiguration) -> RunningConfiguration {
        RunningConfiguration(
            configuration: configuration, version: 0, sources: sources(replaced: [], version: 0),
            hash: hash(tree: tree, acl: nil))
    }

    /// An accepted document of `version` on the local file; its ACL content is at `aclPath`.
    public static func remote(_ effective: ConfigOverlay.Effective, version: UInt64, aclPath: String)
        -> RunningConfiguration
    {
        var configuration = effective.configuration
        if effective.acl != nil { configuration.broker.aclFile = aclPath }
        return RunningConfiguration(
            configuration: configuration, version: version,
            sources: sources(replaced: effective.replaced, version: version),
            hash: hash(tree: effective.tree, acl: effective.acl))
    }

    /// The staged document of `version` overlaid on `local` again (at start, or to roll back):
    /// the local file may have changed since, so it is validated again.
    public static func staged(
        version: UInt64, files: RemoteConfigFiles, local: ConfigNode, settings: RemoteConfigSettings
    ) -> Result<RunningConfiguration, ReportedErrors> {
        let bytes: [UInt8]
        do {
            guard let read = try files.readDocument(version) else {
                return .failure(
                    ReportedErrors([ReportedError(path: "", message: "\(files.documentPath(version)) is missing")]))
            }
            bytes = read
        } catch {
            return .failure(ReportedErrors([ReportedError(path: "", message: error.description)]))
        }
        let document: RemoteConfigDocument
        switch RemoteConfigDocument.parse(bytes) {
        case .failure(let rejection): return .failure(ReportedErrors(rejection.problems.map(ReportedError.init)))
        case .success(let parsed): document = parsed
        }
        let file = RemoteConfigVerifier.sourceName(version: document.version)
        switch ConfigOverlay.validate(local: local, config: document.config, allow: settings.allow, file: file) {
        case .failure(let rejection): return .failure(ReportedErrors(rejection.problems.map(ReportedError.init)))
        case .success(let effective):
            if let acl = effective.acl {
                // Rewritten if a crash lost it: the document is the source of truth.
                do { try files.stage(version: version, document: bytes, acl: acl) } catch {
                    return .failure(ReportedErrors([ReportedError(path: "acl", message: error.description)]))
                }
            }
            return .success(remote(effective, version: version, aclPath: files.aclPath(version)))
        }
    }

    /// Sources of a configuration in which `replaced` parts come from `version`.
    static func sources(replaced: [String], version: UInt64) -> [String: String] {
        var sources: [String: String] = [:]
        for section in RemoteConfigConfig.knownSections { sources[section] = "local" }
        for part in replaced { sources[part] = RemoteConfigVerifier.sourceName(version: Int(clamping: version)) }
        return sources
    }

    /// The hex SHA-256 of the tree's canonical JSON, followed by the ACL content when there is one.
    static func hash(tree: ConfigNode, acl: String?) -> String {
        var hasher = SHA256()
        if let json = try? JSONValue(configNode: tree), case .success(let bytes) = json.canonicalBytes() {
            hasher.update(data: bytes)
        } else {
            hasher.update(data: Array(String(describing: tree).utf8))
        }
        if let acl {
            hasher.update(data: [0])
            hasher.update(data: Array(acl.utf8))
        }
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }
}

extension ReportedError {
    /// A document problem as reported: its key path and message (with file and line for the validator's).
    public init(_ problem: RemoteConfigProblem) {
        // Every path is one in the document: the validator's paths are inside `config`.
        let path =
            problem.kind == .invalidConfig && !problem.path.hasPrefix("config")
            ? "config." + problem.path : problem.path
        self.init(path: path, message: "\(problem.message) [\(problem.kind.rawValue)]")
    }
}

/// The problems that stop a configuration from being used.
public struct ReportedErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, each with its key path.
    public var errors: [ReportedError]

    /// Wraps `errors`.
    public init(_ errors: [ReportedError]) { self.errors = errors }

    /// One `path: message` per line.
    public var description: String {
        errors.map { $0.path.isEmpty ? $0.message : "\($0.path): \($0.message)" }.joined(separator: "\n")
    }
}
