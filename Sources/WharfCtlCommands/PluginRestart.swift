import ArgumentParser
import WharfSupport

/// `wharfctl plugin restart NAME`: asks the running daemon to restart a plugin now, which also
/// clears its quarantine.
struct PluginRestart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart a plugin now, clearing its quarantine (through the admin API).",
        discussion: """
            The admin API must listen on a loopback address (the default): it has no \
            authentication, so it takes actions only from this machine. Exit status: 0 restarting, \
            1 no such plugin, 3 daemon not reachable.
            """
    )

    @Argument(help: "The plugin adapter's name (its adapters[].name in the configuration).")
    var name: String

    @Option(name: [.short, .long], help: "The daemon's configuration file, to find the admin API.")
    var config: String = "/etc/wharf/wharf.yaml"

    @Option(help: "The admin API's base URL, such as http://127.0.0.1:9883 (overrides --config).")
    var url: String?

    func run() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        guard !name.isEmpty, name.utf8.allSatisfy(allowed.contains) else {
            printError("wharfctl plugin restart: '\(name)' is not an adapter name (letters a-z, digits, '-', '_')")
            throw ExitCode(2)
        }
        var arguments = ["--config", config]
        if let url { arguments += ["--url", url] }
        let endpoint: Status.Endpoint
        do {
            endpoint = try Status.parse(arguments).resolveEndpoint()
        } catch let error as Status.StatusError {
            printError("wharfctl plugin restart: \(error.message)")
            throw ExitCode(error.exitCode)
        }
        let reply: AdminClient.Reply
        do {
            reply = try AdminClient(host: endpoint.host, port: endpoint.port).post("/api/v1/plugins/\(name)/restart")
        } catch {
            printError("wharfctl plugin restart: cannot reach the admin API at \(endpoint.display): \(error)")
            throw ExitCode(3)
        }
        let body = reply.body.trimmingSuffixNewlines
        switch reply.status {
        case 202:
            print(body)
        case 404:
            printError("wharfctl plugin restart: \(body)")
            throw ExitCode(1)
        default:
            printError("wharfctl plugin restart: \(endpoint.display) answered HTTP \(reply.status): \(body)")
            throw ExitCode(3)
        }
    }
}
