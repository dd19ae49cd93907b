import WharfCore

/// The poll loop of one line, run on the line's thread until the line is stopped.
///
/// Each turn makes the queued writes, then runs whatever is due first among the line's devices (a
/// poll group or a connection attempt), or sleeps until it is due. Polls are timed by the injected
/// clock's deadlines (`ModbusPollSchedule`: no drift; `poll_interval: 0s` polls back to back).
/// Each step's messages go to the publisher through the handoff without waiting; while the
/// publisher has `limit` batches pending, the loop holds its next poll (writes still go through).
/// Not Sendable: created and used on the line's thread only.
final class ModbusLineLoop {
    private let pollers: [ModbusDevicePoller]
    private let connections = ModbusLineState()
    private let control: ModbusLineControl
    private let handoff: ModbusHandoff<ModbusBatch>
    private let clock: any WharfClock

    init(devices: [ModbusDeviceRuntime], control: ModbusLineControl, handoff: ModbusHandoff<ModbusBatch>) {
        pollers = devices.enumerated().map { ModbusDevicePoller(index: $0.offset, runtime: $0.element) }
        clock = devices.first?.clock ?? SystemClock()
        self.control = control
        self.handoff = handoff
    }

    /// Polls until stopped, then closes the line's connections.
    func run() {
        defer { connections.closeAll() }
        while !control.isStopped {
            performWrites()
            guard handoff.hasRoom, let poller = nextPoller() else {
                control.wait(nanoseconds: nil)
                continue
            }
            let now = clock.now()
            let due = poller.due
            guard due <= now else {
                control.wait(nanoseconds: due - now)
                continue
            }
            for batch in poller.step(connections, between: performWrites) {
                handoff.push(batch)
            }
        }
    }

    /// The device due first; among equals the first listed.
    private func nextPoller() -> ModbusDevicePoller? {
        var best: ModbusDevicePoller?
        var bestDue = UInt64.max
        for poller in pollers {
            let due = poller.due
            if best == nil || due < bestDue {
                best = poller
                bestDue = due
            }
        }
        return best
    }

    private func performWrites() {
        guard control.hasWrites else { return }
        for job in control.takeWrites() {
            job.continuation.resume(returning: connections.write(job.device, job.write))
        }
    }
}
