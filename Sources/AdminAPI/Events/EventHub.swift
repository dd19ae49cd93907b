public import NIOCore
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The open event streams of `GET /api/v1/events`: at most `limit` at once, each with a bounded
/// buffer of whole events, ended together at shutdown. What every stream gets (status, samples,
/// log lines, keep-alives) is produced once here by ``run(clock:statusEvery:keepAliveEvery:logs:history:status:)``
/// and handed to each, so a stream costs its buffer and its socket, not work of its own.
public final class EventHub: Sendable {
    /// The most streams open at once (`admin.max_event_streams`).
    public let limit: Int
    private let state = Mutex<State>(State())

    struct State {
        var streams: [UInt64: AsyncStream<ByteBuffer>.Continuation] = [:]
        var next: UInt64 = 0
        var closed = false
    }

    /// Why a stream could not be opened.
    public enum Refusal: Error, Sendable, Equatable {
        /// `limit` streams are open.
        case full
        /// The server is shutting down (or streams are off, `limit` 0).
        case closed
    }

    /// How many events may wait for one stream's client; beyond it the oldest are dropped.
    static let buffer = 64

    /// A hub for at most `limit` streams.
    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Opens a stream; its events until ``end(_:)``, ``close()`` or the end of the iteration.
    func open() -> Result<(id: UInt64, events: AsyncStream<ByteBuffer>), Refusal> {
        let (events, continuation) = AsyncStream.makeStream(
            of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(Self.buffer))
        let opened: Result<UInt64, Refusal> = state.withLock { state in
            if state.closed || limit == 0 { return .failure(.closed) }
            if state.streams.count >= limit { return .failure(.full) }
            let id = state.next
            state.next += 1
            state.streams[id] = continuation
            return .success(id)
        }
        switch opened {
        case .failure(let refusal):
            continuation.finish()
            return .failure(refusal)
        case .success(let id):
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.streams.removeValue(forKey: id) }
            }
            return .success((id, events))
        }
    }

    /// Ends one stream (its client went away, or its answer ended) and frees its place.
    func end(_ id: UInt64) {
        let continuation = state.withLock { $0.streams.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Ends every stream and refuses new ones: graceful shutdown.
    public func close() {
        let continuations = state.withLock { state in
            state.closed = true
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// Hands one event's bytes to every open stream.
    func broadcast(_ text: String) {
        let continuations = state.withLock { Array($0.streams.values) }
        guard !continuations.isEmpty else { return }
        let bytes = ByteBuffer(string: text)
        for continuation in continuations { continuation.yield(bytes) }
    }

    /// How many streams are open.
    public var count: Int { state.withLock { $0.streams.count } }

    /// Produces the events of every stream until cancelled: `status` every `statusEvery`, a
    /// keep-alive comment every `keepAliveEvery`, a `log` event per line of `logs` and a `sample`
    /// event per sample of `history`. Nothing is read or encoded while no stream is open.
    public func run(
        clock: any Clock<Duration> = ContinuousClock(),
        statusEvery: Duration = .seconds(2),
        keepAliveEvery: Duration = .seconds(15),
        logs: LogRing?,
        history: History?,
        status: @escaping @Sendable () async -> String
    ) async {
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                await every(statusEvery, on: clock) {
                    guard self.count > 0 else { return }
                    self.broadcast(ServerSentEvent.event("status", data: await status()))
                }
            }
            group.addTask { [self] in
                await every(keepAliveEvery, on: clock) {
                    self.broadcast(ServerSentEvent.comment("keep-alive"))
                }
            }
            if let logs {
                group.addTask { [self] in
                    for await line in logs.lines() where self.count > 0 {
                        self.broadcast(ServerSentEvent.event("log", data: Self.compactJSON(line)))
                    }
                }
            }
            if let history {
                group.addTask { [self] in
                    for await sample in history.newSamples() where self.count > 0 {
                        self.broadcast(ServerSentEvent.event("sample", data: Self.compactJSON(sample)))
                    }
                }
            }
        }
    }

    /// Runs `action` every `interval` on `clock` until cancelled.
    private func every(_ interval: Duration, on clock: any Clock<Duration>, _ action: () async -> Void) async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: interval) } catch { return }
            await action()
        }
    }

    /// `value` as JSON on one line, with the console's keys.
    static func compactJSON(_ value: some Encodable) -> String {
        guard let data = try? ConsoleJSON.encoder(pretty: false).encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
