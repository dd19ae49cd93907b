import NIOCore
import Synchronization

/// The CONNECT and keep-alive deadlines of the connections on one event loop, under one timer.
///
/// A NIO timer per connection costs about 300 bytes for as long as the connection lives (the
/// scheduled task, its promise and future, the closure and a slot in the loop's task heap),
/// however idle the client. Here each connection has one entry in a ``DeadlineQueue``, and one
/// timer waits for the earliest deadline. Traffic does not touch the queue: when a connection's
/// deadline comes, its handler looks at when it last heard from the client and answers with the
/// real next deadline (or closes the connection), so a busy connection costs nothing here and an
/// idle one is checked once per keep alive, to the nanosecond, as a timer of its own would be.
final class ConnectionDeadlines: Sendable {
    private let state: NIOLoopBoundBox<State>
    private let eventLoop: any EventLoop

    private final class State {
        var queue = DeadlineQueue<MQTTConnectionHandler>()
        var timer: Scheduled<Void>?
        /// When `timer` fires (ns), while it is set.
        var timerDeadline: UInt64 = 0
    }

    /// Created on `eventLoop`.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.state = NIOLoopBoundBox(State(), eventLoop: eventLoop)
    }

    /// Connections with a deadline (for tests).
    var count: Int { state.value.queue.count }

    /// Sets the next deadline of `handler`'s connection; moves it if it had one.
    func set(_ handler: MQTTConnectionHandler, deadline: NIODeadline) {
        state.value.queue.set(handler, deadline: deadline.uptimeNanoseconds)
        armTimer()
    }

    /// Takes `handler`'s connection out: it has no deadline any more (or it is gone).
    func remove(_ handler: MQTTConnectionHandler) {
        // The timer stays as it is: when it fires with nothing due it only waits again, and a
        // loop shutting down (its connections closing) is not given new tasks.
        state.value.queue.remove(handler)
    }

    private func armTimer() {
        let state = self.state.value
        guard let earliest = state.queue.earliest else { return }
        if state.timer != nil {
            guard earliest < state.timerDeadline else { return }
            state.timer?.cancel()
        }
        state.timerDeadline = earliest
        state.timer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(earliest)) { [self] in
            fire()
        }
    }

    private func fire() {
        let state = self.state.value
        state.timer = nil
        let now = eventLoop.now
        while let handler = state.queue.popDue(now: now.uptimeNanoseconds) {
            if let next = handler.deadlineReached(now: now) {
                state.queue.set(handler, deadline: next.uptimeNanoseconds)
            }
        }
        armTimer()
    }
}

/// One ``ConnectionDeadlines`` per event loop, made when its first connection starts.
final class ConnectionDeadlineRegistry: Sendable {
    private let byLoop = Mutex<[ObjectIdentifier: ConnectionDeadlines]>([:])

    /// The deadlines of `eventLoop`'s connections. Called on that loop.
    func deadlines(on eventLoop: any EventLoop) -> ConnectionDeadlines {
        byLoop.withLock { byLoop in
            // The entry keeps its loop alive, so no other loop can take the same identifier.
            let key = ObjectIdentifier(eventLoop)
            if let deadlines = byLoop[key] { return deadlines }
            let deadlines = ConnectionDeadlines(eventLoop: eventLoop)
            byLoop[key] = deadlines
            return deadlines
        }
    }
}
