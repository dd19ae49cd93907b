import Testing
@testable import MQTTCodec

@Test func MQTTCodecModuleLoads() {}
