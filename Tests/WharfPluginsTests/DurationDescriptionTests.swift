import Testing

@testable import WharfPlugins

@Suite struct DurationDescriptionTests {
    @Test func durationsReadAsInTheConfiguration() {
        #expect(PluginSupervisor.describe(.seconds(30)) == "30s")
        #expect(PluginSupervisor.describe(.seconds(600)) == "10m")
        #expect(PluginSupervisor.describe(.seconds(7_200)) == "2h")
        #expect(PluginSupervisor.describe(.seconds(90)) == "90s")
        #expect(PluginSupervisor.describe(.milliseconds(250)) == "250ms")
        #expect(PluginSupervisor.describe(.milliseconds(1_500)) == "1.5s")
        #expect(PluginSupervisor.describe(.milliseconds(61_005)) == "61.005s")
        #expect(PluginSupervisor.describe(.zero) == "0s")
        #expect(PluginSupervisor.describe(.seconds(-3)) == "0s")
    }

    @Test func deadlinesSaturate() {
        #expect(PluginSupervisor.deadline(.max - 1, plus: .seconds(1)) == .max)
        #expect(PluginSupervisor.nanoseconds(.seconds(Int64.max) * 4) == .max)
        #expect(PluginSupervisor.deadline(5, plus: .seconds(-1)) == 5)
    }
}
