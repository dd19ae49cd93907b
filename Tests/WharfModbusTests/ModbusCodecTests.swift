import PropertyBased
import Testing
import WharfModbus

@Suite struct ModbusCodecTests {
    @Test func decodes16BitTypes() {
        #expect(ModbusCodec.decode(registers: [0xFFFE], for: point(.int16)) == .integer(-2))
        #expect(ModbusCodec.decode(registers: [0xFFFE], for: point(.uint16)) == .unsigned(65534))
        #expect(ModbusCodec.decode(registers: [0x8000], for: point(.int16)) == .integer(-32768))
        #expect(ModbusCodec.decode(registers: [0x7FFF], for: point(.int16)) == .integer(32767))
    }

    @Test(arguments: [
        (ModbusWordOrder.abcd, [UInt16(0x1234), 0x5678]),
        (.badc, [0x3412, 0x7856]),
        (.cdab, [0x5678, 0x1234]),
        (.dcba, [0x7856, 0x3412]),
    ])
    func decodes32BitOrders(order: ModbusWordOrder, words: [UInt16]) {
        #expect(ModbusCodec.decode(registers: words, for: point(.uint32, order: order)) == .unsigned(0x1234_5678))
        #expect(ModbusCodec.registers(raw: 0x1234_5678, width: 2, order: order) == words)
    }

    @Test(arguments: [
        (ModbusWordOrder.abcd, [UInt16(0x0102), 0x0304, 0x0506, 0x0708]),
        (.badc, [0x0201, 0x0403, 0x0605, 0x0807]),
        (.cdab, [0x0708, 0x0506, 0x0304, 0x0102]),
        (.dcba, [0x0807, 0x0605, 0x0403, 0x0201]),
    ])
    func decodes64BitOrders(order: ModbusWordOrder, words: [UInt16]) {
        let value: UInt64 = 0x0102_0304_0506_0708
        #expect(ModbusCodec.decode(registers: words, for: point(.uint64, order: order)) == .unsigned(value))
        #expect(ModbusCodec.registers(raw: value, width: 4, order: order) == words)
    }

    @Test func decodesNegativeAndExtremeIntegers() {
        #expect(ModbusCodec.decode(registers: [0xFFFF, 0xFFFF], for: point(.int32)) == .integer(-1))
        #expect(ModbusCodec.decode(registers: [0x8000, 0x0000], for: point(.int32)) == .integer(Int64(Int32.min)))
        #expect(ModbusCodec.decode(registers: [0xFFFF, 0xFFFF], for: point(.uint32)) == .unsigned(UInt64(UInt32.max)))
        #expect(ModbusCodec.decode(registers: [0x8000, 0, 0, 0], for: point(.int64)) == .integer(Int64.min))
        #expect(
            ModbusCodec.decode(registers: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], for: point(.uint64))
                == .unsigned(UInt64.max))
        #expect(ModbusCodec.decode(registers: [0xFFFF, 0xFFFE], for: point(.int32, order: .cdab)) == .integer(-65537))
    }

    @Test func decodesFloats() {
        let bits = Float(231.4).bitPattern
        let words = [UInt16(bits >> 16), UInt16(bits & 0xFFFF)]
        #expect(ModbusCodec.decode(registers: words, for: point(.float32)) == .number(231.4))
        #expect(
            ModbusCodec.decode(registers: [words[1], words[0]], for: point(.float32, order: .cdab)) == .number(231.4))
        let double = (-1.5e-7).bitPattern
        let doubleWords = (0..<4).map { UInt16(truncatingIfNeeded: double >> (48 - 16 * UInt64($0))) }
        #expect(ModbusCodec.decode(registers: doubleWords, for: point(.float64)) == .number(-1.5e-7))
    }

    @Test func decodesNaNAndInfinity() {
        let nan = ModbusCodec.decode(registers: [0x7FC0, 0x0000], for: point(.float32))
        #expect(nan.doubleValue?.isNaN == true)
        #expect(!nan.isFinite)
        let infinity = ModbusCodec.decode(registers: [0xFF80, 0x0000], for: point(.float32) { $0.scale = 2 })
        #expect(infinity == .number(-.infinity))
        #expect(!infinity.isFinite)
    }

    @Test func appliesScaleAndOffset() {
        let scaled = point(.uint16) {
            $0.scale = 0.1
            $0.offset = -40
        }
        #expect(ModbusCodec.decode(registers: [2714], for: scaled) == .number(231.4))
        #expect(ModbusCodec.decode(registers: [0], for: scaled) == .number(-40))
        let negative = point(.int16) { $0.scale = 0.01 }
        #expect(ModbusCodec.decode(registers: [UInt16(bitPattern: -1234)], for: negative) == .number(-12.34))
        let unscaled = point(.float32) { $0.offset = 0 }
        #expect(ModbusCodec.decode(registers: [0x3F80, 0], for: unscaled) == .number(1))
    }

    @Test func decodesStrings() {
        let text = point(.string) { $0.length = 4 }
        #expect(ModbusCodec.decode(registers: [0x4142, 0x4344, 0x4500, 0x0000], for: text) == .text("ABCDE"))
        #expect(ModbusCodec.decode(registers: [0x4142, 0x2020, 0x2020, 0x2020], for: text) == .text("AB"))
        let swapped = point(.string, order: .badc) { $0.length = 2 }
        #expect(ModbusCodec.decode(registers: [0x4241, 0x0043], for: swapped) == .text("ABC"))
        #expect(ModbusCodec.registers(text: "ABC", length: 2, swapBytes: true) == [0x4241, 0x0043])
        #expect(ModbusCodec.registers(text: "ABCDEF", length: 2, swapBytes: false) == [0x4142, 0x4344])
    }

    @Test func decodesBits() {
        for bit in 0..<16 {
            let flag = point(.bool) { $0.bit = bit }
            #expect(ModbusCodec.decode(registers: [UInt16(1) << UInt16(bit)], for: flag) == .bool(true))
            #expect(ModbusCodec.decode(registers: [~(UInt16(1) << UInt16(bit))], for: flag) == .bool(false))
        }
        #expect(ModbusCodec.decode(bit: 1) == .bool(true))
        #expect(ModbusCodec.decode(bit: 0) == .bool(false))
    }

    @Test func tidyRemovesScalingNoise() {
        #expect(3 * 0.1 != 0.3)
        #expect(ModbusCodec.tidy(3 * 0.1) == 0.3)
        #expect(ModbusCodec.tidy(2317 * 0.1) == 231.7)
        #expect(ModbusCodec.tidy(0.1 + 0.2) == 0.3)
        #expect(ModbusCodec.tidy(1e300) == 1e300)
        #expect(ModbusCodec.tidy(-7.5) == -7.5)
    }

    @Test func registersRoundTripEveryOrderAndWidth() async {
        let input = zip(Gen.uint64(in: 0...UInt64.max), Gen.bool, Gen.bool, Gen.bool)
        await propertyCheck(count: 300, input: input) { raw, swapBytes, swapWords, wide in
            let type: ModbusValueType = wide ? .uint64 : .uint32
            let order = ModbusWordOrder(swapBytes: swapBytes, swapWords: swapWords)
            let value = wide ? raw : raw & 0xFFFF_FFFF
            let words = ModbusCodec.registers(raw: value, width: wide ? 4 : 2, order: order)
            #expect(ModbusCodec.decode(registers: words, for: point(type, order: order)) == .unsigned(value))
        }
    }
}
