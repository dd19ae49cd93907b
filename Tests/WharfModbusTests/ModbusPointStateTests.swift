import Testing
import WharfModbus

@Suite struct ModbusPointStateTests {
    /// What happens to each event: a reading (`.value`) or a failed read (`nil`).
    private func decisions(_ events: [ModbusValue?], mode: ModbusPublishMode, deadband: Double = 0) -> [Bool] {
        var state = ModbusPointState()
        return events.map { event in
            if let event { return state.reading(event, mode: mode, deadband: deadband) }
            return state.failure()
        }
    }

    @Test func everyPollPublishesEveryGoodReading() {
        #expect(decisions([.integer(5), .integer(5), .integer(5)], mode: .everyPoll) == [true, true, true])
    }

    @Test func onChangePublishesFirstAndChangedValuesOnly() {
        let events: [ModbusValue?] = [
            .integer(5), .integer(5), .integer(6), .bool(true), .bool(true), .text("a"), .text("a"), .text("b"),
        ]
        #expect(decisions(events, mode: .onChange) == [true, false, true, true, false, true, false, true])
    }

    @Test func deadbandComparesWithTheLastPublishedValue() {
        let events: [ModbusValue?] = [
            .number(10), .number(10.3), .number(10.5), .number(10.6), .number(10.2), .number(9.9),
        ]
        // A slow drift is measured from the last published value (10, then 10.6), not from the last reading.
        #expect(decisions(events, mode: .onChange, deadband: 0.5) == [true, false, false, true, false, true])
    }

    @Test func failuresPublishOnceAndTheNextGoodReadingAlways() {
        let events: [ModbusValue?] = [.integer(1), nil, nil, .integer(1), .integer(1), nil]
        #expect(decisions(events, mode: .onChange) == [true, true, false, true, false, true])
        #expect(decisions([nil, nil, .integer(1), nil], mode: .everyPoll) == [true, false, true, true])
    }

    @Test func tracksTheFailedState() {
        var state = ModbusPointState()
        #expect(!state.isFailed)
        _ = state.failure()
        #expect(state.isFailed)
        _ = state.reading(.integer(1), mode: .everyPoll, deadband: 0)
        #expect(!state.isFailed)
    }

    @Test func comparesSpecialValues() {
        #expect(!ModbusPointState.changed(from: .number(.nan), to: .number(.nan), deadband: 0))
        #expect(ModbusPointState.changed(from: .number(1), to: .number(.nan), deadband: 5))
        #expect(ModbusPointState.changed(from: .number(.infinity), to: .number(-.infinity), deadband: 5))
        #expect(ModbusPointState.changed(from: .integer(1), to: .text("1"), deadband: 0))
        #expect(ModbusPointState.changed(from: .unsigned(UInt64.max), to: .unsigned(UInt64.max - 1), deadband: 0))
        #expect(!ModbusPointState.changed(from: .integer(100), to: .integer(102), deadband: 2))
        #expect(ModbusPointState.changed(from: .integer(100), to: .integer(97), deadband: 2))
    }
}
