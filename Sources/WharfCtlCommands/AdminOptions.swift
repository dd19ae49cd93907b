import ArgumentParser
import WharfSupport

/// Where a command finds the running daemon's admin API: `--url` (or `--admin`), else the `admin:`
/// section of `--config`, else the default address, as `wharfctl status` finds it.
struct AdminOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "The daemon's configuration file, to find the admin API.")
    var config: String = "/etc/wharf/wharf.yaml"

    @Option(
        name: [.customLong("url"), .customLong("admin")],
        help: "The admin API's base URL, such as http://127.0.0.1:9883 (overrides --config).")
    var url: String?

    /// The admin API's address; a usage problem (exit 2) or an admin API that is off (exit 3) is
    /// printed with `command` in front and ends the command.
    func endpoint(command: String) throws -> Status.Endpoint {
        var arguments = ["--config", config]
        if let url { arguments += ["--url", url] }
        do {
            return try Status.parse(arguments).resolveEndpoint()
        } catch let error as Status.StatusError {
            printError("\(command): \(error.message)")
            throw ExitCode(error.exitCode)
        }
    }
}
