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

/// A request that may go on to the broker's router: the topic its path names and the principal
/// it acts as, whose confinement and ACL the router checks.
public struct RoutedRequest: Sendable, Equatable {
    /// The topic to publish to or read.
    public var topic: String
    /// The peer, confined to its grant.
    public var principal: Principal

    /// Creates a routed request.
    public init(topic: String, principal: Principal) {
        self.topic = topic
        self.principal = principal
    }
}

/// Turns request paths into topics and requests into the principals they act as; no I/O.
///
/// Whether a peer may publish to or read a topic is decided by the broker's router alone, from
/// the principal's confinement (the peer's grant) and the ACL file.
public struct RequestRouter: Sendable {
    /// The settings it decides by.
    public let settings: CoAPSettings
    /// Who may use the server, and each identity's grant.
    public let access: AccessPolicy
    /// The name of the CoAP adapter: part of plain peers' principals.
    public let adapter: String

    private let prefixBytes: [[UInt8]]
    private let outsidePrefix: Rejection

    /// Creates a router for validated settings of the adapter named `adapter`.
    public init(settings: CoAPSettings, adapter: String) {
        self.settings = settings
        self.access = AccessPolicy(settings: settings)
        self.adapter = adapter
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

    /// Decides a POST or PUT: the topic to publish to and the peer's principal, or the rejection.
    public func ingest(path segments: [[UInt8]], identity: PeerIdentity, payloadSize: Int)
        -> Result<RoutedRequest, Rejection>
    {
        let principal: Principal
        switch self.principal(of: identity) {
        case .success(let found): principal = found
        case .failure(let rejection): return .failure(rejection)
        }
        let topic: String
        switch self.topic(forPath: segments, identity: identity) {
        case .success(let found): topic = found
        case .failure(let rejection): return .failure(rejection)
        }
        guard payloadSize <= settings.maxPayload else {
            return .failure(Rejection(.requestEntityTooLarge, "payload larger than \(settings.maxPayload) bytes"))
        }
        return .success(RoutedRequest(topic: topic, principal: principal))
    }

    /// Decides a GET: the topic to read and the peer's principal, or the rejection. The path maps
    /// to the topic without a template.
    public func read(path segments: [[UInt8]], identity: PeerIdentity) -> Result<RoutedRequest, Rejection> {
        let principal: Principal
        switch self.principal(of: identity) {
        case .success(let found): principal = found
        case .failure(let rejection): return .failure(rejection)
        }
        switch self.topic(forPath: segments, identity: identity, template: TopicTemplate(parsing: "{path}")) {
        case .success(let topic): return .success(RoutedRequest(topic: topic, principal: principal))
        case .failure(let rejection): return .failure(rejection)
        }
    }

    /// The principal a request of `identity` acts as, or why the peer may not use the server.
    public func principal(of identity: PeerIdentity) -> Result<Principal, Rejection> {
        switch access.admits(identity) {
        case .success(let grant):
            guard let principal = identity.principal(adapter: adapter, grant: grant) else {
                return .failure(Rejection(.unauthorized, "no verified identity"))
            }
            return .success(principal)
        case .failure(let rejection):
            return .failure(rejection)
        }
    }

    /// The QoS a request publishes at: the configured one when confirmable, 0 otherwise.
    public func qos(confirmable: Bool) -> QoS {
        confirmable ? settings.ingest.qos : .atMostOnce
    }
}
