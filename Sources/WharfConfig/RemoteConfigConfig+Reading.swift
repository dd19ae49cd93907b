/// Decoding and cross-checks of the `remote_config:` section.
extension RemoteConfigConfig {
    /// Reads the section, reporting every problem with its key path.
    public init(reading reader: ConfigReader) {
        let defaults = RemoteConfigConfig()
        self.init()
        enabled = reader.bool("enabled", default: defaults.enabled)
        if let node = reader.value("topic_prefix"), let prefix = reader.string(node) {
            let sample = prefix.replacing("{gateway}", with: "gw")
            if prefix.isEmpty || sample.contains(where: { "+#\0".contains($0) }) || sample.hasSuffix("/")
                || sample.hasPrefix("$")
            {
                reader.report(
                    "expected a topic without wildcards, '$' at the start or '/' at the end, "
                        + "such as wharf/{gateway}/config, got \(node.quoted)",
                    at: node)
            } else {
                topicPrefix = prefix
            }
        }
        if let node = reader.value("trusted_keys_dir"), let path = reader.string(node) {
            if path.hasPrefix("/") && !path.contains("\0") {
                trustedKeysDirectory = path
            } else {
                reader.report(
                    "expected an absolute directory path such as /etc/wharf/trusted-keys, got \(node.quoted)", at: node)
            }
        }
        if let entries = reader.list("allow") {
            allow = Self.readAllow(entries, reader: reader)
        }
        allowUnsigned = reader.bool("allow_unsigned", default: defaults.allowUnsigned)
        confirmWithin = reader.duration("confirm_within", default: defaults.confirmWithin, in: .seconds(1)...)
        confirmAfter = reader.duration("confirm_after", default: defaults.confirmAfter)
        maxProvisionalStarts = reader.int(
            "max_provisional_starts", default: defaults.maxProvisionalStarts, in: 1...1000)
        startWindow = reader.duration("start_window", default: defaults.startWindow, in: .seconds(1)...)
        maxDocumentBytes = reader.size(
            "max_document_bytes", default: defaults.maxDocumentBytes, in: (1 << 10)...(64 << 20))
        if confirmAfter >= confirmWithin, let node = reader.value("confirm_after") ?? reader.value("confirm_within") {
            reader.report(
                "confirm_after (\(ConfigUnits.format(confirmAfter))) must be shorter than confirm_within "
                    + "(\(ConfigUnits.format(confirmWithin))): "
                    + "the uplink and the health checks must be able to hold for confirm_after before time runs out",
                at: node)
        }
        reader.finish()
    }

    /// The `allow` entries: sections or `section.key`, without duplicates; `[]` allows nothing.
    private static func readAllow(_ entries: [ConfigNode], reader: ConfigReader) -> [String] {
        var allow: [String] = []
        for entry in entries {
            guard let name = reader.string(entry) else { continue }
            let components = name.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(components.count), let first = components.first,
                knownSections.contains(String(first)), components.allSatisfy({ !$0.isEmpty })
            else {
                reader.report(
                    "expected a section (\(knownSections.joined(separator: ", "))) "
                        + "or a key of one such as 'uplink.forward', got \(entry.quoted)",
                    at: entry
                )
                continue
            }
            if !allow.contains(name) { allow.append(name) }
        }
        return allow
    }
}
