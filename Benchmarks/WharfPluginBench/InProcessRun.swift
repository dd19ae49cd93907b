import AdapterKit
import BenchSupport
import NIOCore
import WharfCore

/// Case (b): the same messages published by an adapter inside the process, through
/// `MessageBus.publish(_:completion:)` from one event loop, with at most `window` QoS 1
/// publishes unanswered (the plugin's credit), so that both cases make the router do the same.
final class InProcessRun {
    private let bus: any MessageBus
    private let loop: any EventLoop
    private let total: Int
    private let window: Int
    private let qos: QoS
    private let topic: String
    private let payload: ByteBuffer
    private let principal = Principal.adapter("bench")
    private let clock = SystemClock()
    private let done: EventLoopPromise<(end: ProcessClock, refused: Int)>

    private var sent = 0
    private var answered = 0
    private var inFlight = 0
    private var refused = 0

    /// Publishes handled per turn of the event loop before it yields (a QoS 0 run never waits).
    private static let batch = 1024

    private init(
        bus: any MessageBus, loop: any EventLoop, total: Int, window: Int, qos: QoS, topic: String, payload: Int
    ) {
        self.bus = bus
        self.loop = loop
        self.total = total
        self.window = window
        self.qos = qos
        self.topic = topic
        self.payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: payload)
        self.done = loop.makePromise()
    }

    /// Publishes `total` messages and measures from the first publish to the last answer.
    static func run(
        bus: any MessageBus, loop: any EventLoop, total: Int, window: Int, qos: QoS, topic: String, payload: Int
    ) async throws -> CaseResult {
        let result = try await loop.submit {
            let run = InProcessRun(
                bus: bus, loop: loop, total: total, window: window, qos: qos, topic: topic, payload: payload)
            let start = ProcessClock.now()
            run.pump()
            return run.done.futureResult.map { end, refused in
                CaseResult(messages: total, seconds: end.wall - start.wall, cpu: end.cpu - start.cpu, refused: refused)
            }
        }.flatMap { $0 }.get()
        return result
    }

    /// Publishes while the window allows, a batch per turn of the loop.
    private func pump() {
        var budget = Self.batch
        while sent < total, budget > 0, qos == .atMostOnce || inFlight < window {
            sent += 1
            budget -= 1
            let message = Message(
                topic: topic, payload: payload, qos: qos, principal: principal, receivedAt: clock.now())
            if qos != .atMostOnce { inFlight += 1 }
            let loop = self.loop
            let bound = NIOLoopBound(self, eventLoop: loop)
            let progress = bus.publish(message) { result in
                loop.execute { bound.value.answer(result, resume: true) }
            }
            if case .finished(let result) = progress { answer(result, resume: false) }
        }
        if budget == 0, sent < total {
            let bound = NIOLoopBound(self, eventLoop: loop)
            loop.execute { bound.value.pump() }
        }
    }

    private func answer(_ result: Result<PublishReceipt, PublishError>, resume: Bool) {
        answered += 1
        if qos != .atMostOnce { inFlight -= 1 }
        if case .failure = result { refused += 1 }
        if answered == total {
            done.succeed((ProcessClock.now(), refused))
        } else if resume {
            pump()
        }
    }
}
