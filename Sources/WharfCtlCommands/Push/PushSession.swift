import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL
import WharfCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How one connection of `config push` ended.
enum PushSessionEnd: Equatable, Sendable {
    /// Every gateway has an outcome and every document was acknowledged.
    case complete
    /// The deadline passed.
    case deadline
    /// The connection broke (or could not be made); another may do better.
    case lost(String)
}

/// A failure another connection would meet again: login refused, a broker that does not speak MQTT.
struct PushRefused: Error, CustomStringConvertible {
    var description: String
}

/// What carries over from one connection to the next.
struct PushState {
    var progress: PushProgress
    /// Gateways whose document the broker answered (acknowledged or refused): not published again.
    var answered: Set<String> = []
    /// Whether "published" was said.
    var announced = false
    /// Whether a connection was ever accepted: until then, a failure ends the push.
    var connected = false
}

/// One connection to the cloud broker: CONNECT, SUBSCRIBE to the gateways' reported topics, PUBLISH
/// (QoS 1, retained) the documents not yet acknowledged, then read reports until every gateway has an
/// outcome or the deadline passes. PINGREQ every half keep alive.
enum PushSession {
    typealias Inbound = NIOAsyncChannelInboundStream<MQTTPacket>.AsyncIterator
    typealias Outbound = NIOAsyncChannelOutboundWriter<MQTTPacket>

    /// Topic filters per SUBSCRIBE, and documents awaiting PUBACK at most.
    static let filtersPerSubscribe = 64
    static let maximumInFlight = 32
    /// The largest packet read: reports are small, and a broker has no reason to send more.
    static let maximumPacketSize = 4 << 20

    /// Runs one connection. Throws ``PushRefused`` when the broker refuses the login.
    static func run(
        broker: PushBroker, tls: NIOSSLContext?, targets: [PushTarget], state: inout PushState,
        deadline: ContinuousClock.Instant, emit: (String) -> Void
    ) async throws(PushRefused) -> PushSessionEnd {
        let channel: NIOAsyncChannel<MQTTPacket, MQTTPacket>
        do {
            channel = try await open(broker, tls: tls)
        } catch {
            return .lost("cannot connect to \(broker.display): \(describe(error))")
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                let window = try await handshake(broker, channel: channel.channel, outbound, &iterator)
                state.connected = true
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    let raw = channel.channel
                    group.addTask {
                        // Time is up: closing ends the inbound stream the session reads.
                        try await Task.sleep(until: deadline, clock: .continuous)
                        raw.close(promise: nil)
                    }
                    let interval = Duration.seconds(max(1, Int(broker.keepAlive) / 2))
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            try await outbound.write(.pingReq)
                        }
                    }
                    let end = try await serve(
                        &iterator, outbound, targets: targets, window: window, state: &state, deadline: deadline,
                        emit: emit)
                    group.cancelAll()
                    return end
                }
            }
        } catch let refused as PushRefused {
            throw refused
        } catch {
            if ContinuousClock.now >= deadline { return .deadline }
            return .lost("connection to \(broker.display) lost: \(describe(error))")
        }
    }

    /// The system's words for a failed connect ("Connection refused"), else NIO's.
    static func describe(_ error: any Error) -> String {
        var cause: any Error = error
        if let failure = error as? NIOConnectionError, let last = failure.connectionErrors.last {
            cause = last.error
        }
        if let io = cause as? IOError { return String(cString: strerror(io.errnoCode)) }
        if cause is NIOSSLError || cause is BoringSSLError { return "TLS handshake failed: \(cause)" }
        return "\(cause)"
    }

    /// TCP (and TLS) with the MQTT codec in the pipeline.
    private static func open(_ broker: PushBroker, tls: NIOSSLContext?) async throws -> NIOAsyncChannel<
        MQTTPacket, MQTTPacket
    > {
        let serverName = PushTLS.serverName(host: broker.host)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(broker.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: broker.host, port: broker.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try pipeline.addHandler(
                        ByteToMessageHandler(MQTTPacketDecoder(version: nil, maxPacketSize: maximumPacketSize)))
                    try pipeline.addHandler(MessageToByteHandler(MQTTPacketEncoder(version: broker.version)))
                    return try NIOAsyncChannel<MQTTPacket, MQTTPacket>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// CONNECT and its CONNACK; the number of documents that may await PUBACK.
    private static func handshake(
        _ broker: PushBroker, channel: any Channel, _ outbound: Outbound, _ inbound: inout Inbound
    ) async throws -> Int {
        let connect = ConnectPacket(
            protocolVersion: broker.version, clientIdentifier: broker.clientIdentifier, cleanStart: true,
            keepAlive: broker.keepAlive, username: broker.username, password: broker.password)
        try await outbound.write(.connect(connect))
        let timer = channel.eventLoop.scheduleTask(in: broker.connectTimeout) { channel.close(promise: nil) }
        defer { timer.cancel() }
        switch try await inbound.next() {
        case .connAck(let ack) where ack.reasonCode == 0:
            let receiveMaximum = Int(ack.properties.receiveMaximum ?? UInt16(maximumInFlight))
            return max(1, min(maximumInFlight, receiveMaximum))
        case .connAck(let ack):
            let reason = ack.properties.reasonString.map { " (\($0))" } ?? ""
            throw PushRefused(
                description: "\(broker.display) refused the connection: code 0x\(String(ack.reasonCode, radix: 16))"
                    + reason + Self.hint(ack.reasonCode))
        case nil:
            throw PushRefused(
                description:
                    "\(broker.display) closed the connection or sent no CONNACK within \(broker.connectTimeout.nanoseconds / 1_000_000_000) s"
            )
        case .some(let packet):
            throw PushRefused(description: "\(broker.display) sent \(packet.packetType) instead of CONNACK")
        }
    }

    /// What a CONNACK refusal code usually means (3.1.1 codes 1, 4 and 5, MQTT 5 0x84, 0x86, 0x87).
    private static func hint(_ code: UInt8) -> String {
        switch code {
        // Brokers answer a wrong password with either code (Mosquitto 2.0: 0x87).
        case 4, 5, 0x86, 0x87: "; check --username, --password-file and the broker's access rules"
        case 1, 0x84: "; try --mqtt-version 3.1.1"
        default: ""
        }
    }

    /// Subscribes, publishes and reads until every gateway has an outcome or the stream ends.
    private static func serve(
        _ inbound: inout Inbound, _ outbound: Outbound, targets: [PushTarget], window: Int, state: inout PushState,
        deadline: ContinuousClock.Instant, emit: (String) -> Void
    ) async throws -> PushSessionEnd {
        var nextID: UInt16 = 0
        func packetID() -> UInt16 {
            nextID = nextID == UInt16.max ? 1 : nextID + 1
            return nextID
        }
        let byReportTopic = Dictionary(targets.map { ($0.reportedTopic, $0.gateway) }, uniquingKeysWith: { a, _ in a })
        // Subscribe before publishing, so that no report is missed.
        var subscriptions: [UInt16: [String]] = [:]
        let watched = targets.filter { state.progress.hasOutcome($0.gateway) == false }
        for start in stride(from: 0, to: watched.count, by: filtersPerSubscribe) {
            let chunk = watched[start..<min(start + filtersPerSubscribe, watched.count)]
            let id = packetID()
            subscriptions[id] = chunk.map(\.gateway)
            let filters = chunk.map {
                TopicSubscription(topicFilter: $0.reportedTopic, options: SubscriptionOptions(qos: .atLeastOnce))
            }
            try await outbound.write(.subscribe(SubscribePacket(packetIdentifier: id, subscriptions: filters)))
        }
        var waiting = targets.filter { !state.answered.contains($0.gateway) }[...]
        var inFlight: [UInt16: String] = [:]
        while true {
            while inFlight.count < window, let target = waiting.popFirst() {
                let id = packetID()
                inFlight[id] = target.gateway
                let publish = PublishPacket(
                    topic: target.desiredTopic, payload: ByteBuffer(bytes: target.document), qos: .atLeastOnce,
                    retain: true, packetIdentifier: id)
                try await outbound.write(.publish(publish))
            }
            if waiting.isEmpty && inFlight.isEmpty && !state.announced {
                state.announced = true
                emit("published \(targets.count) document\(targets.count == 1 ? "" : "s"); waiting for reports")
            }
            if state.progress.isComplete && waiting.isEmpty && inFlight.isEmpty {
                try? await outbound.write(.disconnect(DisconnectPacket()))
                return .complete
            }
            guard let packet = try await inbound.next() else { break }
            switch packet {
            case .subAck(let ack):
                for (gateway, code) in zip(
                    subscriptions.removeValue(forKey: ack.packetIdentifier) ?? [], ack.reasonCodes)
                where code >= 0x80 {
                    let reason = "cannot subscribe to its reports: code 0x\(String(code, radix: 16))"
                    state.progress.fail(gateway: gateway, reason: reason).forEach(emit)
                }
            case .pubAck(let ack):
                guard let gateway = inFlight.removeValue(forKey: ack.packetIdentifier) else { continue }
                state.answered.insert(gateway)
                if ack.reasonCode.rawValue >= 0x80 {
                    let reason = "the broker refused the document: \(ack.reasonCode)"
                    state.progress.fail(gateway: gateway, reason: reason).forEach(emit)
                } else {
                    state.progress.markPublished(gateway: gateway)
                }
            case .publish(let publish):
                if publish.qos == .atLeastOnce, let id = publish.packetIdentifier {
                    try await outbound.write(.pubAck(PubAckPacket(packetIdentifier: id)))
                }
                guard let gateway = byReportTopic[publish.topic] else { continue }
                state.progress.receive(gateway: gateway, payload: Array(publish.payload.readableBytesView)).forEach(
                    emit)
            case .disconnect(let disconnect):
                return .lost("\(disconnect.reasonCode) from the broker")
            default:
                continue
            }
        }
        return ContinuousClock.now >= deadline ? .deadline : .lost("the broker closed the connection")
    }
}
