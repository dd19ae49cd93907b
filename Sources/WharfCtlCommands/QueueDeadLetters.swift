import ArgumentParser
import WharfSupport

/// `wharfctl queue dead-letters`: the records the cloud refused for good (a permanent PUBACK
/// reason code), newest first, from the running daemon's admin API; `--clear` deletes them.
struct QueueDeadLetters: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List or clear the records the cloud refused for good (through the admin API).",
        discussion: """
            Lists the newest dead letters, newest first: when, remote topic, the cloud's reason code \
            and Reason String, payload size and forward rule, then the table's totals. --json prints \
            the admin API's document, with the payloads. --clear deletes every dead letter without \
            asking (the admin API must listen on a loopback address). Exit status: 0 shown or \
            cleared, 1 refused (no uplink, so no queue; or clearing from a non-loopback admin API), \
            2 bad arguments, 3 daemon not reachable.
            """
    )

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the admin API's JSON answer.")
    var json = false

    @Option(help: "The most dead letters listed, newest first (0 to 10000; 100 by default).")
    var limit: Int?

    @Flag(help: "Delete every dead letter, without asking; prints how many.")
    var clear = false

    static let name = "wharfctl queue dead-letters"

    func run() throws {
        if let limit, !(0...10_000).contains(limit) {
            printError("\(Self.name): --limit \(limit): expected 0 to 10000")
            throw ExitCode(2)
        }
        if clear, limit != nil {
            printError("\(Self.name): --clear deletes every dead letter; --limit does not apply")
            throw ExitCode(2)
        }
        let endpoint = try admin.endpoint(command: Self.name)
        let client = AdminClient(host: endpoint.host, port: endpoint.port, timeoutSeconds: 30)
        let path =
            clear ? "/api/v1/queue/dead-letters/clear" : "/api/v1/queue/dead-letters?limit=\(limit ?? 100)"
        let reply: AdminClient.Reply
        do {
            reply = try clear ? client.post(path) : client.get(path)
        } catch {
            printError("\(Self.name): cannot reach the admin API at \(endpoint.display): \(error)")
            throw ExitCode(3)
        }
        let body = reply.body.trimmingSuffixNewlines
        switch reply.status {
        case 200:
            try show(body, endpoint: endpoint)
        case 403, 404:
            printError("\(Self.name): \(body)")
            throw ExitCode(1)
        default:
            printError("\(Self.name): \(endpoint.display) answered HTTP \(reply.status): \(body)")
            throw ExitCode(3)
        }
    }

    private func show(_ body: String, endpoint: Status.Endpoint) throws {
        if json {
            print(body)
            return
        }
        if clear {
            guard let count = DeadLetterListView.cleared(body) else {
                printError("\(Self.name): \(endpoint.display) sent an answer this wharfctl cannot read: \(body)")
                throw ExitCode(3)
            }
            print(DeadLetterText.cleared(count))
            return
        }
        do {
            print(DeadLetterText.text(try DeadLetterListView.parse(body)))
        } catch {
            printError("\(Self.name): \(endpoint.display) sent a list this wharfctl cannot read: \(error)")
            throw ExitCode(3)
        }
    }
}
