import PropertyBased
import Testing

@testable import WharfCore

@Suite struct BackoffTests {
    @Test func defaultsFollowTheDesign() {
        let policy = BackoffPolicy()
        #expect(policy.base == .seconds(1))
        #expect(policy.cap == .seconds(120))
        #expect(policy.stableAfter == .seconds(30))
        #expect(BackoffPolicy.standard == policy)
        #expect(Backoff(policy: policy).attempt == 0)
    }

    @Test func ceilingsDoubleUpToTheCap() {
        var backoff = Backoff(policy: BackoffPolicy())
        var rng = SplitMix64(seed: 1)
        var ceilings: [Duration] = []
        for _ in 0..<10 {
            ceilings.append(backoff.currentCeiling)
            _ = backoff.nextDelay(using: &rng)
        }
        #expect(ceilings == [1, 2, 4, 8, 16, 32, 64, 120, 120, 120].map { Duration.seconds($0) })
        #expect(backoff.attempt == 10)
    }

    @Test func delaysStayWithinTheCeiling() {
        var backoff = Backoff(policy: BackoffPolicy(base: .milliseconds(100), cap: .seconds(5)))
        var rng = SplitMix64(seed: 7)
        var sawSmall = false
        var sawLarge = false
        for _ in 0..<2_000 {
            let ceiling = backoff.currentCeiling
            let delay = backoff.nextDelay(using: &rng)
            #expect(delay >= .zero && delay <= ceiling)
            if ceiling == .seconds(5) {
                sawSmall = sawSmall || delay < .seconds(1)
                sawLarge = sawLarge || delay > .seconds(4)
            }
        }
        // Full jitter spreads over the whole range, not just near the ceiling.
        #expect(sawSmall && sawLarge)
    }

    @Test func largeAttemptsNeitherOverflowNorTrap() {
        var backoff = Backoff(policy: BackoffPolicy())
        var rng = SplitMix64(seed: 3)
        for _ in 0..<1_000 { _ = backoff.nextDelay(using: &rng) }
        #expect(backoff.attempt == 1_000)
        #expect(backoff.currentCeiling == .seconds(120))
        #expect(backoff.nextDelay(using: &rng) <= .seconds(120))

        let policy = BackoffPolicy()
        #expect(policy.ceiling(forAttempt: Int.max) == .seconds(120))
        #expect(policy.ceiling(forAttempt: -5) == .seconds(1))
        let huge = BackoffPolicy(base: .seconds(1), cap: .seconds(Int64.max) * 10)
        #expect(huge.ceiling(forAttempt: 1_000) == .seconds(Int64.max) * 10)
        #expect(huge.ceiling(forAttempt: 3) == .seconds(8))
    }

    @Test func degeneratePoliciesGiveZeroOrCappedDelays() {
        var rng = SplitMix64(seed: 5)
        var zeroBase = Backoff(policy: BackoffPolicy(base: .zero))
        #expect(zeroBase.nextDelay(using: &rng) == .zero)
        var negative = Backoff(policy: BackoffPolicy(base: .seconds(-1), cap: .seconds(-1)))
        #expect(negative.nextDelay(using: &rng) == .zero)
        let capBelowBase = BackoffPolicy(base: .seconds(10), cap: .seconds(3))
        #expect(capBelowBase.ceiling(forAttempt: 0) == .seconds(3))
    }

    @Test func attemptsResetOnlyAfterAStablePeriod() {
        let second: UInt64 = 1_000_000_000
        var backoff = Backoff(policy: BackoffPolicy())
        var rng = SplitMix64(seed: 9)
        for _ in 0..<4 { _ = backoff.nextDelay(using: &rng) }

        // Up for just under 30 s: a flap, keep backing off.
        backoff.connected(at: 100 * second)
        #expect(backoff.connectedSince == 100 * second)
        backoff.connectionLost(at: 130 * second - 1)
        #expect(backoff.attempt == 4)
        #expect(backoff.connectedSince == nil)

        // A loss without a connection changes nothing.
        backoff.connectionLost(at: 500 * second)
        #expect(backoff.attempt == 4)

        // A clock that seems to go backwards is not taken as a stable period.
        backoff.connected(at: 600 * second)
        backoff.connectionLost(at: 10 * second)
        #expect(backoff.attempt == 4)

        // Up for exactly 30 s: stable.
        backoff.connected(at: 1_000 * second)
        backoff.connectionLost(at: 1_030 * second)
        #expect(backoff.attempt == 0)
        #expect(backoff.currentCeiling == .seconds(1))

        _ = backoff.nextDelay(using: &rng)
        backoff.connected(at: 2_000 * second)
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.connectedSince == nil)
    }

    @Test func sameSeedSameDelays() {
        func delays(seed: UInt64) -> [Duration] {
            var backoff = Backoff(policy: BackoffPolicy())
            var rng = SplitMix64(seed: seed)
            return (0..<20).map { _ in backoff.nextDelay(using: &rng) }
        }
        #expect(delays(seed: 42) == delays(seed: 42))
        #expect(delays(seed: 42) != delays(seed: 43))
    }

    @Test func splitMix64MatchesTheReferenceSequence() {
        // The reference implementation's output for seed 1234567.
        var rng = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [
            6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
            4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
        ]
        #expect((0..<5).map { _ in rng.next() } == expected)
    }

    /// min(cap, base · 2^attempt) computed the obvious way, in attoseconds.
    static func referenceCeiling(base: Duration, cap: Duration, attempt: Int) -> Duration {
        var ceiling = base.attoseconds
        for _ in 0..<attempt where ceiling < cap.attoseconds { ceiling *= 2 }
        return Duration(attoseconds: min(ceiling, cap.attoseconds))
    }

    @Test func randomPoliciesKeepDelaysWithinTheirCeilings() async {
        let input = zip(
            Gen.int64(in: 0...10_000_000_000),
            Gen.int64(in: 0...300_000_000_000),
            Gen.int(in: 0...200),
            Gen.uint64(in: 0...UInt64.max)
        )
        await propertyCheck(count: 300, input: input) { baseNanos, capNanos, attempts, seed in
            let policy = BackoffPolicy(base: .nanoseconds(baseNanos), cap: .nanoseconds(capNanos))
            var backoff = Backoff(policy: policy)
            var rng = SplitMix64(seed: seed)
            var previous = Duration.zero
            for attempt in 0..<attempts {
                let ceiling = backoff.currentCeiling
                #expect(ceiling == Self.referenceCeiling(base: policy.base, cap: policy.cap, attempt: attempt))
                #expect(ceiling >= previous)
                let delay = backoff.nextDelay(using: &rng)
                #expect(delay >= .zero && delay <= ceiling)
                previous = ceiling
            }
            #expect(backoff.attempt == attempts)
        }
    }
}
