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

/// A bus whose publishes to `slow/...` wait until `release()`, and to `fail` are refused.
final class GatedBus: MessageBus {
    private typealias Completion = @Sendable (Result<PublishReceipt, PublishError>) -> Void
    private let state = Mutex<(published: [Message], waiting: [(Message, Completion)], open: Bool)>(([], [], false))

    var published: [Message] { state.withLock { $0.published } }

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
        BusSubscription {}
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] {
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

    /// Sends a request: type 0 CON / 1 NON, code 1 GET / 2 POST, Uri-Path segments, payload.
    func send(type: UInt8, code: UInt8, mid: UInt16, path: [String], payload: String = "") {
        var bytes: [UInt8] = [0x40 | type << 4 | 1, code, UInt8(mid >> 8), UInt8(mid & 0xFF), 0x7A]
        var previous = 0
        for segment in path {
            let delta = 11 - previous
            previous = 11
            bytes.append(UInt8(delta << 4 | segment.utf8.count))
            bytes += segment.utf8
        }
        if !payload.isEmpty { bytes += [0xFF] + Array(payload.utf8) }
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
    }

    /// The next datagram's (type, code, payload), or nil after `milliseconds`.
    func receive(milliseconds: Int32) -> (type: UInt8, code: CoAPCode, payload: String)? {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count >= 4 else { return nil }
        let datagram = Array(buffer.prefix(count))
        var payload = ""
        if let marker = datagram.firstIndex(of: 0xFF) {
            payload = String(decoding: datagram[(marker + 1)...], as: UTF8.self)
        }
        return (datagram[0] >> 4 & 0x3, CoAPCode(wireValue: datagram[1]), payload)
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
