import WharfCore

extension AccessControlList {
    /// Parses an ACL file in Mosquitto's format; `file` names it in errors.
    ///
    /// ```
    /// topic read $SYS/#            # anonymous clients
    /// user alice
    /// topic readwrite plant/#
    /// topic deny plant/secret
    /// pattern write devices/%c/#   # every client
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
                currentUser = String(rest)
                if userRules[String(rest)] == nil { userRules[String(rest)] = [] }
            case "topic", "pattern":
                let rule = try Self.rule(rest, keyword: String(keyword), line: lineNumber, fail: fail)
                if keyword == "pattern" {
                    patternRules.append(rule)
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
