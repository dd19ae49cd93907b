import Synchronization

/// Waits for several durable writes of one message (forward rules, persistent sessions,
/// the retained store) and reports the worst outcome once all of them answered.
///
/// `expectWrite()` is called once per write before the write is submitted, then `seal()` once no
/// more writes will be added; the completion runs after `seal()` and the last answer, on
/// whichever thread comes last. If nothing was expected, `seal()` reports false and the
/// completion never runs: the caller acknowledges at once.
final class DurabilityJoin: Sendable {
    private struct State {
        var expected = 0
        var answered = 0
        var sealed = false
        var outcome = DurableOutcome.stored
    }

    private let state = Mutex(State())
    private let completion: @Sendable (DurableOutcome) -> Void

    init(completion: @escaping @Sendable (DurableOutcome) -> Void) {
        self.completion = completion
    }

    /// Registers one more write and returns the callback that write must answer through.
    func expectWrite() -> @Sendable (DurableOutcome) -> Void {
        state.withLock { $0.expected += 1 }
        return { outcome in self.complete(outcome) }
    }

    /// The answer of one expected write.
    func complete(_ outcome: DurableOutcome) {
        let finished: DurableOutcome? = state.withLock { state in
            state.answered += 1
            state.outcome = state.outcome.worse(outcome)
            return state.sealed && state.answered == state.expected ? state.outcome : nil
        }
        if let finished { completion(finished) }
    }

    /// Ends registration; returns whether any write was expected (and so the completion will run).
    func seal() -> Bool {
        let (awaited, finished): (Bool, DurableOutcome?) = state.withLock { state in
            state.sealed = true
            guard state.expected > 0 else { return (false, nil) }
            return (true, state.answered == state.expected ? state.outcome : nil)
        }
        if let finished { completion(finished) }
        return awaited
    }
}
