import WharfCore

extension AccessControlList {
    /// Parses an ACL file in Mosquitto's format; `file` names it in errors.
    ///
    /// ```
    /// topic read $SYS/#            # anonymous clients
    /// user alice
    /// topic readwrite plant/#
    /// topic deny plant/secret
    /// pattern write devices/%c/#   # every MQTT client
    /// user adapter:plc-1           # the Modbus adapter named plc-1
    /// topic write devices/plc-1/#
    /// ```
    public init(parsing text: String, file: String) throws(AuthFileError) {
        self.init()
        var currentUser: String?
        var lineNumber = 0
        for raw in text.lines {
            lineNumber += 1
            let line = raw.trimmingBlanks
            if line.isEmpty || line.hasPrefix("#") { continue }
            let keyword = line.prefix { $0 != " " && $0 != "\t" }
            let rest = line.dropFirst(keyword.count).trimmingBlanks
            func fail(_ message: String) -> AuthFileError {
                AuthFileError(file: file, line: lineNumber, message: message)
            }
            switch keyword {
            case "user":
                guard !rest.isEmpty else { throw fail("'user' needs a user name") }
                let name = String(rest)
                if let problem = Self.problem(inPrincipalName: name) { throw fail(problem) }
                currentUser = name
                if Self.isPrincipalName(name) {
                    if principalRules[name] == nil { principalRules[name] = [] }
                } else if userRules[name] == nil {
                    userRules[name] = []
                }
            case "topic", "pattern":
                let rule = try Self.rule(rest, keyword: String(keyword), line: lineNumber, fail: fail)
                if keyword == "pattern" {
                    patternRules.append(rule)
                } else if let currentUser, Self.isPrincipalName(currentUser) {
                    principalRules[currentUser, default: []].append(rule)
                } else if let currentUser {
                    userRules[currentUser, default: []].append(rule)
                } else {
                    anonymousRules.append(rule)
                }
            default:
                throw fail(
                    "expected 'user <name>', 'topic [read|write|readwrite|deny] <filter>' "
                        + "or 'pattern [read|write|readwrite|deny] <filter>', found '\(keyword)'"
                )
            }
        }
    }

    /// Whether a `user` name names a principal other than an MQTT client (`adapter:plc-1`).
    static func isPrincipalName(_ name: String) -> Bool {
        Principal.reservedNamePrefixes.contains { name.hasPrefix($0) }
    }

    /// Why a `user` name with a reserved prefix names no principal Wharf has, or `nil`.
    private static func problem(inPrincipalName name: String) -> String? {
        guard let prefix = Principal.reservedNamePrefixes.first(where: { name.hasPrefix($0) }) else { return nil }
        let rest = name.dropFirst(prefix.count)
        if prefix == "wharf:" {
            return rest == "uplink" ? nil : "unknown Wharf principal '\(name)' (the only one is 'wharf:uplink')"
        }
        return rest.isEmpty ? "'\(prefix)' needs a name after it, such as '\(prefix)NAME'" : nil
    }

    /// `[access] filter`; a line without an access word grants readwrite, as in Mosquitto.
    private static func rule(
        _ text: Substring,
        keyword: String,
        line: Int,
        fail: (String) -> AuthFileError
    ) throws(AuthFileError) -> ACLRule {
        guard !text.isEmpty else { throw fail("'\(keyword)' needs a topic filter") }
        let first = text.prefix { $0 != " " && $0 != "\t" }
        var access = ACLAccess.readwrite
        var filter = text
        if let named = ACLAccess(rawValue: String(first)) {
            access = named
            filter = text.dropFirst(first.count).trimmingBlanks
            guard !filter.isEmpty else { throw fail("'\(keyword) \(first)' needs a topic filter") }
        }
        if let problem = Topic.validateFilter(String(filter)) {
            throw fail("'\(filter)' is not a valid MQTT topic filter (\(problem))")
        }
        return ACLRule(access: access, filter: String(filter), line: line)
    }
}
