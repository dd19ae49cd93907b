/// One cloud broker the uplink may connect to (`uplink.endpoints[]`, or `host`/`port`).
public struct UplinkEndpointConfig: Sendable, Equatable {
    /// Host name or IP address (an IPv6 address without brackets).
    public var host: String
    /// The port; 0 means 8883 with TLS and 1883 without.
    public var port: Int
    /// Limits of this endpoint (the `uplink.limits` keys in its mapping), overriding `uplink.limits`.
    public var limits = UplinkLimitsConfig()

    /// Creates an endpoint.
    public init(host: String, port: Int = 0) {
        self.host = host
        self.port = port
    }

    /// Reads `host`, `host:port`, `[v6]` or `[v6]:port`; the reason it cannot otherwise.
    public static func parse(_ text: String) -> Result<UplinkEndpointConfig, EndpointSyntaxError> {
        let written = text.trimmingWhitespace()
        func failure(_ reason: String) -> Result<UplinkEndpointConfig, EndpointSyntaxError> {
            .failure(EndpointSyntaxError(reason: reason))
        }
        if written.isEmpty { return failure("it is empty") }
        if written.contains("://") { return failure("write host:port without a scheme such as mqtts://") }
        if written.contains(where: { $0 == " " || $0 == "/" || $0 == "\t" }) {
            return failure("a host name has no spaces or slashes")
        }
        let host: Substring
        let portText: Substring?
        if written.hasPrefix("[") {
            guard let close = written.firstIndex(of: "]") else {
                return failure("the '[' of an IPv6 address is not closed")
            }
            host = written[written.index(after: written.startIndex)..<close]
            let rest = written[written.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else if rest.hasPrefix(":") {
                portText = rest.dropFirst()
            } else {
                return failure("expected ':port' after ']'")
            }
        } else {
            let colons = written.count(where: { $0 == ":" })
            if colons > 1 { return failure("write an IPv6 address in brackets, as in [::1]:8883") }
            if let colon = written.firstIndex(of: ":") {
                host = written[..<colon]
                portText = written[written.index(after: colon)...]
            } else {
                host = written[...]
                portText = nil
            }
        }
        if host.isEmpty { return failure("the host is missing") }
        guard let portText else { return .success(UplinkEndpointConfig(host: String(host))) }
        guard let port = Int(portText), (1...65_535).contains(port) else {
            return failure("the port must be a number from 1 to 65535")
        }
        return .success(UplinkEndpointConfig(host: String(host), port: port))
    }

    /// `host:port` as written in the configuration (`[::1]:8883` for IPv6), with `port` filled in.
    public func written(port effective: Int) -> String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port != 0 ? port : effective)"
    }
}

/// Why a `host:port` text is not one.
public struct EndpointSyntaxError: Error, Sendable, Equatable {
    /// The reason, as a clause ("the port must be a number from 1 to 65535").
    public var reason: String
}

extension UplinkConfig {
    /// How long the uplink stays on a fallback endpoint before it returns to the first one. Ten
    /// minutes: going back costs a reconnect (the session moves, unacknowledged records are resent),
    /// so a preferred broker that is restarting or flapping should have settled first, while a
    /// gateway should not spend hours on a node the operator meant only as a spare.
    public static let defaultFailback: Duration? = .seconds(600)

    /// The brokers in order of preference, each with its port resolved: `endpoints`, or `host` and
    /// `port` as a list of one (empty when neither is set).
    public var effectiveEndpoints: [UplinkEndpointConfig] {
        let listed = endpoints.isEmpty && !host.isEmpty ? [UplinkEndpointConfig(host: host, port: port)] : endpoints
        let fallback = tls.enabled ? 8883 : 1883
        return listed.map { endpoint in
            var resolved = endpoint
            if resolved.port == 0 { resolved.port = fallback }
            return resolved
        }
    }

    /// The limits in force for the endpoint at `index` of `effectiveEndpoints`: its own keys, else
    /// `limits`, each with the key that sets it.
    public func effectiveLimits(ofEndpointAt index: Int) -> EffectiveUplinkLimits {
        let own = endpoints.indices.contains(index) ? endpoints[index].limits : UplinkLimitsConfig()
        return own.effective(path: "uplink.endpoints[\(index)]", over: limits)
    }

    /// Reads `failback`: a duration, or `never` (or 0) for none.
    static func readFailback(from reader: ConfigReader, default defaultValue: Duration?) -> Duration? {
        guard let node = reader.value("failback") else { return defaultValue }
        if case .string(let text) = node.content, text.lowercased() == "never" { return nil }
        guard let duration = reader.duration(node, in: .seconds(1)..., zeroMeans: "never") else { return defaultValue }
        return duration == .zero ? nil : duration
    }
}

extension UplinkEndpointConfig {
    /// Reads `endpoints` (texts `host:port` or mappings `{host, port}`, which may hold limits of their
    /// own) and reports a list given together with `host`/`port` (other than their empty defaults), an
    /// empty list where a broker is `needed`, and an endpoint listed twice (whatever its limits).
    static func readList(from reader: ConfigReader, needed: Bool) -> [UplinkEndpointConfig] {
        guard let listNode = reader.value("endpoints") else { return [] }
        guard let elements = reader.list("endpoints") else { return [] }
        let host = reader.value("host").flatMap { $0.text?.isEmpty == false ? $0 : nil }
        let port = reader.value("port").flatMap { $0.text == "0" ? nil : $0 }
        if elements.isEmpty && host == nil && port == nil && !needed { return [] }
        if let single = host ?? port {
            reader.report(
                "'\(reader.path).endpoints' and '\(single.path)' are both given: list every broker under "
                    + "'endpoints' and remove 'host' and 'port', or keep 'host'/'port' alone for a single broker",
                at: listNode)
        }
        if elements.isEmpty {
            reader.report("expected at least one broker as host:port, got an empty list", at: listNode)
        }
        var found: [(endpoint: UplinkEndpointConfig, node: ConfigNode)] = []
        for element in elements {
            guard let parsed = endpoint(element, from: reader) else { continue }
            if let earlier = found.first(where: { $0.endpoint.host == parsed.host && $0.endpoint.port == parsed.port })
            {
                reader.report(
                    "this endpoint is already listed at \(where: earlier.node); list each broker once", at: element)
                continue
            }
            found.append((parsed, element))
        }
        return found.map(\.endpoint)
    }

    /// One element: `host:port` text or a `{host, port}` mapping; nil after reporting a problem.
    private static func endpoint(_ element: ConfigNode, from reader: ConfigReader) -> UplinkEndpointConfig? {
        switch element.content {
        case .string:
            switch parse(element.text ?? "") {
            case .success(let endpoint): return endpoint
            case .failure(let error):
                reader.report(
                    "expected host:port (or [IPv6]:port), got \(element.quoted): \(error.reason)", at: element)
                return nil
            }
        case .object:
            let item = ConfigReader(element, log: reader.log)
            defer { item.finish() }
            guard let host = item.requiredString("host", "the broker's host name or address") else { return nil }
            if host.isEmpty || host.contains(where: { $0 == " " || $0 == "/" }) {
                if let node = item.value("host") {
                    item.report("expected a host name or address, got \(node.quoted)", at: node)
                }
                return nil
            }
            let unbracketed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            var endpoint = UplinkEndpointConfig(host: unbracketed, port: item.int("port", default: 0, in: 0...65_535))
            endpoint.limits = UplinkLimitsConfig(readingKeysOf: item)
            return endpoint
        default:
            reader.report("expected host:port or a mapping with host and port, got \(element.quoted)", at: element)
            return nil
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
