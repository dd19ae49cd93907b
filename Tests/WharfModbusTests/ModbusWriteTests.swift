import PropertyBased
import Testing
import WharfModbus

@Suite struct ModbusWriteTests {
    private func parse(_ text: String) -> ModbusCommandValue? {
        try? ModbusCommandValue.parse(Array(text.utf8)).get()
    }

    private func writable(
        _ type: ModbusValueType, table: ModbusTable = .holding, address: Int = 0,
        order: ModbusWordOrder = .abcd, configure: (inout ModbusPointConfig) -> Void = { _ in }
    ) -> ModbusPointConfig {
        point(type, table: table, address: address, order: order) {
            $0.writable = true
            configure(&$0)
        }
    }

    private func make(_ command: ModbusCommandValue, _ point: ModbusPointConfig) -> Result<
        ModbusWrite, ModbusWriteError
    > {
        ModbusWrite.make(command, for: point).map(\.write)
    }

    @Test func parsesBareAndWrappedValues() {
        #expect(parse("12.5") == .number(12.5))
        #expect(parse("12") == .integer(12))
        #expect(parse("-3") == .integer(-3))
        #expect(parse("18446744073709551615") == .unsigned(UInt64.max))
        #expect(parse("true") == .bool(true))
        #expect(parse("\"text\"") == .text("text"))
        #expect(parse(#"{"value": false}"#) == .bool(false))
        #expect(parse(#"{"value": 7.25, "note": "x"}"#) == .number(7.25))
        #expect(parse("") == nil)
        #expect(parse("{") == nil)
        #expect(parse(#"{"other": 1}"#) == nil)
        #expect(parse("[1]") == nil)
        #expect(parse("null") == nil)
    }

    @Test func refusesNonWritablePoints() {
        let readOnly = point(.uint16)
        #expect(make(.integer(1), readOnly) == .failure(ModbusWriteError("point 'p' is not writable")))
    }

    @Test func writesCoilsAndRegisterBits() {
        #expect(
            make(.bool(true), writable(.bool, table: .coil, address: 9)) == .success(.coil(address: 9, value: true)))
        #expect(
            make(.bool(false), writable(.bool, address: 4) { $0.bit = 3 })
                == .success(.registerBit(address: 4, bit: 3, value: false)))
        #expect((try? make(.integer(1), writable(.bool, table: .coil)).get()) == nil)
    }

    @Test func writesIntegersInEveryWidthAndOrder() {
        #expect(make(.integer(-2), writable(.int16, address: 3)) == .success(.registers(address: 3, values: [0xFFFE])))
        #expect(make(.integer(65535), writable(.uint16)) == .success(.registers(address: 0, values: [0xFFFF])))
        #expect(
            make(.integer(0x1234_5678), writable(.int32, order: .cdab))
                == .success(.registers(address: 0, values: [0x5678, 0x1234])))
        #expect(
            make(.integer(-1), writable(.int64, order: .dcba))
                == .success(.registers(address: 0, values: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])))
        #expect(
            make(.unsigned(UInt64.max), writable(.uint64))
                == .success(.registers(address: 0, values: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])))
        #expect(make(.number(12), writable(.uint16)) == .success(.registers(address: 0, values: [12])))
    }

    @Test func checksTypeLimits() {
        #expect(
            make(.integer(40000), writable(.int16))
                == .failure(ModbusWriteError("value 40000 is out of range for int16 (-32768 to 32767)")))
        #expect((try? make(.integer(-1), writable(.uint16)).get()) == nil)
        #expect((try? make(.integer(65536), writable(.uint16)).get()) == nil)
        #expect((try? make(.integer(Int64(UInt32.max) + 1), writable(.uint32)).get()) == nil)
        #expect((try? make(.integer(-1), writable(.uint64)).get()) == nil)
        #expect((try? make(.unsigned(UInt64(Int64.max) + 1), writable(.int64)).get()) == nil)
        #expect((try? make(.number(1e39), writable(.float32)).get()) == nil)
        #expect(
            make(.number(12.5), writable(.int16))
                == .failure(ModbusWriteError("int16 takes whole numbers, got 12.5")))
    }

    @Test func checksMinAndMaxAfterTypeLimits() {
        let bounded = writable(.uint16) {
            $0.min = 0
            $0.max = 250
        }
        #expect(make(.integer(250), bounded) == .success(.registers(address: 0, values: [250])))
        #expect(make(.integer(251), bounded) == .failure(ModbusWriteError("value 251 is above the maximum 250")))
        #expect(
            make(.number(-0.5), writable(.float32) { $0.min = 0 })
                == .failure(ModbusWriteError("value -0.5 is below the minimum 0")))
        #expect(
            make(.integer(70000), bounded)
                == .failure(ModbusWriteError("value 70000 is out of range for uint16 (0 to 65535)")))
    }

    @Test func invertsScaleAndOffset() {
        let scaled = writable(.int16) {
            $0.scale = 0.1
            $0.offset = -40
        }
        #expect(make(.number(231.4), scaled) == .success(.registers(address: 0, values: [2714])))
        #expect(make(.integer(-40), scaled) == .success(.registers(address: 0, values: [0])))
        #expect(make(.number(-3000), scaled) == .success(.registers(address: 0, values: [UInt16(bitPattern: -29600)])))
        #expect((try? make(.number(3300), scaled).get()) == nil)
        let float = writable(.float32, order: .cdab) { $0.scale = 2 }
        let bits = Float(6.25).bitPattern
        #expect(
            make(.number(12.5), float)
                == .success(.registers(address: 0, values: [UInt16(bits & 0xFFFF), UInt16(bits >> 16)])))
        let double = writable(.float64)
        let doubleBits = (12.5).bitPattern
        #expect(
            make(.number(12.5), double)
                == .success(
                    .registers(
                        address: 0,
                        values: (0..<4).map { UInt16(truncatingIfNeeded: doubleBits >> (48 - 16 * UInt64($0))) })))
    }

    @Test func writesStrings() {
        let text = writable(.string) { $0.length = 2 }
        #expect(make(.text("AB"), text) == .success(.registers(address: 0, values: [0x4142, 0])))
        #expect(
            make(.text("ABCDE"), text)
                == .failure(ModbusWriteError("text of 5 characters is too long for point 'p' (at most 4)")))
        #expect((try? make(.text("é"), text).get()) == nil)
        #expect((try? make(.integer(1), text).get()) == nil)
    }

    @Test func echoesTheRequestedValue() throws {
        let result = try ModbusWrite.make(.number(12.5), for: writable(.float32)).get()
        #expect(result.echo == .number(12.5))
    }

    @Test func writtenRegistersDecodeToTheWrittenValue() async {
        let types: [ModbusValueType] = [.int16, .uint16, .int32, .uint32, .int64, .uint64]
        let input = zip(Gen.int(in: 0...5), Gen.int64(in: Int64.min...Int64.max), Gen.bool, Gen.bool)
        await propertyCheck(count: 300, input: input) { typeIndex, bits, swapBytes, swapWords in
            let type = types[typeIndex]
            let target = writable(
                type,
                order: type.rawValue.hasSuffix("16")
                    ? .abcd : ModbusWordOrder(swapBytes: swapBytes, swapWords: swapWords))
            // The random bits narrowed to the type's range, so that every case writes and reads
            // back; the bits themselves are refused where they do not fit the type.
            let (command, expected) = Self.inRange(bits, for: type)
            if Int128(bits) != expected {
                #expect((try? make(.integer(bits), target).get()) == nil, "\(bits) written to \(type)")
            }
            guard case .success(.registers(_, let words)) = make(command, target) else {
                Issue.record("write of \(command) to \(type) refused")
                return
            }
            switch ModbusCodec.decode(registers: words, for: target) {
            case .integer(let number): #expect(Int128(number) == expected, "\(type)")
            case .unsigned(let number): #expect(Int128(number) == expected, "\(type)")
            case let other: Issue.record("\(type) decoded as \(other)")
            }
        }
    }

    /// `bits` truncated to `type`'s width, as the command that writes it and the value it stands for.
    private static func inRange(_ bits: Int64, for type: ModbusValueType) -> (ModbusCommandValue, Int128) {
        let value: Int128
        switch type {
        case .int16: value = Int128(Int16(truncatingIfNeeded: bits))
        case .uint16: value = Int128(UInt16(truncatingIfNeeded: bits))
        case .int32: value = Int128(Int32(truncatingIfNeeded: bits))
        case .uint32: value = Int128(UInt32(truncatingIfNeeded: bits))
        case .uint64: return (.unsigned(UInt64(bitPattern: bits)), Int128(UInt64(bitPattern: bits)))
        default: value = Int128(bits)
        }
        return (.integer(Int64(value)), value)
    }

    @Test func floatsRoundTripInEveryOrder() async {
        let input = zip(Gen.double(in: -1e12...1e12), Gen.bool, Gen.bool, Gen.bool)
        await propertyCheck(count: 300, input: input) { value, swapBytes, swapWords, wide in
            let order = ModbusWordOrder(swapBytes: swapBytes, swapWords: swapWords)
            let target = writable(wide ? .float64 : .float32, order: order)
            guard case .success(.registers(_, let words)) = make(.number(value), target) else {
                Issue.record("write of \(value) refused")
                return
            }
            let decoded = ModbusCodec.decode(registers: words, for: target).doubleValue ?? .nan
            let expected = wide ? value : Double(Float(value))
            #expect(abs(decoded - expected) <= abs(expected) * 1e-6)
        }
    }

    @Test func scaledWritesReadBackWithinHalfAStep() async {
        let input = zip(Gen.int(in: -30_000...30_000), Gen.int(in: 1...4), Gen.int(in: -100...100))
        await propertyCheck(count: 300, input: input) { raw, decimals, offset in
            var scale = 1.0
            for _ in 0..<decimals { scale /= 10 }
            let target = writable(.int16) {
                $0.scale = scale
                $0.offset = Double(offset)
            }
            let value = Double(raw) * scale + Double(offset) + scale / 3
            guard case .success(.registers(_, let words)) = make(.number(value), target) else {
                Issue.record("write of \(value) refused")
                return
            }
            let decoded = ModbusCodec.decode(registers: words, for: target).doubleValue ?? .nan
            #expect(abs(decoded - value) <= scale / 2 + 1e-9)
        }
    }
}
