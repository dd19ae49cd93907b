import Testing
@testable import WharfConfig

@Test func WharfConfigModuleLoads() {}
