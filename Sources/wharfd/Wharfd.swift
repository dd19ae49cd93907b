import ArgumentParser
import Dispatch
import Logging
import Synchronization
import WharfConfig
import WharfCore
import WharfCtlCommands
import WharfSupport

/// Starts `wharfd`, or `wharfctl` when the executable was started under that name (the package's
/// `/usr/bin/wharfctl` is a symbolic link to `/usr/bin/wharfd`; see `MultiCallProgram`). The main
/// thread parses the arguments, runs the program on a detached task (not on the main actor,
/// whose thread is the one waiting) and waits for it. (An `async` main would hand the main thread
/// to Dispatch, which ends it with a forced unwind through the whole binary's unwind tables: a
/// megabyte of pages kept resident for nothing.)
@main
enum WharfdMain {
    static func main() {
        switch MultiCallProgram(argumentZero: CommandLine.arguments.first) {
        case .wharfctl:
            // Parses, runs the subcommand and exits with its status, as wharfctl's own main did.
            runToEnd { await WharfCtl.main() }
        case .wharfd:
            let command = Wharfd.parseOrExit()
            let failure = Mutex<(any Error)?>(nil)
            runToEnd {
                do {
                    try await command.run()
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            if let error = failure.withLock({ $0 }) { Wharfd.exit(withError: error) }
        }
    }

    /// Runs `body` on a detached task and blocks the calling (main) thread until it returns.
    private static func runToEnd(_ body: @escaping @Sendable () async -> Void) {
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await body()
            finished.signal()
        }
        finished.wait()
    }
}

/// `wharfd`: the Wharf edge gateway daemon.
struct Wharfd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharfd",
        abstract: "Wharf edge gateway: embedded MQTT broker, protocol adapters and uplink."
    )

    @Option(name: [.short, .long], help: "The configuration file.")
    var config: String = "/etc/wharf/wharf.yaml"

    @Flag(help: "Validate the configuration file, print every problem, and exit.")
    var check = false

    @Option(help: "Serve MQTT on HOST:PORT only, instead of the configured listeners.")
    var listen: String?

    @Option(name: .customLong("data-dir"), help: "The state directory (overrides storage.data_dir).")
    var dataDir: String?

    @Flag(help: "Print the version and exit.")
    var version = false

    func run() async throws {
        if version {
            print("wharfd \(wharfVersion)")
            return
        }
        do {
            let (tree, local) = try ConfigFile.loadTree(path: config)
            var configuration = local
            let listener: ListenerConfig?
            if let listen {
                guard let parsed = ConfigFile.parseListen(listen) else {
                    throw StartupError(
                        "--listen \(listen): expected HOST:PORT, for example 127.0.0.1:1883", exitCode: 2)
                }
                listener = parsed
            } else {
                listener = nil
            }
            let dataDir = self.dataDir
            let overrides: @Sendable (inout WharfConfiguration) -> Void = { configuration in
                if let listener { configuration.broker.listeners = [listener] }
                if let dataDir { configuration.storage.dataDirectory = dataDir }
            }
            overrides(&configuration)
            if check {
                for warning in Daemon.configWarnings(configuration, file: config) { printError(warning) }
                try Daemon.checkAdapters(configuration, file: config)
                print("\(config): OK")
                return
            }
            try await Daemon(configuration: configuration, localTree: tree, configPath: config, overrides: overrides)
                .run()
        } catch let error as StartupError {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }
}
