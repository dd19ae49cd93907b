/// Decoding of the `adapters:` list.
extension AdapterConfig {
    /// The keys Wharf itself reads; all others belong to the adapter.
    static let ownKeys: Set<String> = ["name", "type", "enabled"]

    /// Reads the adapter list and reports names used twice.
    static func readList(from root: ConfigReader) -> [AdapterConfig] {
        var adapters: [AdapterConfig] = []
        var names: [String: ConfigNode] = [:]
        for item in root.sectionList("adapters") ?? [] {
            let adapter = AdapterConfig(reading: item)
            // Checked on the raw name so that a clash is reported even when the entry has other problems.
            if let nameNode = item.value("name"), let name = nameNode.text {
                if let earlier = names[name] {
                    root.report(
                        "adapter name '\(name)' is already used by \(where: earlier); names must be unique",
                        at: nameNode
                    )
                } else {
                    names[name] = item.node
                }
            }
            if let adapter { adapters.append(adapter) }
        }
        return adapters
    }

    /// Reads one adapter entry; `nil` when its name or type is missing or misspelt (already reported).
    init?(reading reader: ConfigReader) {
        let name = reader.requiredString(
            "name",
            "a unique name for this adapter, such as 'plc-1', made of lowercase letters, digits, '_' and '-'"
        )
        if let name, let node = reader.value("name"), !NameRules.isInstanceName(name) {
            reader.report(
                "expected a name made of lowercase letters, digits, '_' and '-', got \(node.quoted)", at: node)
        }
        let type = reader.requiredString("type", "which adapter runs this entry, such as 'modbus' or 'coap'")
        if let type, let node = reader.value("type"), !NameRules.isInstanceName(type) {
            reader.report(
                "expected an adapter type made of lowercase letters, digits, '_' and '-', got \(node.quoted)",
                at: node
            )
        }
        let enabled = reader.bool("enabled", default: true)
        // The rest is the adapter's own; its registry validates it, so no unknown-key check here.
        let own = reader.members.filter { !Self.ownKeys.contains($0.key) }
        let source = ConfigNode(
            .object(own),
            file: reader.node.file,
            path: reader.path,
            line: reader.node.line,
            column: reader.node.column
        )
        guard let name, let type, NameRules.isInstanceName(name), NameRules.isInstanceName(type) else { return nil }
        self.init(name: name, type: type, enabled: enabled, settings: source.value, source: source)
    }
}
