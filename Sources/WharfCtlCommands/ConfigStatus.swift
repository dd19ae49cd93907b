import ArgumentParser
import RemoteConfig
import WharfSupport

/// `wharfctl config status`: remote configuration's state in the running daemon, from the
/// `remote_config` member of its `/api/v1/status`.
struct ConfigStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show remote configuration's state in the running daemon (from its admin API).",
        discussion: """
            Exit status: 0 shown, 1 remote configuration not enabled, 2 bad arguments, 3 daemon not \
            reachable.
            """
    )

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the remote_config member of the status document as JSON.")
    var json = false

    static let name = "wharfctl config status"

    func run() throws {
        let endpoint = try admin.endpoint(command: Self.name)
        let reply: AdminClient.Reply
        do {
            reply = try AdminClient(host: endpoint.host, port: endpoint.port).get("/api/v1/status")
        } catch {
            printError("\(Self.name): cannot reach the admin API at \(endpoint.display): \(error)")
            throw ExitCode(3)
        }
        guard reply.status == 200 else {
            printError("\(Self.name): \(endpoint.display) answered HTTP \(reply.status) to /api/v1/status")
            throw ExitCode(3)
        }
        let view: RemoteConfigReportView?
        do {
            view = try RemoteConfigReportView.fromStatus(reply.body)
        } catch {
            printError("\(Self.name): \(endpoint.display) sent a status this wharfctl cannot read: \(error)")
            throw ExitCode(3)
        }
        if json {
            print(Self.member("remote_config", of: reply.body) ?? "null")
        } else if let view {
            print(RemoteConfigStatusText.text(view))
        } else {
            print("remote configuration is not enabled")
        }
        if view == nil || view?.enabled == false { throw ExitCode(1) }
    }

    /// One member of a JSON object's text, as the daemon wrote it (re-indented).
    static func member(_ key: String, of text: String) -> String? {
        guard case .success(let document) = JSONParser.parse(text), let value = document[key],
            case .success(let shown) = value.prettyText()
        else { return nil }
        return shown
    }
}
