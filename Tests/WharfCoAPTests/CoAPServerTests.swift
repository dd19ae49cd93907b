import AdapterKit
import Logging
import NIOCore
import Synchronization
import Testing
import WharfConfig
import WharfCore

@testable import WharfCoAP

#if canImport(Glibc)
    import Glibc
#endif

/// A bus whose publishes to `slow/...` wait until `release()`, and to `fail` are refused. As
/// the broker's router would, it refuses `deny/...` to every principal (publish, subscribe and
/// retained reads) and subscriptions to `unobservable/...`; it records every subscription.
final class GatedBus: MessageBus {
    private typealias Completion = @Sendable (Result<PublishReceipt, PublishError>) -> Void
    /// One subscription made through the bus.
    struct Subscription {
        var filter: String
        var principal: Principal
        var cancelled: Bool
    }
    private struct State {
        var published: [Message] = []
        var waiting: [(Message, Completion)] = []
        var open = false
        var subscriptions: [Subscription] = []
    }
    private let state = Mutex(State())

    var published: [Message] { state.withLock { $0.published } }
    var subscriptions: [Subscription] { state.withLock { $0.subscriptions } }

    /// Accepts the held `slow…` messages and every later one.
    func release() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting.removeAll() }
            state.published += state.waiting.map(\.0)
            return state.waiting
        }
        for (_, completion) in waiting { completion(.success(PublishReceipt(matchedSubscribers: 0))) }
    }

    /// Like the broker: decides at once, except that `slow…` topics wait for `release()` as a
    /// message taken by a forward rule waits for the disk. `fail` is refused.
    func publish(
        _ message: Message,
        completion: @escaping @Sendable (Result<PublishReceipt, PublishError>) -> Void
    ) -> PublishProgress {
        if message.topic == "fail" {
            return .finished(.failure(PublishError(reason: "quota-exceeded", message: "full")))
        }
        if message.topic.hasPrefix("deny/") {
            return .finished(.failure(PublishError(reason: "not-authorized", message: "denied")))
        }
        return state.withLock { state in
            if message.topic.hasPrefix("slow") && !state.open {
                state.waiting.append((message, completion))
                return .waiting
            }
            state.published.append(message)
            return .finished(.success(PublishReceipt(matchedSubscribers: 0)))
        }
    }

    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        try await publishAwaitingCompletion(message)
    }

    func subscribe(filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void)
        throws(SubscribeError)
        -> BusSubscription
    {
        if filter.hasPrefix("deny/") || filter.hasPrefix("unobservable/") {
            throw SubscribeError(message: "not allowed to subscribe to \(filter)")
        }
        let index = state.withLock { state in
            state.subscriptions.append(Subscription(filter: filter, principal: principal, cancelled: false))
            return state.subscriptions.count - 1
        }
        return BusSubscription { [self] in
            state.withLock { $0.subscriptions[index].cancelled = true }
        }
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] {
        if filter.hasPrefix("deny/") { throw SubscribeError(message: "not allowed to read \(filter)") }
        guard filter == "r/x" else { return [] }
        var payload = ByteBuffer()
        payload.writeString("kept")
        return [Message(topic: "r/x", payload: payload, retain: true, principal: .adapter("test"))]
    }
}

/// A raw CoAP client on a UDP socket, enough to see types and codes.
struct RawClient {
    let socket: Int32

    init(port: UInt16) {
        socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Sends a request: type 0 CON / 1 NON, code 1 GET / 2 POST, Uri-Path segments, payload;
    /// `observe` adds an Observe option (0 registers) of at most one byte.
    func send(type: UInt8, code: UInt8, mid: UInt16, path: [String], payload: String = "", observe: UInt8? = nil) {
        var bytes: [UInt8] = [0x40 | type << 4 | 1, code, UInt8(mid >> 8), UInt8(mid & 0xFF), 0x7A]
        var previous = 0
        if let observe {
            bytes += observe == 0 ? [0x60] : [0x61, observe]
            previous = 6
        }
        for segment in path {
            let delta = 11 - previous
            previous = 11
            bytes.append(UInt8(delta << 4 | segment.utf8.count))
            bytes += segment.utf8
        }
        if !payload.isEmpty { bytes += [0xFF] + Array(payload.utf8) }
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
    }

    /// A datagram from the server.
    struct Answer {
        var type: UInt8
        var code: CoAPCode
        var mid: UInt16
        /// The option numbers, in order.
        var options: [Int]
        var payload: String
    }

    /// The next datagram's (type, code, payload), or nil after `milliseconds`.
    func receive(milliseconds: Int32) -> (type: UInt8, code: CoAPCode, payload: String)? {
        receiveAnswer(milliseconds: milliseconds).map { ($0.type, $0.code, $0.payload) }
    }

    /// The answer to the request with message ID `mid` (others are skipped), or nil after
    /// `milliseconds` without one.
    func answer(to mid: UInt16, milliseconds: Int32 = 2000) -> Answer? {
        for _ in 0..<20 {
            guard let answer = receiveAnswer(milliseconds: milliseconds) else { return nil }
            if answer.mid == mid { return answer }
        }
        return nil
    }

    /// The next datagram, or nil after `milliseconds`.
    func receiveAnswer(milliseconds: Int32) -> Answer? {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count >= 4 else { return nil }
        let datagram = Array(buffer.prefix(count))
        // Options (RFC 7252 §3.1), enough for what the adapter sends: no reserved nibbles.
        var options: [Int] = []
        var number = 0
        var index = 4 + Int(datagram[0] & 0x0F)
        while index < datagram.count, datagram[index] != 0xFF {
            var delta = Int(datagram[index] >> 4)
            var length = Int(datagram[index] & 0x0F)
            index += 1
            for extended in [true, false] {
                let nibble = extended ? delta : length
                var value = nibble
                if nibble == 13, index < datagram.count {
                    value = Int(datagram[index]) + 13
                    index += 1
                } else if nibble == 14, index + 1 < datagram.count {
                    value = Int(datagram[index]) << 8 + Int(datagram[index + 1]) + 269
                    index += 2
                }
                if extended { delta = value } else { length = value }
            }
            number += delta
            options.append(number)
            index += length
        }
        var payload = ""
        if index < datagram.count {
            payload = String(decoding: datagram[(index + 1)...], as: UTF8.self)
        }
        return Answer(
            type: datagram[0] >> 4 & 0x3, code: CoAPCode(wireValue: datagram[1]),
            mid: UInt16(datagram[2]) << 8 | UInt16(datagram[3]), options: options, payload: payload)
    }

    func close() { _ = Glibc.close(socket) }
}

/// A UDP port that was free a moment ago.
func freeUDPPort() -> UInt16 {
    let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(probe) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(probe, pointer, length)
            return getsockname(probe, pointer, &length)
        }
    }
    return UInt16(bigEndian: address.sin_port)
}

@Test(.timeLimit(.minutes(1))) func confirmablePostIsAcknowledgedOnlyAfterThePublish() async throws {
    let port = freeUDPPort()
    let bus = GatedBus()
    // Plain peers may publish anywhere here: this test is about when the answer goes out.
    let settings: ConfigValue = ["port": .int(Int(port)), "plain": ["publish": ["#"]]]
    let config = AdapterConfig(name: "coap", type: "coap", settings: settings)
    let adapter = try CoAPAdapter(
        config: config,
        context: AdapterContext(name: "coap", bus: bus, logger: Logger(label: "test"), clock: SystemClock())
    )
    let server = Task { try await adapter.run() }
    defer { server.cancel() }
    let client = RawClient(port: port)
    defer { client.close() }
    // The server starts on its own thread; retry the first request until it answers.
    var first: (type: UInt8, code: CoAPCode, payload: String)?
    for attempt in 0..<50 where first == nil {
        client.send(type: 0, code: 2, mid: UInt16(attempt), path: ["t", "a", "b"], payload: "1")
        first = client.receive(milliseconds: 100)
        // Before the server is up the socket reports "connection refused" at once.
        if first == nil { try await Task.sleep(for: .milliseconds(50)) }
    }
    #expect(first?.type == 2)
    #expect(first?.code == .changed)
    #expect(bus.published.first?.topic == "a/b")
    #expect(bus.published.first?.qos == .atLeastOnce)

    client.send(type: 0, code: 2, mid: 100, path: ["t", "slow"], payload: "2")
    #expect(client.receive(milliseconds: 300) == nil)
    bus.release()
    let slow = client.receive(milliseconds: 2000)
    #expect(slow?.type == 2 && slow?.code == .changed)

    client.send(type: 0, code: 2, mid: 101, path: ["t", "fail"], payload: "3")
    let refused = client.receive(milliseconds: 2000)
    #expect(refused?.code == .serviceUnavailable)
    #expect(refused?.payload == "quota-exceeded")

    client.send(type: 1, code: 2, mid: 102, path: ["t", "n"], payload: "4")
    let non = client.receive(milliseconds: 2000)
    #expect(non?.type == 1 && non?.code == .changed)

    client.send(type: 0, code: 1, mid: 103, path: ["t", "r", "x"])
    let get = client.receive(milliseconds: 2000)
    #expect(get?.code == .content && get?.payload == "kept")

    client.send(type: 0, code: 1, mid: 104, path: ["t", "missing"])
    #expect(client.receive(milliseconds: 2000)?.code == .notFound)

    client.send(type: 0, code: 2, mid: 105, path: ["t", "a", "#"], payload: "5")
    #expect(client.receive(milliseconds: 2000)?.code == .badRequest)

    try await Task.sleep(for: .milliseconds(100))
    #expect(bus.published.first { $0.topic == "n" }?.qos == .atMostOnce)
    #expect(adapter.health == .healthy)
}

@Test(.timeLimit(.minutes(1))) func aPortInUseFailsTheAdapter() async throws {
    let holder = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(holder) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(holder, pointer, length)
            return getsockname(holder, pointer, &length)
        }
    }
    let port = Int(UInt16(bigEndian: address.sin_port))
    let adapter = try CoAPAdapter(
        config: AdapterConfig(name: "coap", type: "coap", settings: ["port": .int(port)]),
        context: AdapterContext(name: "coap", bus: GatedBus(), logger: Logger(label: "test"), clock: SystemClock())
    )
    await #expect(throws: (any Error).self) { try await adapter.run() }
    if case .failed(let reason) = adapter.health {
        #expect(reason.contains("\(port)"))
    } else {
        Issue.record("health is \(adapter.health), expected failed")
    }
}

/// The adapter and a raw client of it on a free port, with `GatedBus`; plain peers may publish
/// anywhere and read everything.
private func startServer(_ bus: GatedBus) throws -> (adapter: CoAPAdapter, client: RawClient) {
    let port = freeUDPPort()
    let settings: ConfigValue = ["port": .int(Int(port)), "plain": ["publish": ["#"], "read": ["#"]]]
    let adapter = try CoAPAdapter(
        config: AdapterConfig(name: "coap", type: "coap", settings: settings),
        context: AdapterContext(name: "coap", bus: bus, logger: Logger(label: "test"), clock: SystemClock())
    )
    return (adapter, RawClient(port: port))
}

/// Waits until the server (starting on its own thread) answers a GET.
private func waitUntilServing(_ client: RawClient) async throws {
    for attempt in 0..<50 {
        client.send(type: 0, code: 1, mid: 1000 + UInt16(attempt), path: ["t", "ping"])
        // Before the server is up the socket reports "connection refused" at once.
        if client.receive(milliseconds: 100) != nil { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("the server did not answer")
}

@Test(.timeLimit(.minutes(1))) func refusalsOfTheBrokersRouterAreForbidden() async throws {
    let bus = GatedBus()
    let (adapter, client) = try startServer(bus)
    let server = Task { try await adapter.run() }
    defer { server.cancel() }
    defer { client.close() }
    try await waitUntilServing(client)
    let observe = 6  // the Observe option

    // A publish the router refuses as not authorized.
    client.send(type: 0, code: 2, mid: 1, path: ["t", "deny", "x"], payload: "1")
    let post = client.answer(to: 1)
    #expect(post?.code == .forbidden)
    #expect(post?.payload == "not-authorized")
    #expect(bus.published.isEmpty)

    // A read the router refuses: forbidden, not "not found", and no observer registered.
    client.send(type: 0, code: 1, mid: 2, path: ["t", "deny", "x"])
    #expect(client.answer(to: 2)?.code == .forbidden)
    client.send(type: 0, code: 1, mid: 3, path: ["t", "deny", "x"], observe: 0)
    let refusedRead = client.answer(to: 3)
    #expect(refusedRead?.code == .forbidden)
    #expect(refusedRead?.options.contains(observe) == false)

    // A subscription the router refuses: the registration is forbidden and nothing is left behind.
    client.send(type: 0, code: 1, mid: 4, path: ["t", "unobservable", "x"], observe: 0)
    let refusedObserve = client.answer(to: 4)
    #expect(refusedObserve?.code == .forbidden)
    #expect(refusedObserve?.options.contains(observe) == false)
    #expect(bus.subscriptions.isEmpty)

    // An allowed registration subscribes as the peer, confined to its grant, not as the adapter.
    client.send(type: 0, code: 1, mid: 5, path: ["t", "r", "x"], observe: 0)
    let registered = client.answer(to: 5)
    #expect(registered?.code == .content)
    #expect(registered?.options.contains(observe) == true)
    let subscriptions = bus.subscriptions
    #expect(subscriptions.map(\.filter) == ["r/x"])
    #expect(subscriptions.first?.principal.aclName == "coap-plain:coap")
    #expect(subscriptions.first?.principal.confinement == Confinement(publish: ["#"], read: ["#"]))
    #expect(subscriptions.first?.cancelled == false)

    // Deregistering the only observer ends the subscription.
    client.send(type: 0, code: 1, mid: 6, path: ["t", "r", "x"], observe: 1)
    #expect(client.answer(to: 6)?.code == .content)
    #expect(bus.subscriptions.first?.cancelled == true)
}

@Test func inboxWakesOnlyASleepingLoop() {
    let inbox = CoAPInbox()
    #expect(inbox.prepareToSleep())
    #expect(inbox.post(.stop))
    // The loop saw no work before sleeping, so the poster cleared the flag and wrote the eventfd.
    #expect(!inbox.prepareToSleep())
    #expect(inbox.take().count == 1)
    #expect(inbox.take().isEmpty)
    inbox.close()
    #expect(!inbox.post(.stop))
}
