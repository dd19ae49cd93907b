import Testing

@testable import Uplink

@Test func UplinkModuleLoads() {}
