import AdapterKit
import Foundation
import Logging
import MQTTCodec
import NIOCore
import NIOPosix
import Synchronization
import Testing
import WharfCore

@testable import Uplink

/// A `MessageBus` that only records what is published into it.
final class CollectingBus: MessageBus {
    private let messages = Mutex<[Message]>([])

    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        messages.withLock { $0.append(message) }
        return PublishReceipt(matchedSubscribers: 1)
    }

    func subscribe(
        filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void
    ) throws(SubscribeError) -> BusSubscription {
        BusSubscription {}
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }

    var published: [Message] { messages.withLock { $0 } }
}

/// An `UplinkQueue` that remembers when each record was acknowledged.
final class RecordingQueue: UplinkQueue {
    let inner = InMemoryUplinkQueue()
    private let acknowledgedAt = Mutex<[Int64: ContinuousClock.Instant]>([:])

    func read(after sequence: Int64, limit: Int) async throws -> [UplinkItem] {
        try await inner.read(after: sequence, limit: limit)
    }

    func acknowledge(_ sequences: [Int64]) async throws {
        let now = ContinuousClock.now
        acknowledgedAt.withLock { times in
            for sequence in sequences where times[sequence] == nil { times[sequence] = now }
        }
        try await inner.acknowledge(sequences)
    }

    func deadLetter(_ letters: [UplinkDeadLetter]) async throws {
        try await inner.deadLetter(letters)
    }

    func waitForAppend(after sequence: Int64) async {
        await inner.waitForAppend(after: sequence)
    }

    func acknowledgedTime(of sequence: Int64) -> ContinuousClock.Instant? {
        acknowledgedAt.withLock { $0[sequence] }
    }
}

/// Log records kept in memory, to check what the service said and when.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
        var time: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    var all: [Entry] { entries.withLock { $0 } }

    /// A logger whose records land here.
    func logger(label: String = "uplink-test") -> Logger {
        var logger = Logger(label: label) { _ in CaptureHandler(capture: self) }
        logger.logLevel = .debug
        return logger
    }
}

private struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        capture.append(
            LogCapture.Entry(
                level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" },
                time: .now))
    }
}

/// A service under test with its collaborators.
struct UplinkHarness {
    let service: UplinkService
    let queue: any UplinkQueue
    let bus = CollectingBus()
    let logs = LogCapture()

    init(
        _ configuration: UplinkConfiguration, queue: any UplinkQueue = InMemoryUplinkQueue(), seed: UInt64 = 1,
        resolver: HostResolver = .system
    ) {
        self.queue = queue
        service = UplinkService(
            configuration: configuration, queue: queue, bus: bus, logger: logs.logger(), clock: SystemClock(),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            wallClock: { Int64(Date().timeIntervalSince1970 * 1000) }, seed: seed, resolver: resolver)
    }

    /// Runs the service while `body` runs, then stops it gracefully (or cancels it if `graceful` is false).
    @discardableResult
    func running<T: Sendable>(
        graceful: Bool = true,
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let service = self.service
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            do {
                let result = try await body()
                if graceful { service.stop() } else { group.cancelAll() }
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Waits until `condition` holds on the status, polling; records an issue and returns false on timeout.
    @discardableResult
    func waitUntil(
        _ what: String,
        timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: (UplinkStatus) -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(service.status) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what); status \(service.status)", sourceLocation: sourceLocation)
                return false
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

/// An uplink configuration for a local test broker with fast backoff.
func testConfiguration(
    port: Int,
    version: MQTTProtocolVersion = .v5,
    clientIdentifier: String = "wharf-gw1",
    subscriptions: [RemoteSubscription] = [],
    tls: UplinkTLS? = nil
) -> UplinkConfiguration {
    UplinkConfiguration(
        host: "127.0.0.1",
        port: port,
        tls: tls,
        clientIdentifier: clientIdentifier,
        version: version,
        backoff: BackoffPolicy(base: .milliseconds(50), cap: .milliseconds(400), stableAfter: .seconds(30)),
        statusTopic: "wharf/gw1/status",
        subscriptions: subscriptions,
        connectTimeout: .seconds(3)
    )
}
