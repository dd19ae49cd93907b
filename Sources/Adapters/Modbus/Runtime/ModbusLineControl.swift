import Dispatch
import Synchronization

/// A write waiting for its line's thread, with the continuation its requester waits on.
struct ModbusWriteJob: Sendable {
    /// The device written to.
    var device: ModbusDeviceConfig
    /// The checked write.
    var write: ModbusWrite
    /// Resumed with the outcome, or nil when the line stops before the write is made.
    var continuation: CheckedContinuation<Result<Void, ModbusIOError>?, Never>
}

/// What the async side tells a line's thread: stop, and writes to make between requests.
///
/// The thread sleeps on one semaphore until the next poll is due; a write, a stop request or room
/// in the publisher's handoff signals it. A signal the thread did not need only makes it look at
/// its state once more, so none can be lost or harmful.
final class ModbusLineControl: Sendable {
    private struct State {
        var writes: [ModbusWriteJob] = []
        var stopped = false
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    /// Whether the line was asked to stop.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Whether writes are waiting.
    var hasWrites: Bool { state.withLock { !$0.writes.isEmpty } }

    /// Queues a write for the line's thread and waits for its outcome; nil when the line has stopped.
    func submit(_ write: ModbusWrite, to device: ModbusDeviceConfig) async -> Result<Void, ModbusIOError>? {
        await withCheckedContinuation { continuation in
            let accepted = state.withLock { state in
                guard !state.stopped else { return false }
                state.writes.append(ModbusWriteJob(device: device, write: write, continuation: continuation))
                return true
            }
            if accepted {
                wakeup.signal()
            } else {
                continuation.resume(returning: nil)
            }
        }
    }

    /// Takes the waiting writes, oldest first.
    func takeWrites() -> [ModbusWriteJob] {
        state.withLock { state in
            defer { state.writes.removeAll() }
            return state.writes
        }
    }

    /// Asks the thread to stop and wakes it.
    func stop() {
        state.withLock { $0.stopped = true }
        wakeup.signal()
    }

    /// Stops for good and answers every write still waiting with nil.
    func finishWrites() {
        let left = state.withLock { state in
            state.stopped = true
            defer { state.writes.removeAll() }
            return state.writes
        }
        for job in left { job.continuation.resume(returning: nil) }
    }

    /// Wakes the thread (a write arrived, or the handoff has room again).
    func wake() {
        wakeup.signal()
    }

    /// Sleeps the calling thread until woken, or for at most `nanoseconds` when given.
    func wait(nanoseconds: UInt64?) {
        guard let nanoseconds else {
            wakeup.wait()
            return
        }
        _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds)))
    }
}
