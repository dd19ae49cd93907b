import MQTTCodec
import NIOCore
import PropertyBased
import Testing
import WharfCore

@testable import Broker

@Suite struct ReadGateTests {
    typealias Resumption = ReadGate.Resumption

    @Test func readsPassWhileOpenAndAreHeldWhilePaused() {
        var gate = ReadGate()
        // Read while open, pause, pause again (not a new spell), read while paused.
        let steps = [gate.read(), gate.pause(.slowReader), gate.pause(.slowReader), gate.read()]
        #expect(steps == [true, true, false, false])
        #expect(!gate.isOpen)
        let resumptions = [gate.resume(.slowReader), gate.resume(.slowReader)]
        #expect(
            resumptions == [Resumption(opened: true, issueRead: true), Resumption(opened: false, issueRead: false)])
        #expect(gate.isOpen)
    }

    @Test func theGateOpensOnlyWhenTheLastReasonGoes() {
        var gate = ReadGate()
        let steps = [gate.pause(.rateLimit), gate.pause(.pendingAcks), gate.read()]
        #expect(steps == [true, true, false])
        #expect(gate.isPaused(for: .rateLimit) && gate.isPaused(for: .pendingAcks))
        #expect(!gate.isPaused(onlyFor: .rateLimit))
        let first = gate.resume(.rateLimit)
        #expect(first == Resumption(opened: false, issueRead: false))
        #expect(gate.isPaused(onlyFor: .pendingAcks))
        let last = gate.resume(.pendingAcks)
        #expect(last == Resumption(opened: true, issueRead: true))
    }

    @Test func noReadIsIssuedOnResumeWhenNoneWasAskedFor() {
        var gate = ReadGate()
        _ = gate.pause(.authentication)
        let resumption = gate.resume(.authentication)
        #expect(resumption == Resumption(opened: true, issueRead: false))
    }

    @Test func everyReasonHasItsOwnBit() {
        let bits = ReadPause.allCases.map(\.bit)
        #expect(Set(bits).count == ReadPause.allCases.count)
    }
}

@Suite struct PublishRateLimiterTests {
    static let second: UInt64 = 1_000_000_000

    @Test func noLimitNeverWaits() {
        var limiter = PublishRateLimiter(messagesPerSecond: 0, bytesPerSecond: 0, now: 0)
        #expect(!limiter.isLimited)
        let waits = (0..<10_000).compactMap { _ in limiter.take(payloadBytes: 1 << 20, now: 0) }
        #expect(waits.isEmpty)
    }

    @Test func aFullBucketTakesOneSecondsWorthThenPausesForTheDebt() {
        let second = Self.second
        var limiter = PublishRateLimiter(messagesPerSecond: 10, bytesPerSecond: 0, now: 0)
        // Ten pass; the eleventh goes into debt by one message: a tenth of a second.
        let waits = (0..<11).map { _ in limiter.take(payloadBytes: 100, now: 0) }
        #expect(waits == Array(repeating: nil, count: 10) + [second / 10])
        let remaining = [limiter.waitTime(now: second / 20), limiter.waitTime(now: second / 10)]
        #expect(remaining == [second / 20, nil])
        // Out of debt: each message now costs a tenth of a second.
        let next = [
            limiter.take(payloadBytes: 100, now: second / 10), limiter.take(payloadBytes: 100, now: second / 10),
        ]
        #expect(next == [second / 10, second / 5])
    }

    @Test func bytesLimitAMessageLargerThanTheBucketWithoutBlockingIt() {
        var limiter = PublishRateLimiter(messagesPerSecond: 0, bytesPerSecond: 1000, now: 0)
        // Three seconds' worth in one message: taken, then three seconds of debt minus the bucket.
        let waits = [limiter.take(payloadBytes: 3000, now: 0), limiter.waitTime(now: 2 * Self.second)]
        #expect(waits == [2 * Self.second, nil])
    }

    @Test func idleTimeRefillsNoMoreThanTheBucket() {
        var limiter = PublishRateLimiter(messagesPerSecond: 5, bytesPerSecond: 0, now: 0)
        for _ in 0..<5 { _ = limiter.take(payloadBytes: 0, now: 0) }
        let later = 3600 * Self.second
        let waits = (0..<6).map { _ in limiter.take(payloadBytes: 0, now: later) }
        #expect(waits.map { $0 != nil } == [false, false, false, false, false, true])
    }

    /// A client that sends as fast as it is let through never exceeds the rate plus one bucket
    /// (and one message of debt), and is never kept waiting forever.
    @Test func aGreedyClientStaysWithinTheRate() async {
        let input = zip(
            Gen.int(in: 1...500), Gen.int(in: 0...5000), Gen.int(in: 0...2000).array(of: 1...300)
        )
        await propertyCheck(count: 200, input: input) { messageRate, byteRate, payloads in
            var limiter = PublishRateLimiter(messagesPerSecond: messageRate, bytesPerSecond: byteRate, now: 0)
            var now: UInt64 = 0
            var bytes = 0
            for (sent, payload) in payloads.enumerated() {
                bytes += payload
                if let wait = limiter.take(payloadBytes: payload, now: now) {
                    #expect(wait <= UInt64(max(payload, 1)) * Self.second)
                    now += wait
                }
                // Everything sent so far fits in the time it took, plus the bucket and one message.
                let seconds = Double(now) / Double(Self.second)
                #expect(Double(sent + 1) <= Double(messageRate) * (seconds + 1) + 1)
                if byteRate > 0 {
                    #expect(Double(bytes) <= Double(byteRate) * (seconds + 1) + Double(payload))
                }
            }
        }
    }
}

@Suite struct CredentialCheckSlotsTests {
    @Test func boundsChecksPerAddressAndOverall() {
        var slots = CredentialCheckSlots(overall: 3, perAddress: 2)
        let admissions = ["10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"].map { slots.admit($0) }
        #expect(admissions == [nil, nil, .address, nil, .overall])
        #expect(slots.inFlight == 3)
        slots.release("10.0.0.1")
        let again = slots.admit("10.0.0.3")
        #expect(again == nil)
        for address in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] { slots.release(address) }
        #expect(slots.inFlight == 0)
        #expect(slots.addresses == 0, "finished addresses leave no entry behind")
    }

    @Test func releasingAnUnknownAddressChangesNothing() {
        var slots = CredentialCheckSlots(overall: 1, perAddress: 1)
        let first = slots.admit("a")
        slots.release("b")
        let second = slots.admit("c")
        #expect(first == nil && second == .overall)
        #expect(slots.inFlight == 1)
    }
}

@Suite struct LogThrottleTests {
    @Test func oneLinePerIntervalCountingWhatWasSkipped() {
        var throttle = LogThrottle(interval: 60)
        let lines = [1000, 1010, 1059, 1060, 1061].map { throttle.occurred(now: $0) }
        #expect(lines == [1, nil, nil, 3, nil])
    }
}

@Suite struct DescriptorBudgetTests {
    @Test func leavesAReserveForTheRestOfTheProcess() {
        let small = DescriptorBudget(limit: 64, inUse: 24)
        #expect(small.reserve == 36)
        #expect(small.connections == 4)
        let typical = DescriptorBudget(limit: 20_000, inUse: 30)
        #expect(typical.connections == 20_000 - 30 - typical.reserve)
        #expect(typical.connections > 10_000, "the default max_connections fits under these machines' limit")
        #expect(DescriptorBudget(limit: 40, inUse: 30).connections == 0)
    }
}

@Suite struct StagedPacketsTests {
    @Test func countsBytesAndForgetsThemWhenTaken() {
        var staged = StagedPackets()
        let packet = PublishPacket(topic: "t", payload: ByteBuffer(repeating: 0, count: 100), qos: .atMostOnce)
        staged.append(.publish(packet), size: StagedPackets.estimatedSize(of: packet))
        staged.append(.pubRel(PubAckPacket(packetIdentifier: 1)), size: 4)
        #expect(staged.bytes == 100 + 1 + 16 + 4)
        let taken = staged.take()
        #expect(taken.count == 2 && staged.isEmpty && staged.bytes == 0)
        staged.putBack(taken)
        #expect(staged.bytes == 121)
        staged.removeAll()
        #expect(staged.bytes == 0)
    }
}
