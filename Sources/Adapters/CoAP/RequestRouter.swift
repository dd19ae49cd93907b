import WharfCore

/// Who sent a request, as far as access rules care.
public enum PeerIdentity: Sendable, Hashable {
    /// A request without DTLS.
    case plain
    /// A DTLS session authenticated by this PSK identity.
    case psk(String)
    /// A DTLS session authenticated by a CA-verified client certificate with this subject CN.
    case certificate(String)
    /// A DTLS session with neither: nothing it sends is accepted.
    case unverified

    /// The `{identity}` of topic templates: the PSK identity or certificate subject, empty otherwise.
    public var templateValue: String {
        switch self {
        case .psk(let identity), .certificate(let identity): identity
        case .plain, .unverified: ""
        }
    }
}

/// A refused request: the code to answer and a short diagnostic payload.
public struct Rejection: Error, Sendable, Hashable {
    /// The response code.
    public var code: CoAPCode
    /// Diagnostic text for the payload and the log.
    public var reason: String

    /// Creates a rejection.
    public init(_ code: CoAPCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// The request methods the server distinguishes.
public enum RequestMethod: String, Sendable, Hashable {
    /// GET, possibly with Observe.
    case get = "GET"
    /// POST.
    case post = "POST"
    /// PUT.
    case put = "PUT"
    /// DELETE, FETCH, PATCH, iPATCH.
    case other = "OTHER"
}

/// Turns request paths into topics and decides what a request may do; no I/O.
public struct RequestRouter: Sendable {
    /// The settings it decides by.
    public let settings: CoAPSettings
    /// Who may do what.
    public let access: AccessPolicy

    private let prefixBytes: [[UInt8]]
    private let outsidePrefix: Rejection

    /// Creates a router for validated settings.
    public init(settings: CoAPSettings) {
        self.settings = settings
        self.access = AccessPolicy(settings: settings)
        prefixBytes = settings.ingest.pathPrefix.map { Array($0.utf8) }
        outsidePrefix = Rejection(.notFound, "path outside /\(settings.ingest.pathPrefix.joined(separator: "/"))")
    }

    /// The topic a request path names, or why it does not name one.
    ///
    /// `segments` are the raw Uri-Path options; the first ones must be the configured prefix.
    public func topic(forPath segments: [[UInt8]], identity: PeerIdentity, template: TopicTemplate? = nil)
        -> Result<String, Rejection>
    {
        // Runs for every request: plain loops over bytes, no intermediate strings.
        let prefix = prefixBytes
        guard segments.count >= prefix.count else { return .failure(outsidePrefix) }
        for index in prefix.indices where segments[index] != prefix[index] { return .failure(outsidePrefix) }
        guard segments.count > prefix.count else { return .failure(Rejection(.badRequest, "empty topic")) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for index in prefix.count..<segments.count {
            if index > prefix.count { bytes.append(UInt8(ascii: "/")) }
            bytes.append(contentsOf: segments[index])
        }
        guard let path = String(validating: bytes, as: UTF8.self) else {
            return .failure(Rejection(.badRequest, "path is not UTF-8"))
        }
        let template = template ?? settings.ingest.topic
        let topic = template.parts == [.path] ? path : template.render(path: path, identity: identity.templateValue)
        switch Topic.validateName(topic) {
        case nil: return .success(topic)
        case .wildcardInName: return .failure(Rejection(.badRequest, "'+' and '#' are not allowed in topics"))
        case .empty: return .failure(Rejection(.badRequest, "empty topic"))
        case .tooLong: return .failure(Rejection(.badRequest, "topic too long"))
        case .containsNull: return .failure(Rejection(.badRequest, "NUL in topic"))
        case .misplacedWildcard, .invalidSharedSubscription:
            return .failure(Rejection(.badRequest, "invalid topic"))
        }
    }

    /// Decides a POST or PUT: the topic to publish to, or the rejection.
    public func ingest(path segments: [[UInt8]], identity: PeerIdentity, payloadSize: Int) -> Result<String, Rejection>
    {
        if case .failure(let rejection) = access.admits(identity) { return .failure(rejection) }
        let topic: String
        switch self.topic(forPath: segments, identity: identity) {
        case .success(let found): topic = found
        case .failure(let rejection): return .failure(rejection)
        }
        guard payloadSize <= settings.maxPayload else {
            return .failure(Rejection(.requestEntityTooLarge, "payload larger than \(settings.maxPayload) bytes"))
        }
        if case .failure(let rejection) = access.check(.publish, topic: topic, identity: identity) {
            return .failure(rejection)
        }
        return .success(topic)
    }

    /// Decides a GET: the topic to read, or the rejection. The path maps to the topic without a template.
    public func read(path segments: [[UInt8]], identity: PeerIdentity) -> Result<String, Rejection> {
        if case .failure(let rejection) = access.admits(identity) { return .failure(rejection) }
        let topic: String
        switch self.topic(forPath: segments, identity: identity, template: TopicTemplate(parsing: "{path}")) {
        case .success(let found): topic = found
        case .failure(let rejection): return .failure(rejection)
        }
        if case .failure(let rejection) = access.check(.read, topic: topic, identity: identity) {
            return .failure(rejection)
        }
        return .success(topic)
    }

    /// The QoS a request publishes at: the configured one when confirmable, 0 otherwise.
    public func qos(confirmable: Bool) -> QoS {
        confirmable ? settings.ingest.qos : .atMostOnce
    }
}
