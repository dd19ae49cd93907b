import PropertyBased
import Testing
import WharfCore

@testable import Uplink

private let second: UInt64 = 1_000_000_000

@Suite struct PublishRateLimiterTests {
    @Test func aNewBucketHoldsASmallBurstThenRefillsAtTheRate() {
        var limiter = PublishRateLimiter(rate: 100, now: 0)
        #expect(limiter.burst == 10)
        #expect(limiter.interval == 10_000_000)
        #expect(limiter.available(at: 0) == 10)
        limiter.take(10, at: 0)
        #expect(limiter.available(at: 0) == 0)
        #expect(limiter.available(at: 9_999_999) == 0)
        #expect(limiter.available(at: 10_000_000) == 1)
        #expect(limiter.available(at: 55_000_000) == 5)
        // Never more than the burst, however long it waited.
        #expect(limiter.available(at: 3_600 * second) == 10)
    }

    @Test(arguments: [(0.5, 1, UInt64(2_000_000_000)), (1, 1, second), (25, 2, 40_000_000), (1000, 100, 1_000_000)])
    func burstAndIntervalFollowTheRate(rate: Double, burst: Int, interval: UInt64) {
        let limiter = PublishRateLimiter(rate: rate, now: 0)
        #expect(limiter.burst == burst)
        #expect(limiter.interval == interval)
    }

    @Test func theNextTokenIsWhenOneIsAvailableAgain() {
        var limiter = PublishRateLimiter(rate: 4, now: 1_000)
        #expect(limiter.nextToken(at: 1_000) == 1_000)
        limiter.take(1, at: 1_000)
        let next = limiter.nextToken(at: 1_000)
        #expect(next == 1_000 + 250_000_000)
        #expect(limiter.available(at: next - 1) == 0)
        #expect(limiter.available(at: next) == 1)
    }

    @Test func aDebtIsPaidBeforeTheNextToken() {
        var limiter = PublishRateLimiter(rate: 10, now: 0)
        limiter.take(3, at: 0)
        #expect(limiter.available(at: 200_000_000) == 0)
        #expect(limiter.nextToken(at: 0) == 300_000_000)
        #expect(limiter.available(at: 300_000_000) == 1)
    }

    @Test func anEarlierClockReadingTakesNothingBack() {
        var limiter = PublishRateLimiter(rate: 10, now: second)
        limiter.take(1, at: second)
        #expect(limiter.available(at: second / 2) == 0)
        #expect(limiter.nextToken(at: second / 2) == second + 100_000_000)
    }

    /// A sender that takes whatever is available at random moments never exceeds `burst + t / interval`
    /// over any stretch t, and one that takes at every wake-up gets the full rate.
    @Test func noStretchOfTimeSeesMoreThanTheBurstPlusTheRate() async {
        let steps = zip(Gen.int(in: 0...300_000_000), Gen.int(in: 0...20)).array(of: 1...120)
        await propertyCheck(count: 200, input: Gen.int(in: 1...2000), steps) { rate, steps in
            var limiter = PublishRateLimiter(rate: Double(rate) / 10, now: 0)
            var now: UInt64 = 0
            var takes: [(at: UInt64, count: Int)] = []
            for (advance, wanted) in steps {
                now += UInt64(advance)
                let count = min(wanted, limiter.available(at: now))
                limiter.take(count, at: now)
                takes.append((now, count))
            }
            for start in takes.indices {
                var taken = 0
                for end in start..<takes.count {
                    taken += takes[end].count
                    let stretch = takes[end].at - takes[start].at
                    #expect(UInt64(taken) <= UInt64(limiter.burst) + stretch / limiter.interval)
                }
            }
        }
    }

    @Test func aSenderWakingAtEachNextTokenGetsTheFullRate() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...5000)) { tenths in
            var limiter = PublishRateLimiter(rate: Double(tenths) / 10, now: 0)
            var now: UInt64 = 0
            var taken = 0
            let horizon = 100 * limiter.interval
            while now <= horizon {
                let count = limiter.available(at: now)
                limiter.take(count, at: now)
                taken += count
                now = limiter.nextToken(at: now)
            }
            // The burst plus one token per interval, and not one fewer.
            #expect(taken == limiter.burst + 100)
        }
    }
}

/// How the pump spends the rate's tokens and when it asks to be woken for the next one.
@Suite struct PublishRateWakeTests {
    private func state(rate: Double?, ready: Int) -> UplinkService.SharedState {
        var state = UplinkService.SharedState(
            window: InflightWindow(maxInflight: 10),
            throttle: RefusalThrottle(maxWindow: 10, policy: BackoffPolicy(), seed: 1))
        state.rateLimiter = rate.map { PublishRateLimiter(rate: $0, now: 0) }
        if ready > 0 { state.readAhead.append(records(1...Int64(ready))) }
        return state
    }

    @Test func withoutARateNothingWaits() {
        var shared = state(rate: nil, ready: 5)
        #expect(shared.spendPublishTokens(100, allowance: .max, at: 0) == nil)
        #expect(shared.status.limits.rateWaits == 0)
    }

    @Test func tokensLeftMeanNoWake() {
        var shared = state(rate: 100, ready: 5)
        #expect(shared.spendPublishTokens(3, allowance: 10, at: 0) == nil)
        #expect(shared.rateLimiter?.available(at: 0) == 7)
    }

    @Test func spentTokensWithRecordsReadyWakeThePumpOnceForTheNextToken() {
        var shared = state(rate: 10, ready: 5)
        #expect(shared.spendPublishTokens(1, allowance: 1, at: 0) == 100_000_000)
        #expect(shared.status.limits.rateWaits == 1)
        // Another pump before the token (a PUBACK arrived) finds the wake already scheduled.
        #expect(shared.spendPublishTokens(0, allowance: 0, at: 50_000_000) == nil)
        #expect(shared.status.limits.rateWaits == 1)
        // The token came and was spent: the next wake is one interval later.
        #expect(shared.spendPublishTokens(1, allowance: 1, at: 100_000_000) == 200_000_000)
        #expect(shared.status.limits.rateWaits == 2)
    }

    @Test func spentTokensWithNothingReadyWakeNothing() {
        var shared = state(rate: 10, ready: 0)
        #expect(shared.spendPublishTokens(1, allowance: 1, at: 0) == nil)
        #expect(shared.status.limits.rateWaits == 0)
    }
}
