import Testing

@testable import WharfPlugins

@Suite("Log budget")
struct LogBudgetTests {
    @Test("a burst passes, then the rate; the next allowed line says how many were left out")
    func burstThenRate() {
        var budget = LogBudget(capacity: 3, perSecond: 2)
        let start: UInt64 = 1_000_000_000
        for _ in 0..<3 { #expect(budget.allow(now: start).allowed) }
        #expect(!budget.allow(now: start).allowed)
        #expect(!budget.allow(now: start).allowed)
        let later = budget.allow(now: start + 500_000_000)
        #expect(later.allowed && later.suppressedBefore == 2)
        #expect(!budget.allow(now: start + 500_000_000).allowed)
    }
}
