import Testing

@testable import Uplink

/// The order in which the uplink tries its endpoints, when it waits, and when it fails back; times are
/// injected nanoseconds.
@Suite struct EndpointSelectorTests {
    private let second: UInt64 = 1_000_000_000

    private func selector(_ count: Int, failback: Duration? = .seconds(600)) -> EndpointSelector {
        EndpointSelector(count: count, failback: failback, stableAfter: .seconds(30))
    }

    @Test func aLostLinkMovesToTheNextEndpointAtOnce() {
        var selector = selector(3)
        selector.connected(at: 0)
        #expect(selector.ended(at: 3600 * second) == .now)
        #expect(selector.current == 1)
        selector.connected(at: 3600 * second)
        #expect(selector.failovers == 1)
    }

    @Test func aFullRoundOfFailuresBacksOffThenStartsAgainAtThePreferred() {
        var selector = selector(3)
        #expect(selector.ended(at: 0) == .now)
        #expect(selector.current == 1)
        #expect(selector.ended(at: 1) == .now)
        #expect(selector.current == 2)
        #expect(selector.ended(at: 2) == .afterBackoff)
        #expect(selector.current == 0)
        #expect(selector.ended(at: 3) == .now)
        #expect(selector.failovers == 0)
    }

    @Test func aSingleEndpointBacksOffAfterEveryLossAsBefore() {
        var selector = selector(1)
        selector.connected(at: 0)
        #expect(selector.ended(at: 3600 * second) == .afterBackoff)
        #expect(selector.ended(at: 3601 * second) == .afterBackoff)
        #expect(selector.current == 0)
    }

    @Test func aStableLinkLostStartsANewRoundFromTheEndpointLost() {
        var selector = selector(2)
        // Connected to the backup for an hour, then lost: the primary is tried at once...
        #expect(selector.ended(at: 0) == .now)
        selector.connected(at: 0)
        #expect(selector.ended(at: 3600 * second) == .now)
        #expect(selector.current == 0)
        // ...and when it fails too, the round (backup lost, primary failed) is over.
        #expect(selector.ended(at: 3601 * second) == .afterBackoff)
    }

    @Test func endpointsThatAcceptAndDropAtOnceCannotMakeItSpin() {
        var selector = selector(2)
        var now: UInt64 = 0
        var backoffs = 0
        for _ in 0..<10 {
            selector.connected(at: now)
            now += second / 10
            if selector.ended(at: now) == .afterBackoff { backoffs += 1 }
        }
        #expect(backoffs == 5)
    }

    @Test func failbackIsDueOnlyOnAFallbackEndpointAfterThePeriod() {
        var selector = selector(2, failback: .seconds(600))
        selector.connected(at: 0)
        #expect(selector.failbackDeadline == nil)
        _ = selector.ended(at: 10 * second)
        selector.connected(at: 11 * second)
        #expect(selector.failbackDeadline == 611 * second)
        selector.failBack()
        #expect(selector.current == 0)
        #expect(selector.failbackDeadline == nil)
        selector.connected(at: 612 * second)
        // The return to the preferred endpoint is planned: not a failover.
        #expect(selector.failovers == 1)
    }

    @Test func failbackOffNeverFallsBack() {
        var selector = selector(2, failback: nil)
        _ = selector.ended(at: 0)
        selector.connected(at: 0)
        #expect(selector.failbackDeadline == nil)
    }

    @Test func aFailbackThatFindsThePreferredDownReturnsToTheFallbackWithoutAFailover() {
        var selector = selector(2)
        _ = selector.ended(at: 0)
        selector.connected(at: 0)
        selector.failBack()
        #expect(selector.ended(at: 600 * second) == .now)
        #expect(selector.current == 1)
        selector.connected(at: 600 * second)
        #expect(selector.failovers == 0)
    }
}
