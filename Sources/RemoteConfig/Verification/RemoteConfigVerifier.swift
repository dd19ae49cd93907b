public import WharfConfig

/// What a gateway knows when it checks a document: who it is, whom it trusts, what it last applied,
/// what its file allows, and the time (given, never read from a clock here).
public struct VerificationContext: Sendable {
    /// This gateway's id (`gateway.id`).
    public var gateway: String
    /// The keys of the trusted-keys directory.
    public var trustedKeys: TrustedKeys
    /// The local file's `remote_config` settings.
    public var settings: RemoteConfigSettings
    /// The last version applied (kept on disk), `nil` when none ever was.
    public var lastAppliedVersion: Int?
    /// The current time, in Unix seconds.
    public var now: Int64

    /// Creates a context.
    public init(
        gateway: String, trustedKeys: TrustedKeys, settings: RemoteConfigSettings = RemoteConfigSettings(),
        lastAppliedVersion: Int? = nil, now: Int64
    ) {
        self.gateway = gateway
        self.trustedKeys = trustedKeys
        self.settings = settings
        self.lastAppliedVersion = lastAppliedVersion
        self.now = now
    }
}

/// A document that passed every check, with the configuration it makes effective.
public struct AcceptedDocument: Sendable {
    /// The document.
    public var document: RemoteConfigDocument
    /// The effective configuration (the local file overlaid with the document's sections).
    public var effective: ConfigOverlay.Effective
}

/// Runs every check on a document and reports every problem at once.
public enum RemoteConfigVerifier {
    /// The name remote values carry in issues: `remote:VERSION`.
    public static func sourceName(version: Int) -> String {
        "remote:\(version)"
    }

    /// Parses, authenticates, applies the version rule and the section policy, then validates the
    /// effective configuration. All checks run even when an earlier one failed, so an operator sees
    /// every problem; the document is accepted only when there is none.
    public static func verify(_ bytes: some Collection<UInt8>, local: ConfigNode, context: VerificationContext)
        -> Result<AcceptedDocument, RemoteConfigRejection>
    {
        let document: RemoteConfigDocument
        switch RemoteConfigDocument.parse(bytes) {
        case .failure(let rejection): return .failure(rejection)
        case .success(let parsed): document = parsed
        }
        var problems = authenticate(document, context: context)
        problems += SectionPolicy.problems(config: document.config, allow: context.settings.allow)
        let file = sourceName(version: document.version)
        switch ConfigOverlay.validate(local: local, config: document.config, allow: context.settings.allow, file: file)
        {
        case .failure(let rejection):
            problems += rejection.problems
            return .failure(RemoteConfigRejection(problems))
        case .success(let effective):
            guard problems.isEmpty else { return .failure(RemoteConfigRejection(problems)) }
            return .success(AcceptedDocument(document: document, effective: effective))
        }
    }

    /// The checks that do not look inside `config`: signature, gateway, version and validity times.
    public static func authenticate(_ document: RemoteConfigDocument, context: VerificationContext)
        -> [RemoteConfigProblem]
    {
        var problems: [RemoteConfigProblem] = []
        problems += signatureProblems(document, context: context)
        if document.gateway != context.gateway {
            problems.append(
                RemoteConfigProblem(
                    .wrongGateway, path: "gateway",
                    "the document is for gateway '\(document.gateway)', this is '\(context.gateway)'"))
        }
        if let stale = VersionRule.problem(version: document.version, lastApplied: context.lastAppliedVersion) {
            problems.append(stale)
        }
        if let notBefore = document.notBefore, context.now < notBefore {
            problems.append(
                RemoteConfigProblem(
                    .notYetValid, path: "not_before",
                    "the document is not valid before \(UTCTimestamp.format(notBefore)) "
                        + "(now \(UTCTimestamp.format(context.now)))"))
        }
        if let expires = document.expires, context.now >= expires {
            problems.append(
                RemoteConfigProblem(
                    .expired, path: "expires",
                    "the document expired at \(UTCTimestamp.format(expires)) (now \(UTCTimestamp.format(context.now)))")
            )
        }
        return problems
    }

    private static func signatureProblems(_ document: RemoteConfigDocument, context: VerificationContext)
        -> [RemoteConfigProblem]
    {
        guard let signature = document.signature, let keyID = document.keyID else {
            if context.settings.allowUnsigned { return [] }
            return [
                RemoteConfigProblem(
                    .unsigned, path: "signature",
                    "the document is not signed, and remote_config.allow_unsigned is false")
            ]
        }
        guard let key = context.trustedKeys[keyID] else {
            let known = context.trustedKeys.keyIDs
            return [
                RemoteConfigProblem(
                    .unknownKeyID, path: "key_id",
                    "no trusted key '\(keyID)' (trusted: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            ]
        }
        guard case .success(let payload) = document.signingPayload(),
            key.isValidSignature(signature, for: payload)
        else {
            return [
                RemoteConfigProblem(
                    .badSignature, path: "signature",
                    "the signature does not match the document and the key '\(keyID)': "
                        + "the document was changed after signing, or signed with another key")
            ]
        }
        return []
    }
}
