import ArgumentParser
import WharfSupport

/// `wharfctl config apply FILE`: hands a signed document to the running daemon through its admin API
/// (a technician's copy, when the cloud cannot reach the gateway); the daemon runs the checks and the
/// lifecycle of a document received from the cloud.
struct ConfigApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a signed document locally, through the running daemon's admin API.",
        discussion: """
            The document is sent as it is, byte for byte; the daemon checks it as one received from \
            the cloud (signature, gateway, version, times, allowed sections, the configuration). The \
            admin API must listen on a loopback address. Exit status: 0 taken (pending confirmation \
            or applied), 1 rejected, ignored or remote configuration not enabled, 2 bad arguments or \
            unreadable file, 3 daemon not reachable.
            """
    )

    @OptionGroup var admin: AdminOptions

    @Argument(help: "The signed document (JSON), as 'wharfctl config sign' wrote it.")
    var file: String

    static let name = "wharfctl config apply"

    func run() throws {
        let document: [UInt8]
        do {
            document = try ConfigFiles.read(file)
        } catch {
            printError("\(Self.name): \(error.description)")
            throw ExitCode(error.exitCode)
        }
        let endpoint = try admin.endpoint(command: Self.name)
        let reply: AdminClient.Reply
        do {
            // Applying may restart adapters before the daemon answers.
            let client = AdminClient(host: endpoint.host, port: endpoint.port, timeoutSeconds: 60)
            reply = try client.post("/api/v1/remote-config", body: document, contentType: "application/json")
        } catch {
            printError("\(Self.name): cannot reach the admin API at \(endpoint.display): \(error)")
            throw ExitCode(3)
        }
        let outcome = ApplyOutcomeView.parse(reply.body)
        switch (reply.status, outcome) {
        case (200, let outcome?):
            print(outcome.lines.joined(separator: "\n"))
        case (409, let outcome?), (422, let outcome?), (503, let outcome?):
            printError(outcome.lines.joined(separator: "\n"))
            throw ExitCode(1)
        case (413, _):
            printError("\(Self.name): \(file): \(reply.body.trimmingSuffixNewlines)")
            throw ExitCode(1)
        default:
            printError(
                "\(Self.name): \(endpoint.display) answered HTTP \(reply.status): \(reply.body.trimmingSuffixNewlines)")
            throw ExitCode(3)
        }
    }
}
