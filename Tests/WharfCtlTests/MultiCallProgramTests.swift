import PropertyBased
import Testing

@testable import WharfCtlCommands

/// Which program the one executable runs for the name it was started under.
@Suite struct MultiCallProgramTests {
    @Test func theNameWharfctlRunsTheTool() {
        for name in ["wharfctl", "/usr/bin/wharfctl", "./wharfctl", "../bin/wharfctl", "/wharfctl", "a//wharfctl"] {
            #expect(MultiCallProgram(argumentZero: name) == .wharfctl, "\(name)")
        }
    }

    @Test func everyOtherNameRunsTheDaemon() {
        let names = [
            "wharfd", "/usr/bin/wharfd", "", "/", "wharfctl/", "/usr/bin/wharfctl/", "Wharfctl", "WHARFCTL",
            "wharfctl ", " wharfctl", "wharfctl.bak", "wharfctl2", "xwharfctl", "/usr/bin/wharfctl-old",
            "wharfctl/wharfd", "-wharfctl",
        ]
        for name in names {
            #expect(MultiCallProgram(argumentZero: name) == .wharfd, "\(name)")
        }
        #expect(MultiCallProgram(argumentZero: nil) == .wharfd)
    }

    /// Whatever the directory, only the last path component decides.
    @Test func onlyTheLastComponentCounts() async {
        let component = Gen.character(in: "0"..."z").string(of: 0...6)  // digits, letters, no "/"
        await propertyCheck(input: component.array(of: 0...4), component) { directories, last in
            let path = (directories + [last]).joined(separator: "/")
            let expected: MultiCallProgram = last == "wharfctl" ? .wharfctl : .wharfd
            #expect(MultiCallProgram(argumentZero: path) == expected)
            #expect(MultiCallProgram(argumentZero: path + "/wharfctl") == .wharfctl)
            #expect(MultiCallProgram(argumentZero: "/" + path + "/wharfctl") == .wharfctl)
        }
    }
}
