import Foundation
import PropertyBased
import ServiceLifecycle
import Synchronization
import Testing
import WharfCore

@testable import AdminAPI

@Suite struct HistoryRecorderTests {
    @Test func ratesAreTheDifferenceOverTheTimeBetweenReadings() {
        var recorder = HistoryRecorder(interval: .seconds(10))
        recorder.start(HistoryCounters(messagesReceived: 100, messagesSent: 40), at: .seconds(5))
        let sample = recorder.record(
            HistoryCounters(
                messagesReceived: 150, messagesSent: 45, queueDepth: 3, queueBytes: 99, connectedClients: 2),
            at: .seconds(15), wallMilliseconds: 1_796_653_800_123)
        #expect(sample.messagesInPerSecond == 5)
        #expect(sample.messagesOutPerSecond == 0.5)
        #expect(sample.queueDepth == 3 && sample.queueBytes == 99 && sample.connectedClients == 2)
        #expect(sample.time == "2026-12-07T14:30:00.123Z")
        // Measured over the time that actually passed (a late wake-up), not the nominal interval.
        let late = recorder.record(
            HistoryCounters(messagesReceived: 180, messagesSent: 45), at: .seconds(35), wallMilliseconds: 0)
        #expect(late.messagesInPerSecond == 1.5)
    }

    @Test func aCounterThatGoesBackGivesNoRate() {
        var recorder = HistoryRecorder(interval: .seconds(10))
        recorder.start(HistoryCounters(messagesReceived: 100), at: .zero)
        #expect(
            recorder.record(HistoryCounters(messagesReceived: 10), at: .seconds(10), wallMilliseconds: 0)
                .messagesInPerSecond == 0)
        // Without a first reading, or with no time between two, the rate is 0 too.
        var fresh = HistoryRecorder(interval: .seconds(10))
        #expect(
            fresh.record(HistoryCounters(messagesReceived: 5), at: .seconds(1), wallMilliseconds: 0).messagesInPerSecond
                == 0)
        #expect(
            fresh.record(HistoryCounters(messagesReceived: 9), at: .seconds(1), wallMilliseconds: 0).messagesInPerSecond
                == 0)
    }

    @Test(arguments: [(10, 360), (1, 3600), (7, 515), (600, 6)])
    func anHourOfSamplesIsKept(seconds: Int, capacity: Int) {
        #expect(HistoryRecorder.capacity(interval: .seconds(seconds)) == capacity)
    }

    /// Any run of readings: never more than an hour of samples, the newest last, and every rate
    /// the counter's growth over the seconds between the two readings.
    @Test func samplesFollowTheReadings() async {
        let step = zip(Gen.int(in: 0...500), Gen.int(in: 1...30))
        await propertyCheck(count: 200, input: Gen.int(in: 60...600), step.array(of: 1...80)) { interval, steps in
            var recorder = HistoryRecorder(interval: .seconds(interval))
            var received = 0
            var time = Duration.zero
            recorder.start(HistoryCounters(), at: time)
            var expected: [Double] = []
            for (added, seconds) in steps {
                received += added
                time += .seconds(seconds)
                recorder.record(HistoryCounters(messagesReceived: received), at: time, wallMilliseconds: 0)
                expected.append((Double(added) / Double(seconds) * 100).rounded() / 100)
            }
            let kept = recorder.samples.elements
            #expect(kept.count == min(steps.count, HistoryRecorder.capacity(interval: .seconds(interval))))
            #expect(kept.map(\.messagesInPerSecond) == Array(expected.suffix(kept.count)))
        }
    }
}

@Suite struct HistorySamplerTests {
    struct FixedWallClock: WallClock {
        func millisecondsSinceEpoch() -> Int64 { 1_796_653_800_000 }
    }

    /// The sampler reads at start, then once per interval of the injected clock, and stops at
    /// cancellation.
    @Test func samplesEveryIntervalOfItsClock() async throws {
        let clock = ManualClock()
        let history = History(interval: .seconds(10))
        let counters = Mutex(HistoryCounters(messagesReceived: 0))
        let listener = history.newSamples()
        let sampler = HistorySampler(history: history, clock: clock, wallClock: FixedWallClock()) {
            counters.withLock { $0 }
        }
        let task = Task { try await sampler.run() }
        #expect(await clock.waitForSleepers())
        #expect(history.samples.isEmpty)
        counters.withLock { $0.messagesReceived = 50 }
        clock.advance(by: .seconds(9))
        #expect(history.samples.isEmpty, "not before the interval")
        clock.advance(by: .seconds(1))
        var iterator = listener.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first?.messagesInPerSecond == 5)
        #expect(first?.time == "2026-12-07T14:30:00.000Z")
        #expect(await clock.waitForSleepers())
        counters.withLock { $0.messagesReceived = 60 }
        clock.advance(by: .seconds(10))
        #expect(await iterator.next()?.messagesInPerSecond == 1)
        #expect(history.samples.count == 2)
        task.cancel()
        _ = try? await task.value
        #expect(clock.sleeping == 0)
    }

    @Test func theDocumentHasTheContractsKeys() throws {
        let history = History(interval: .seconds(10))
        history.start(HistoryCounters(), at: .zero)
        history.record(HistoryCounters(messagesReceived: 20, queueDepth: 1), at: .seconds(10), wallMilliseconds: 0)
        let reply = AdminRoutes(provider: FakeProvider(), registry: testRegistry, history: history).historySamples()
        let document = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        #expect(document["interval_seconds"] as? Int == 10)
        let samples = try #require(document["samples"] as? [[String: Any]])
        #expect(
            Set(samples[0].keys) == [
                "time", "messages_in_per_second", "messages_out_per_second", "queue_depth", "queue_bytes",
                "connected_clients",
            ])
        #expect(samples[0]["messages_in_per_second"] as? Double == 2)
    }
}
