import ArgumentParser

/// `wharfctl plugin ...`: tools for plugins (docs/plugins.md).
struct Plugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test and manage plugins.",
        subcommands: [PluginTest.self]
    )
}
