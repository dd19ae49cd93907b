import Logging
import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import WharfCore

extension UplinkService {
    typealias Inbound = NIOAsyncChannelInboundStream<MQTTPacket>.AsyncIterator

    /// One connection to `endpoint`, from TCP connect to close. Each of the host's addresses is tried in
    /// turn until one opens; TLS still names and verifies the host.
    func connect(
        to endpoint: UplinkEndpoint, schedule: inout ReconnectSchedule, selector: inout EndpointSelector
    ) async -> ConnectionOutcome {
        var recorder = FirstErrorRecorder()
        do {
            let addresses = try await resolver.resolve(endpoint.host, endpoint.port)
            let channel = try await openFirst(addresses) { address in
                // A recorder per address: what went wrong with an earlier address is not this one's cause.
                recorder = FirstErrorRecorder()
                return try await openChannel(to: endpoint, address: address, recorder: recorder)
            }
            return try await channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                let connect = connectPacket()
                let connAck = try await handshake(connect, channel: channel.channel, outbound, &iterator)
                let parameters = LinkParameters(connect: connect, connAck: connAck)
                    .limited(by: endpoint.limits, endpoint: endpoint.description)
                let now = clock.now()
                schedule.connected(at: now)
                selector.connected(at: now)
                let failovers = selector.failovers
                shared.withLock { $0.status.failovers = failovers }
                let link = UplinkLink(channel: channel.channel, outbound: outbound, parameters: parameters)
                return await serve(link, &iterator, failbackAt: selector.failbackDeadline)
            }
        } catch {
            // Prefer what the pipeline saw first (a TLS handshake error) over its consequence.
            let cause = error is ChannelError ? recorder.error ?? error : error
            return .failed(UplinkError.describing(cause, host: endpoint.host, port: endpoint.port))
        }
    }

    /// Opens TCP (and TLS) to one address of `endpoint` with the MQTT decoder in the pipeline.
    private func openChannel(
        to endpoint: UplinkEndpoint, address: SocketAddress, recorder: FirstErrorRecorder
    ) async throws -> NIOAsyncChannel<MQTTPacket, ByteBuffer> {
        let sslContext = try configuration.tls?.makeContext(host: endpoint.host, port: endpoint.port)
        let sniName = configuration.tls?.sniName(host: endpoint.host)
        let counter = bytesReceived
        return try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sniName))
                    }
                    try pipeline.addHandler(recorder)
                    try pipeline.addHandler(ByteCountingHandler(counter: counter))
                    // The version is learned from the CONNACK, so a 3.1.1-only server's refusal still decodes.
                    try pipeline.addHandler(ByteToMessageHandler(MQTTPacketDecoder(version: nil)))
                    try pipeline.addHandler(UplinkPublishHandler(service: self))
                    return try NIOAsyncChannel<MQTTPacket, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 256, highWatermark: 4096))
                    )
                }
            }
    }

    /// The TCP connect timeout for one address.
    private var connectTimeout: TimeAmount {
        .nanoseconds(Int64(clamping: configuration.connectTimeout.milliseconds * 1_000_000))
    }

    /// Whether `endpoint` accepts a TCP connection now (closed again at once): failback only leaves a
    /// working connection for an endpoint that answers.
    func answers(_ endpoint: UplinkEndpoint) async -> Bool {
        do {
            let addresses = try await resolver.resolve(endpoint.host, endpoint.port)
            let channel = try await openFirst(addresses) { address in
                try await ClientBootstrap(group: eventLoopGroup).connectTimeout(connectTimeout).connect(to: address)
                    .get()
            }
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// The CONNECT for the next connection: identity, session, keep alive and the "offline" will.
    func connectPacket() -> ConnectPacket {
        let assigned = shared.withLock { $0.assignedClientIdentifier }
        var properties = MQTTProperties()
        if configuration.version == .v5 && configuration.sessionExpiry > 0 {
            properties.sessionExpiryInterval = configuration.sessionExpiry
        }
        let endpoint = self.endpoint
        // QoS 0 where the endpoint's max_qos says so, or where the cloud refused a QoS 1 will before.
        let refused = shared.withLock { $0.willAtMostOnce.contains(endpoint) }
        let willQoS: QoS = refused || currentEndpoint.limits.maxQoS?.value == .atMostOnce ? .atMostOnce : .atLeastOnce
        let will = Will(
            topic: configuration.statusTopic,
            payload: ByteBuffer(string: "offline"),
            qos: willQoS,
            retain: true
        )
        return ConnectPacket(
            protocolVersion: configuration.version,
            clientIdentifier: assigned ?? configuration.clientIdentifier,
            cleanStart: configuration.cleanStart,
            keepAlive: configuration.keepAlive,
            username: configuration.username,
            password: configuration.password.map { Array($0.utf8) },
            will: will,
            properties: properties
        )
    }

    /// Sends CONNECT and waits for an accepting CONNACK (closing the channel if none comes in time).
    private func handshake(
        _ connect: ConnectPacket,
        channel: any Channel,
        _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        _ inbound: inout Inbound
    ) async throws -> ConnAckPacket {
        var buffer = channel.allocator.buffer(capacity: 128)
        try MQTTPacket.connect(connect).encode(into: &buffer, version: connect.protocolVersion)
        try await outbound.write(buffer)
        let endpoint = self.endpoint
        let timeoutMilliseconds = configuration.connectTimeout.milliseconds
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(timeoutMilliseconds)) {
            channel.close(promise: nil)
        }
        let started = clock.now()
        let first = try await inbound.next()
        timer.cancel()
        switch first {
        case .connAck(let connAck) where connAck.reasonCode == 0:
            return connAck
        case .connAck(let connAck)
        where connAck.reasonCode == ReasonCode.qosNotSupported.rawValue && connect.will?.qos == .atLeastOnce:
            // A cloud whose Maximum QoS is 0 refuses a QoS 1 will: the next attempt sends it at QoS 0.
            shared.withLock { _ = $0.willAtMostOnce.insert(endpoint) }
            throw UplinkError(
                .refused,
                "\(endpoint) refused the connection: \(refusal(connAck, version: connect)); it takes no QoS 1 will, "
                    + "so the will (retained \"offline\" on the status topic) goes at QoS 0 from the next attempt")
        case .connAck(let connAck):
            throw UplinkError(.refused, "\(endpoint) refused the connection: \(refusal(connAck, version: connect))")
        case .disconnect(let disconnect):
            throw UplinkError(.refused, "\(endpoint) refused the connection: \(describe(disconnect))")
        case nil:
            if clock.now() - started >= UInt64(max(0, timeoutMilliseconds)) * 1_000_000 {
                throw UplinkError(.timeout, "\(endpoint) sent no CONNACK within \(timeoutMilliseconds) ms")
            }
            throw UplinkError(.connectionClosed, "\(endpoint) closed the connection before CONNACK")
        case .some(let packet):
            throw UplinkError(.protocolViolation, "\(endpoint) sent \(packet.packetType) instead of CONNACK")
        }
    }

    private func refusal(_ connAck: ConnAckPacket, version connect: ConnectPacket) -> String {
        let reasonString = connAck.properties.reasonString.map { " (\($0))" } ?? ""
        let code = Int(connAck.reasonCode)
        // 1...5 are MQTT 3.1.1 return codes: an MQTT 5 server never refuses with them.
        if (1...5).contains(code) {
            let names = [
                "", "unacceptable protocol version", "identifier rejected", "server unavailable",
                "bad user name or password", "not authorized",
            ]
            let hint = code == 1 && connect.protocolVersion == .v5 ? "; the server may only speak MQTT 3.1.1" : ""
            return "return code \(code), \(names[code])\(hint)"
        }
        let name = ReasonCode(rawValue: connAck.reasonCode).map { "\($0)" } ?? "unknown"
        return "reason code 0x\(String(code, radix: 16)) \(name)\(reasonString)"
    }

    /// "reason code 0x8b serverShuttingDown (maintenance)".
    func describe(_ disconnect: DisconnectPacket) -> String {
        let reasonString = disconnect.properties.reasonString.map { " (\($0))" } ?? ""
        let reference = disconnect.properties.serverReference.map { ", use server \($0)" } ?? ""
        let code = String(disconnect.reasonCode.rawValue, radix: 16)
        return "DISCONNECT reason code 0x\(code) \(disconnect.reasonCode)\(reasonString)\(reference)"
    }
}

/// Counts the bytes read from the socket (after TLS) before they are decoded.
final class ByteCountingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let counter: ByteCounter

    init(counter: ByteCounter) {
        self.counter = counter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.add(unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }
}
