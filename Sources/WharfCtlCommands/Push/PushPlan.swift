import RemoteConfig

/// One gateway's part of a push: its signed document and its two topics.
struct PushTarget: Equatable, Sendable {
    var gateway: String
    var version: Int
    /// `{prefix}/desired`, where the document is published, retained.
    var desiredTopic: String
    /// `{prefix}/reported`, where the gateway retains its reported state.
    var reportedTopic: String
    /// The signed document, byte for byte as published.
    var document: [UInt8]
}

/// What `wharfctl config push` publishes, from its arguments: the gateways, their topics and documents.
enum PushPlan {
    /// The default topic prefix; `{gateway}` is replaced by each gateway's id.
    static let defaultTopicPrefix = "wharf/{gateway}/config"
    /// The placeholder of the topic prefix.
    static let placeholder = "{gateway}"

    /// The gateway ids of `--gateway` options and of a gateways file (one id a line; blank lines and
    /// lines starting with `#` skipped), in order. An id listed twice is refused: a list with
    /// duplicates is more likely a mistake than a wish.
    static func gateways(options: [String], fileText: String? = nil, file: String = "") throws(ConfigCommandError)
        -> [String]
    {
        var ids: [(id: String, origin: String)] = options.map { ($0, "--gateway") }
        if let fileText {
            for (index, line) in fileText.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                .enumerated()
            {
                let id = line.trimmingWhitespace
                if id.isEmpty || id.hasPrefix("#") { continue }
                ids.append((id, "\(file):\(index + 1)"))
            }
        }
        var seen: [String: String] = [:]
        for (id, origin) in ids {
            if let first = seen[id] {
                throw ConfigCommandError(
                    "wharfctl config push: \(origin): gateway '\(id)' is already listed (\(first))")
            }
            seen[id] = origin
        }
        return ids.map(\.id)
    }

    /// Refuses a topic prefix no gateway could use, or one that would send every gateway's document
    /// to the same topic.
    static func checkTopicPrefix(_ template: String, gatewayCount: Int) throws(ConfigCommandError) {
        let name = "wharfctl config push: --topic-prefix '\(template)'"
        if template.isEmpty || template.hasSuffix("/") {
            throw ConfigCommandError("\(name): expected topic levels without a trailing '/'")
        }
        if template.contains("+") || template.contains("#") || template.unicodeScalars.contains("\u{0}") {
            throw ConfigCommandError("\(name): a topic name cannot contain '+', '#' or NUL")
        }
        if gatewayCount > 1 && !template.contains(placeholder) {
            throw ConfigCommandError("\(name): needs \(placeholder) to push to more than one gateway")
        }
    }

    /// The prefix of `gateway`'s topics.
    static func topicPrefix(_ template: String, gateway: String) -> String {
        template.replacing(placeholder, with: gateway)
    }

    /// The target of one gateway's document.
    static func target(gateway: String, version: Int, template: String, document: [UInt8]) -> PushTarget {
        let prefix = topicPrefix(template, gateway: gateway)
        return PushTarget(
            gateway: gateway, version: version, desiredTopic: prefix + "/desired", reportedTopic: prefix + "/reported",
            document: document)
    }

    /// The target of an already signed document: its gateway and version, which `--gateway` and
    /// `--version`, when given, must match.
    static func signedTarget(
        _ bytes: [UInt8], file: String, gateways: [String], version: Int?, template: String
    ) throws(ConfigCommandError) -> PushTarget {
        let document: RemoteConfigDocument
        switch RemoteConfigDocument.parse(bytes) {
        case .failure(let rejection): throw ConfigCommandError("\(file): \(rejection.description)", exitCode: 1)
        case .success(let parsed): document = parsed
        }
        if document.signature == nil {
            throw ConfigCommandError(
                "\(file): the document is not signed; sign it with 'wharfctl config sign', or pass --key", exitCode: 1)
        }
        if let given = gateways.first, given != document.gateway {
            throw ConfigCommandError(
                "wharfctl config push: \(file) is for gateway '\(document.gateway)', not '\(given)'; "
                    + "pass --key to sign the configuration for other gateways")
        }
        if let version, version != document.version {
            throw ConfigCommandError(
                "wharfctl config push: \(file) has version \(document.version), not \(version)")
        }
        return target(gateway: document.gateway, version: document.version, template: template, document: bytes)
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and carriage returns.
    var trimmingWhitespace: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
