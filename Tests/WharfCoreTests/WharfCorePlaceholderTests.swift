import Testing
@testable import WharfCore

@Test func WharfCoreModuleLoads() {}
