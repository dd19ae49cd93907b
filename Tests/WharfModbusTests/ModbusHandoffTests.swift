import Synchronization
import Testing

@testable import WharfModbus

/// The bounded handoff from a line's thread to its publisher.
@Suite struct ModbusHandoffTests {
    @Test func deliversPendingItemsOldestFirst() async {
        let handoff = ModbusHandoff<Int>(limit: 4)
        for item in 1...3 { #expect(handoff.push(item)) }
        #expect(handoff.pending == 3)
        #expect(await handoff.next() == [1, 2, 3])
        #expect(handoff.pending == 0)
    }

    @Test func hasRoomBelowTheLimitAndWakesTheProducerWhenAFullHandoffIsTaken() async {
        let wakes = Mutex(0)
        let handoff = ModbusHandoff<Int>(limit: 2) { wakes.withLock { $0 += 1 } }
        handoff.push(1)
        #expect(handoff.hasRoom)
        handoff.push(2)
        #expect(!handoff.hasRoom)
        // The limit holds the producer's next poll; what one poll pushes is still accepted.
        #expect(handoff.push(3))
        #expect(await handoff.next() == [1, 2, 3])
        #expect(handoff.hasRoom)
        #expect(wakes.withLock { $0 } == 1)
        handoff.push(4)
        #expect(await handoff.next() == [4])
        #expect(wakes.withLock { $0 } == 1)
    }

    @Test func aWaitingConsumerGetsTheNextItem() async throws {
        let handoff = ModbusHandoff<Int>(limit: 2)
        async let taken = handoff.next()
        try await Task.sleep(for: .milliseconds(20))
        handoff.push(7)
        #expect(await taken == [7])
        #expect(handoff.pending == 0)
    }

    @Test func finishLetsTheConsumerDrainThenEnds() async {
        let handoff = ModbusHandoff<Int>(limit: 2)
        handoff.push(1)
        handoff.finish()
        #expect(!handoff.push(2))
        #expect(await handoff.next() == [1])
        #expect(await handoff.next() == nil)
    }

    @Test func finishWakesAWaitingConsumer() async throws {
        let handoff = ModbusHandoff<Int>(limit: 2)
        async let taken = handoff.next()
        try await Task.sleep(for: .milliseconds(20))
        handoff.finish()
        #expect(await taken == nil)
    }

    @Test func aProducerThreadAndTheConsumerLoseNothing() async {
        let handoff = ModbusHandoff<Int>(limit: 8)
        let producer = Task.detached {
            for item in 0..<5000 { handoff.push(item) }
            handoff.finish()
        }
        var received: [Int] = []
        while let items = await handoff.next() { received += items }
        await producer.value
        #expect(received == Array(0..<5000))
    }
}

/// The write queue and wake-ups between the async side and a line's thread.
@Suite struct ModbusLineControlTests {
    private func device() throws -> ModbusDeviceConfig {
        try #require(
            try modbusConfig(deviceYAML(points: ["{ name: v, table: holding, address: 0, type: uint16 }"])).get()
                .devices.first)
    }

    @Test func aQueuedWriteIsAnsweredByTheThread() async throws {
        let control = ModbusLineControl()
        let device = try device()
        async let outcome = control.submit(.registers(address: 0, values: [7]), to: device)
        while !control.hasWrites { try await Task.sleep(for: .milliseconds(1)) }
        let jobs = control.takeWrites()
        #expect(jobs.count == 1)
        #expect(jobs.first?.write == .registers(address: 0, values: [7]))
        jobs.first?.continuation.resume(returning: .failure(ModbusIOError(.timeout, "timeout")))
        let answered = await outcome
        guard case .failure(let error) = answered else {
            Issue.record("expected the failure, got \(String(describing: answered))")
            return
        }
        #expect(error == ModbusIOError(.timeout, "timeout"))
        #expect(!control.hasWrites)
    }

    @Test func writesAfterStopOrLeftAtTheEndGetNil() async throws {
        let control = ModbusLineControl()
        let device = try device()
        async let pending = control.submit(.coil(address: 1, value: true), to: device)
        while !control.hasWrites { try await Task.sleep(for: .milliseconds(1)) }
        control.finishWrites()
        #expect(await pending == nil)
        #expect(control.isStopped)
        let late = await control.submit(.coil(address: 1, value: false), to: device)
        #expect(late == nil)
    }

    @Test func waitReturnsWhenWokenOrAfterItsTimeout() async {
        let control = ModbusLineControl()
        let clock = ContinuousClock()
        let timed = clock.measure { control.wait(nanoseconds: 20_000_000) }
        #expect(timed >= .milliseconds(15))
        control.wake()
        let woken = clock.measure { control.wait(nanoseconds: 5_000_000_000) }
        #expect(woken < .seconds(1))
        control.stop()
        let stopped = clock.measure { control.wait(nanoseconds: nil) }
        #expect(stopped < .seconds(1))
    }
}
