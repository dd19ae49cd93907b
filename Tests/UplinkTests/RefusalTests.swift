import MQTTCodec
import NIOCore
import PropertyBased
import Testing
import WharfCore

@testable import Uplink

@Suite struct RefusalClassifierTests {
    @Test func successCodesAreNoRefusal() {
        let classifier = RefusalClassifier()
        for code in UInt8(0)..<0x80 { #expect(classifier.classify(code) == nil) }
    }

    @Test func quotaBusyShutdownRateAndReceiveMaximumAreTransient() {
        let classifier = RefusalClassifier()
        for code: UInt8 in [0x97, 0x89, 0x8B, 0x96, 0x93] {
            #expect(classifier.classify(code) == .transient)
            #expect(classifier.isTransientDisconnect(code))
        }
    }

    @Test func notAuthorizedTopicInvalidTooLargeAndPayloadFormatArePermanent() {
        let classifier = RefusalClassifier(extraTransient: [0x80, 0x83])
        for code: UInt8 in [0x87, 0x90, 0x95, 0x99, 0x84, 0x8F, 0xA2] {
            #expect(classifier.classify(code) == .permanent)
        }
        #expect(!classifier.isTransientDisconnect(0x87))
        #expect(!classifier.isTransientDisconnect(0x00))
    }

    @Test func unspecifiedAndImplementationSpecificArePermanentUnlessConfigured() {
        #expect(RefusalClassifier().classify(0x80) == .permanent)
        #expect(RefusalClassifier().classify(0x83) == .permanent)
        let configured = RefusalClassifier(extraTransient: [0x80, 0x83])
        #expect(configured.classify(0x80) == .transient)
        #expect(configured.classify(0x83) == .transient)
        // A transient DISCONNECT is only one of the built-in codes.
        #expect(!configured.isTransientDisconnect(0x80))
    }

    @Test func everyCodeFrom0x80IsARefusal() async {
        await propertyCheck(input: Gen<UInt8>.uint8(in: 0x80...0xFF)) { code in
            #expect(RefusalClassifier().classify(code) != nil)
        }
    }
}

@Suite struct RefusalThrottleTests {
    let policy = BackoffPolicy(base: .milliseconds(100), cap: .seconds(10))
    let second: UInt64 = 1_000_000_000

    @Test func aRefusalHalvesTheWindowAndPausesWithinTheBackoffCeiling() {
        var throttle = RefusalThrottle(maxWindow: 16, policy: policy, seed: 7)
        #expect(!throttle.isThrottling(at: 0))
        let end = throttle.refused(at: second)
        #expect(throttle.window == 8)
        #expect(end >= second && end <= second + 100_000_000)
        #expect(throttle.pauses == 1)
        #expect(throttle.isThrottling(at: second))
    }

    @Test func refusalsDuringAPauseAnswerEarlierPublishesAndCountOnce() {
        var throttle = RefusalThrottle(
            maxWindow: 16, policy: BackoffPolicy(base: .seconds(1), cap: .seconds(1)), seed: 3)
        let end = throttle.refused(at: 0)
        guard end > 1 else { return }
        #expect(throttle.refused(at: end - 1) == end)
        #expect(throttle.window == 8 && throttle.pauses == 1)
        #expect(throttle.throttledNanoseconds == end)
    }

    @Test func continuingRefusalsShrinkToOneAndLengthenTheCeiling() {
        var throttle = RefusalThrottle(maxWindow: 100, policy: policy, seed: 11)
        var now: UInt64 = 0
        var longest: UInt64 = 0
        for _ in 0..<12 {
            let end = throttle.refused(at: now)
            longest = max(longest, end - now)
            now = end
        }
        #expect(throttle.window == 1)
        #expect(throttle.pauses == 12)
        // Past the first draws the ceiling reaches the cap, so some pause exceeds the base.
        #expect(longest > 100_000_000 && longest <= 10 * second)
        #expect(throttle.throttledNanoseconds == now)
    }

    @Test func successesGrowTheWindowBackByOnePerWindowAccepted() {
        var throttle = RefusalThrottle(maxWindow: 8, policy: policy, seed: 5)
        let end = throttle.refused(at: 0)
        throttle.refused(at: end)
        #expect(throttle.window == 2)
        let after = end + 20 * second
        throttle.accepted(1, at: after)
        #expect(throttle.window == 2)
        throttle.accepted(1, at: after)
        #expect(throttle.window == 3)
        throttle.accepted(3 + 4 + 5 + 6, at: after)
        #expect(throttle.window == 7)
        throttle.accepted(100, at: after)
        #expect(throttle.window == 8 && !throttle.isThrottling(at: after))
    }

    @Test func aSuccessAfterThePauseStartsTheBackoffAgain() {
        let fixed = BackoffPolicy(base: .seconds(1), cap: .seconds(64))
        var throttle = RefusalThrottle(maxWindow: 4, policy: fixed, seed: 1)
        var now: UInt64 = 0
        for _ in 0..<6 { now = max(now + 1, throttle.refused(at: now)) }
        throttle.accepted(1, at: now + 100 * second)
        // The next pause is drawn under the base again.
        let start = now + 200 * second
        #expect(throttle.refused(at: start) - start <= second)
    }
}

@Suite struct InflightWindowRefusalTests {
    @Test func aRefusedRecordGoesOutAgainBeforeAnythingNewerWithoutDUP() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link(sessionPresent: true))
        let first = window.admit(records(1...4), now: 0)
        #expect(first.sequences == [1, 2, 3, 4])
        let ids = first.identifiers
        #expect(window.refuse(ids[2]) == 3)
        #expect(window.refuse(ids[1]) == 2)
        #expect(window.acknowledge(ids[3]) == .record(4))
        #expect(window.inFlight == 1)
        #expect(window.pendingResends == 2)
        // Nothing newer is read or admitted while refused records wait.
        #expect(window.readLimit(batch: 256) == 0)
        #expect(window.admit(records(5...6), now: 0).isEmpty)
        let again = window.takeResends(now: 0)
        #expect(again.sequences == [2, 3])
        #expect(again.publishes.allSatisfy { !$0.dup })
        #expect(window.unacknowledged == [1, 2, 3])
        #expect(window.admit(records(5...6), now: 0).sequences == [5, 6])
    }

    @Test func aRefusedRecordLeftAtAReconnectIsResentInOrder() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let ids = window.admit(records(1...3), now: 0).identifiers
        _ = window.refuse(ids[0])
        window.disconnected()
        window.connected(link(sessionPresent: true))
        let resent = window.takeResends(now: 0)
        #expect(resent.sequences == [1, 2, 3])
        #expect(resent.publishes.map(\.dup) == [false, true, true])
    }

    @Test func theThrottleLimitBoundsRecordsButNotTheStatus() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        window.setLimit(2)
        #expect(window.readLimit(batch: 256) == 2)
        #expect(window.admit(records(1...5), now: 0).sequences == [1, 2])
        #expect(window.readLimit(batch: 256) == 0)
        #expect(window.reserveStatus() != nil)
        window.setLimit(0)
        #expect(window.limit == 1)
    }

    @Test func everyRecordIsAcknowledgedOnceWhateverIsRefused() async {
        await propertyCheck(input: Gen.bool.array(of: 1...40)) { refusals in
            var window = InflightWindow(maxInflight: 8)
            window.connected(link())
            let total = Int64(refusals.count)
            var next: Int64 = 1
            var delivered: [Int64] = []
            var answers = refusals[...]
            var rounds = 0
            while delivered.count < refusals.count && rounds < 10_000 {
                rounds += 1
                var batch = window.takeResends(now: 0)
                if batch.publishes.isEmpty && next <= total {
                    batch = window.admit(records(next...total), now: 0)
                    next = window.lastRead + 1
                }
                for packet in batch.publishes {
                    guard let identifier = packet.packetIdentifier else { continue }
                    if answers.popFirst() ?? false {
                        _ = window.refuse(identifier)
                    } else if case .record(let sequence) = window.acknowledge(identifier) {
                        delivered.append(sequence)
                    }
                }
            }
            #expect(delivered.sorted() == Array(1...total))
            #expect(Set(delivered).count == delivered.count)
        }
    }
}
