import ArgumentParser
import WharfConfig
import WharfSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `wharfctl status`: the running daemon's status, read from its admin API.
///
/// Exit codes: 0 running and healthy, 1 running but unhealthy, 3 not running (or the admin
/// API is off or unreachable), as `systemctl status` and LSB init scripts use them.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the running daemon's status (from its admin API).",
        discussion: """
            The admin API's address comes from --url, else from the admin section of the \
            configuration file, else 127.0.0.1:9883. Exit status: 0 running and healthy, \
            1 running but unhealthy, 3 not running or admin API unreachable.
            """
    )

    @Option(name: [.short, .long], help: "The daemon's configuration file, to find the admin API.")
    var config: String = "/etc/wharf/wharf.yaml"

    @Option(help: "The admin API's base URL, such as http://127.0.0.1:9883 (overrides --config).")
    var url: String?

    @Flag(help: "Print the status document as JSON.")
    var json = false

    func run() throws {
        let endpoint: Endpoint
        do {
            endpoint = try resolveEndpoint()
        } catch let error as StatusError {
            printError("wharfctl status: \(error.message)")
            throw ExitCode(error.exitCode)
        }
        let client = AdminClient(host: endpoint.host, port: endpoint.port)
        let reply: AdminClient.Reply
        do {
            reply = try client.get("/api/v1/status")
        } catch {
            let hint =
                error.notListening
                ? "wharfd is not running, or its admin API is off or elsewhere (admin: in \(endpoint.source))"
                : "is wharfd running (systemctl status wharf)?"
            printError("wharfctl status: cannot reach the admin API at \(endpoint.display): \(error); \(hint)")
            throw ExitCode(3)
        }
        guard reply.status == 200 else {
            printError(
                "wharfctl status: \(endpoint.display) answered HTTP \(reply.status) to /api/v1/status; "
                    + "is that wharfd's admin API?")
            throw ExitCode(3)
        }
        let document: StatusDocument
        do {
            document = try StatusDocument.decode(reply.body)
        } catch {
            printError("wharfctl status: \(endpoint.display) sent a status this wharfctl cannot read: \(error)")
            throw ExitCode(3)
        }
        print(json ? reply.body.trimmingSuffixNewlines : StatusReport(document).text, terminator: "\n")
        if !document.health.problems.isEmpty { throw ExitCode(1) }
    }

    /// Where the admin API is, and what told us.
    struct Endpoint {
        var host: String
        var port: Int
        var source: String
        var display: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    struct StatusError: Error {
        var message: String
        var exitCode: Int32
    }

    func resolveEndpoint() throws -> Endpoint {
        if let url {
            guard let (host, port) = Self.parseURL(url) else {
                throw StatusError(message: "--url \(url): expected http://HOST:PORT", exitCode: 2)
            }
            return Endpoint(host: host, port: port, source: "--url")
        }
        let admin: AdminConfig
        do {
            admin = try ConfigFile.load(path: config).admin
        } catch {
            // No readable file: the daemon runs on defaults too, so try the default address.
            if error.exitCode == 2 {
                let fallback = AdminConfig()
                return Endpoint(host: fallback.host, port: fallback.port, source: "the default 127.0.0.1:9883")
            }
            // A file broken after the daemon started (a reload keeps the old configuration):
            // use the admin section as written.
            printError("wharfctl status: warning: \(config) has problems (see wharfctl check \(config))")
            admin = Self.adminSectionAsWritten(path: config)
        }
        guard admin.enabled else {
            throw StatusError(message: "the admin API is off in \(config) (admin.enabled: false)", exitCode: 3)
        }
        // A daemon listening on every address is reachable on loopback.
        let host = admin.host == "0.0.0.0" ? "127.0.0.1" : admin.host == "::" ? "::1" : admin.host
        return Endpoint(host: host, port: admin.port, source: config)
    }

    /// The `admin:` section of a file that does not validate as a whole; defaults where it is unreadable.
    static func adminSectionAsWritten(path: String) -> AdminConfig {
        var admin = AdminConfig()
        guard let text = try? ConfigFile.readText(path: path),
            case .success(let node) = ConfigLoader.parse(yaml: text, file: path),
            let section = node.value["admin"]
        else { return admin }
        if section["enabled"] == .bool(false) { admin.enabled = false }
        if case .string(let listen)? = section["listen"], let (host, port) = AdminConfig.parseListen(listen) {
            admin.host = host
            admin.port = port
        }
        return admin
    }

    /// `http://host:port[/...]` → host and port (80 when absent).
    static func parseURL(_ text: String) -> (String, Int)? {
        guard text.hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty else { return nil }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (host, 80) }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), (1...65_535).contains(port) else {
                return nil
            }
            return (host, port)
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty else { return nil }
        if parts.count == 1 { return (String(parts[0]), 80) }
        guard let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
        return (String(parts[0]), port)
    }
}

extension String {
    var trimmingSuffixNewlines: String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
