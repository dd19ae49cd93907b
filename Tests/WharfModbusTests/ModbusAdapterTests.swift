import Testing
import WharfModbus

@Test func typeName() {
    #expect(ModbusAdapter.typeName == "modbus")
}
