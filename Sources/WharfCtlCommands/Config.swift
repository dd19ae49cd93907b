import ArgumentParser

/// `wharfctl config ...`: signed remote configuration documents (docs/remote-config.md).
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create keys, sign, verify, apply and push remote configuration documents.",
        subcommands: [
            ConfigKeygen.self, ConfigSign.self, ConfigVerify.self, ConfigApply.self, ConfigStatus.self,
            ConfigPush.self,
        ]
    )
}

/// A failure of a `config` command, with its exit code (1: refused input, 2: unusable files or arguments).
struct ConfigCommandError: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32

    init(_ description: String, exitCode: Int32 = 2) {
        self.description = description
        self.exitCode = exitCode
    }
}
