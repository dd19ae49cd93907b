import AdapterKit
import Testing

@testable import WharfModbus

@Suite struct ModbusHealthTests {
    @Test func summarisesDevices() {
        #expect(ModbusHealthBoard.health([("a", .online), ("b", .online)]) == .healthy)
        #expect(ModbusHealthBoard.health([("a", .online), ("b", .starting)]) == .starting)
        #expect(
            ModbusHealthBoard.health([
                ("a", .online), ("b", .offline("timeout")), ("c", .offline("connection refused")),
            ])
                == .degraded("2 of 3 devices offline: b (timeout), c (connection refused)"))
        #expect(
            ModbusHealthBoard.health([("a", .offline("timeout"))]) == .failed("all 1 devices offline: a (timeout)"))
    }

    @Test func theBoardTracksStates() {
        let board = ModbusHealthBoard(devices: ["a", "b"])
        #expect(board.health == .stopped)
        board.setRunning(true)
        #expect(board.health == .starting)
        board.set("a", .online)
        board.set("b", .online)
        #expect(board.health == .healthy)
        board.set("b", .offline("timeout"))
        #expect(board.health == .degraded("1 of 2 devices offline: b (timeout)"))
    }

    @Test func classifiesLibmodbusErrors() {
        #expect(ModbusConnection.classify(110).kind == .timeout)
        #expect(ModbusConnection.classify(111) == ModbusIOError(.connection, "connection refused"))
        #expect(ModbusConnection.classify(112_345_678 + 2) == ModbusIOError(.exception, "illegal data address"))
        #expect(ModbusConnection.classify(112_345_678 + 12).kind == .decode)
    }
}
