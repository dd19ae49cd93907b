import Testing
@testable import Broker

@Test func BrokerModuleLoads() {}
