import Testing
import WharfModbus

@Suite struct ModbusPayloadTests {
    /// 2026-11-22T00:19:23.123Z
    private let stamp: Int64 = 1_795_306_763_123

    @Test func formatsTimestamps() {
        #expect(ModbusPayload.timestamp(stamp) == "2026-11-22T00:19:23.123Z")
        #expect(ModbusPayload.timestamp(0) == "1970-01-01T00:00:00.000Z")
        #expect(ModbusPayload.timestamp(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(ModbusPayload.timestamp(-1) == "1969-12-31T23:59:59.999Z")
        #expect(ModbusPayload.timestamp(4_102_444_799_999) == "2099-12-31T23:59:59.999Z")
    }

    @Test func rendersReadings() {
        #expect(
            ModbusPayload.reading(.number(231.4), unit: "V", at: stamp)
                == #"{"value":231.4,"unit":"V","quality":"good","timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(
            ModbusPayload.reading(.integer(-7), unit: nil, at: stamp)
                == #"{"value":-7,"quality":"good","timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(
            ModbusPayload.reading(.unsigned(UInt64.max), unit: nil, at: 0).hasPrefix(#"{"value":18446744073709551615,"#)
        )
        #expect(ModbusPayload.reading(.number(230), unit: nil, at: 0).hasPrefix(#"{"value":230,"#))
        #expect(ModbusPayload.reading(.number(1e20), unit: nil, at: 0).hasPrefix(#"{"value":1e+20,"#))
        #expect(ModbusPayload.reading(.bool(true), unit: nil, at: 0).hasPrefix(#"{"value":true,"#))
        #expect(
            ModbusPayload.reading(.text("a\"b\\c\n\u{1}"), unit: nil, at: 0).hasPrefix(#"{"value":"a\"b\\c\n\u0001","#))
    }

    @Test func rendersNaNAsBadNull() {
        #expect(
            ModbusPayload.reading(.number(.nan), unit: "V", at: stamp)
                == #"{"value":null,"unit":"V","quality":"bad","timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(ModbusPayload.reading(.number(.infinity), unit: nil, at: 0).contains(#""value":null,"quality":"bad""#))
    }

    @Test func rendersFailuresStatusAndResults() {
        #expect(
            ModbusPayload.failedReading(error: "timeout", at: stamp)
                == #"{"value":null,"quality":"bad","error":"timeout","timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(
            ModbusPayload.status(online: true, reason: "ignored", at: stamp)
                == #"{"state":"online","timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(
            ModbusPayload.status(online: false, reason: "connection refused", at: stamp)
                == #"{"state":"offline","reason":"connection refused","timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(
            ModbusPayload.writeResult(.success(.number(12.5)), at: stamp)
                == #"{"ok":true,"value":12.5,"timestamp":"2026-11-22T00:19:23.123Z"}"#)
        #expect(
            ModbusPayload.writeResult(.failure(ModbusWriteError("point 'voltage' is not writable")), at: stamp)
                == #"{"ok":false,"error":"point 'voltage' is not writable","timestamp":"2026-11-22T00:19:23.123Z"}"#)
    }

    @Test func expandsTopics() {
        #expect(
            ModbusTopics.expand("a/{adapter}/{device}/{point}/set", adapter: "plant", device: "m1", point: "v")
                == "a/plant/m1/v/set")
        #expect(ModbusTopics.expand("devices/{device}/$status", adapter: "plant", device: "m1") == "devices/m1/$status")
    }
}
