#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The parts of wharfd's `/api/v1/status` document that `wharfctl status` shows. Fields the
/// daemon adds later are ignored; fields it drops decode as absent.
struct StatusDocument: Decodable {
    struct Health: Decodable { var problems: [String] }
    struct Listener: Decodable {
        var name: String
        var address: String
    }
    struct Broker: Decodable {
        var clientsConnected: Int
        var clientsMaximum: Int?
        var sessions: Int?
        var messagesReceived: Int?
        var messagesSent: Int?
        var subscriptions: Int?
        var retained: Int?
    }
    struct Adapter: Decodable {
        var name: String
        var type: String
        var health: String
        var detail: String?
        var plugin: Plugin?
    }
    struct Plugin: Decodable {
        var state: String
        var pid: Int?
        var restarts: Int
        var name: String?
        var version: String?
        var publishes: Int
        var nacks: Int
        var commands: Int
        var commandsDropped: Int
        var creditStalls: Int
        var garbageLines: Int
        var refusedSubscriptions: [String]?
    }
    struct Queue: Decodable {
        var depth: Int
        var bytes: Int
        var oldestAgeSeconds: Double
        var drainRatePerSecond: Double?
        var dropped: [String: Int]?
    }
    struct Uplink: Decodable {
        var state: String
        var remote: String?
        var endpoint: String?
        var failovers: Int?
        var reconnects: Int
        var lastError: String?
        var inFlight: Int?
    }
    struct Reload: Decodable {
        var outcome: String
        var atUptimeSeconds: Double
        var messages: [String]
    }

    var version: String
    var gatewayID: String
    var uptimeSeconds: Double
    var health: Health
    var listeners: [Listener]
    var broker: Broker
    var adapters: [Adapter]
    var queue: Queue?
    var uplink: Uplink?
    var lastReload: Reload?
    /// Remote configuration's state; decoded apart (see ``RemoteConfigReportView``), nil when absent.
    var remoteConfig: RemoteConfigReportView? = nil

    enum CodingKeys: String, CodingKey {
        case version, gatewayID = "gatewayId", uptimeSeconds, health, listeners, broker, adapters, queue, uplink
        case lastReload
    }

    static func decode(_ text: String) throws -> StatusDocument {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var document = try decoder.decode(StatusDocument.self, from: Data(text.utf8))
        document.remoteConfig = try RemoteConfigReportView.fromStatus(text)
        return document
    }
}
