import Testing
import WharfModbus

@Suite struct ModbusPollScheduleTests {
    private let second: UInt64 = 1_000_000_000

    @Test func advancesByWholeIntervalsWithoutDrift() {
        var schedule = ModbusPollSchedule(interval: .seconds(1), start: 10 * second)
        #expect(schedule.isDue(at: 10 * second))
        #expect(!schedule.isDue(at: 10 * second - 1))
        // Each poll takes 300 ms; the next deadline still lands on the whole second.
        for tick in 0..<5 {
            let deadline = schedule.deadline
            #expect(deadline == (10 + UInt64(tick)) * second)
            #expect(schedule.advance(now: deadline + 300_000_000) == 0)
        }
        #expect(schedule.deadline == 15 * second)
    }

    @Test func skipsMissedSlots() {
        var schedule = ModbusPollSchedule(interval: .milliseconds(100), start: 0)
        #expect(schedule.advance(now: 350_000_000) == 3)
        #expect(schedule.deadline == 400_000_000)
        #expect(schedule.advance(now: 400_000_000) == 0)
        #expect(schedule.deadline == 500_000_000)
    }

    @Test func aPollEndingExactlyOnTheNextSlotRunsItAtOnce() {
        var schedule = ModbusPollSchedule(interval: .seconds(1), start: 0)
        #expect(schedule.advance(now: second) == 0)
        #expect(schedule.deadline == second)
        #expect(schedule.advance(now: 3 * second) == 1)
        #expect(schedule.deadline == 3 * second)
    }

    @Test func zeroIntervalPollsBackToBack() {
        var schedule = ModbusPollSchedule(interval: .zero, start: 5)
        schedule.advance(now: 17)
        #expect(schedule.deadline == 17)
        #expect(schedule.isDue(at: 17))
    }

    @Test func restartsAfterAReconnect() {
        var schedule = ModbusPollSchedule(interval: .seconds(1), start: 0)
        schedule.advance(now: 10)
        schedule.restart(at: 42 * second)
        #expect(schedule.deadline == 42 * second)
    }

    @Test func aManualClockSeesOnePollPerSlot() {
        // Simulated time runs in 10 ms steps; polls take 30 ms.
        var schedule = ModbusPollSchedule(interval: .milliseconds(250), start: 0)
        var polls: [UInt64] = []
        var now: UInt64 = 0
        while now < 10 * second {
            if schedule.isDue(at: now) {
                polls.append(schedule.deadline)
                now += 30_000_000
                schedule.advance(now: now)
            } else {
                now += 10_000_000
            }
        }
        #expect(polls.count == 40)
        #expect(polls == (0..<40).map { UInt64($0) * 250_000_000 })
    }
}
