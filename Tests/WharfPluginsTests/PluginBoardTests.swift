import AdapterKit
import Testing

@testable import WharfPlugins

@Suite("Plugin board")
struct PluginBoardTests {
    @Test("a waiter whose condition already holds returns at once")
    func alreadyTrue() async {
        let board = PluginBoard()
        board.update { $0.publishes = 5 }
        let status = await board.status { $0.publishes >= 5 }
        #expect(status.publishes == 5)
    }

    @Test("a waiter wakes at the first change that meets its condition, with the status of that change")
    func wakesOnChange() async {
        let board = PluginBoard()
        async let waited = board.status { $0.publishes >= 3 }
        // The waiter may register before or after any of these; either way it must see 3.
        for _ in 0..<3 {
            await Task.yield()
            board.update { $0.publishes += 1 }
        }
        let status = await waited
        #expect(status.publishes == 3)
        board.update { $0.publishes += 1 }
        #expect(board.read().publishes == 4)
    }

    @Test("several waiters wake independently")
    func severalWaiters() async {
        let board = PluginBoard()
        async let first = board.status { $0.nacks >= 1 }
        async let second = board.status { $0.state == "running" }
        await Task.yield()
        board.update { $0.nacks = 1 }
        board.update { $0.state = "running" }
        let (a, b) = await (first, second)
        #expect(a.nacks == 1)
        #expect(b.state == "running")
    }

    @Test("cancelling a waiter returns the status as it is")
    func cancelled() async {
        let board = PluginBoard()
        board.update { $0.publishes = 2 }
        let task = Task { await board.status { $0.publishes >= 1_000 } }
        task.cancel()
        let status = await task.value
        #expect(status.publishes == 2)
    }
}
