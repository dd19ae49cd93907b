import WharfCore

extension MessageReader {
    /// `ready`: protocol, name, version, capabilities, subscriptions.
    func ready() throws(DecodeFailure) -> ReadyMessage {
        guard let span = present(members.protocolVersion), case .nonNegative(let version) = reader.integer(span),
            version <= UInt64(Int.max)
        else { throw invalid("ready: 'protocol' must be a non-negative integer") }
        let name = try requiredString(members.name, "ready", "name")
        let pluginVersion = try requiredString(members.version, "ready", "version")
        var capabilities: [String] = []
        if let span = present(members.capabilities) {
            var valid = reader.kind(of: span) == .array
            reader.forEachElement(span) { element in
                if let flag = reader.string(element) { capabilities.append(flag) } else { valid = false }
            }
            guard valid else { throw invalid("ready: 'capabilities' must be an array of strings") }
        }
        var subscriptions: [SubscriptionRequest] = []
        if let span = present(members.subscriptions) {
            subscriptions = try self.subscriptions(span)
        }
        return ReadyMessage(
            protocolVersion: Int(version),
            name: name,
            version: pluginVersion,
            capabilities: capabilities,
            subscriptions: subscriptions
        )
    }

    private func subscriptions(_ span: JSONSpan) throws(DecodeFailure) -> [SubscriptionRequest] {
        guard reader.kind(of: span) == .array else {
            throw invalid("ready: 'subscriptions' must be an array of objects")
        }
        var result: [SubscriptionRequest] = []
        var problem: DecodeFailure?
        reader.forEachElement(span) { element in
            guard problem == nil else { return }
            guard reader.kind(of: element) == .object else {
                problem = invalid("ready: 'subscriptions' must be an array of objects")
                return
            }
            var filter: String?
            var qos = QoS.atMostOnce
            reader.forEachMember(element) { key, value in
                switch key {
                case "filter":
                    filter = reader.string(value)
                    if filter?.isEmpty ?? true {
                        problem = invalid("ready: a subscription's 'filter' must be a non-empty string")
                    }
                case "qos":
                    if reader.kind(of: value) == .null { return }
                    if case .nonNegative(let level) = reader.integer(value), level <= 2,
                        let parsed = QoS(rawValue: UInt8(level))
                    {
                        qos = parsed
                    } else {
                        problem = invalid("ready: a subscription's 'qos' must be 0, 1 or 2")
                    }
                default: break
                }
            }
            guard let filter else {
                if problem == nil { problem = invalid("ready: a subscription's 'filter' must be a non-empty string") }
                return
            }
            result.append(SubscriptionRequest(filter: filter, qos: qos))
        }
        if let problem { throw problem }
        return result
    }

    /// `health`: status and an optional message.
    func health() throws(DecodeFailure) -> HealthReport {
        guard let span = present(members.status), let text = reader.string(span),
            let status = HealthReport.Status(rawValue: text)
        else { throw invalid("health: 'status' must be \"healthy\", \"degraded\" or \"failed\"") }
        let message = try optionalString(members.message, "health", "message")
        return HealthReport(status: status, message: message?.isEmpty == false ? message : nil)
    }

    /// `log`: level (unknown levels are info), message, fields.
    func log() throws(DecodeFailure) -> LogRecord {
        var level = LogRecord.Level.info
        if let span = present(members.level) {
            guard let text = reader.string(span) else { throw invalid("log: 'level' must be a string") }
            level = LogRecord.Level(rawValue: text) ?? .info
        }
        guard let span = present(members.message), let message = reader.string(span) else {
            throw invalid("log: 'message' must be a string")
        }
        var fields: [(key: String, value: String)] = []
        if let span = present(members.fields) {
            guard reader.kind(of: span) == .object else { throw invalid("log: 'fields' must be an object") }
            reader.forEachMember(span) { key, value in
                // Values that are not strings are kept as their JSON text rather than refused.
                fields.append((key, reader.string(value) ?? reader.value(value).jsonText))
            }
        }
        return LogRecord(level: level, message: message, fields: fields)
    }
}
