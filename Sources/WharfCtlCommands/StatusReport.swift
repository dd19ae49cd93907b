/// `wharfctl status` for people: one aligned line per fact.
struct StatusReport {
    let document: StatusDocument

    init(_ document: StatusDocument) {
        self.document = document
    }

    var text: String {
        let d = document
        var rows: [(String, String)] = [
            ("wharfd", "\(d.version), gateway \(d.gatewayID), up \(Self.duration(d.uptimeSeconds))"),
            ("health", d.health.problems.isEmpty ? "ok" : "UNHEALTHY: " + d.health.problems.joined(separator: "; ")),
            (
                "listeners",
                d.listeners.isEmpty
                    ? "none bound" : d.listeners.map { "\($0.name) \($0.address)" }.joined(separator: ", ")
            ),
            (
                "clients",
                "\(d.broker.clientsConnected) connected"
                    + (d.broker.clientsMaximum.map { ", \($0) at most" } ?? "")
                    + (d.broker.sessions.map { ", \($0) sessions" } ?? "")
            ),
            (
                "messages",
                "\(d.broker.messagesReceived ?? 0) received, \(d.broker.messagesSent ?? 0) sent, "
                    + "\(d.broker.subscriptions ?? 0) subscriptions, \(d.broker.retained ?? 0) retained"
            ),
        ]
        if d.adapters.isEmpty {
            rows.append(("adapters", "none"))
        }
        for adapter in d.adapters {
            rows.append(
                (
                    "adapter",
                    "\(adapter.name) (\(adapter.type)): \(adapter.health)" + (adapter.detail.map { ": \($0)" } ?? "")
                )
            )
            if let plugin = adapter.plugin { rows.append(("  plugin", Self.describe(plugin))) }
        }
        if let queue = d.queue {
            let dropped = (queue.dropped ?? [:]).filter { $0.value > 0 }.sorted { $0.key < $1.key }
            rows.append(
                (
                    "queue",
                    "\(queue.depth) messages, \(Self.bytes(queue.bytes)), oldest \(Self.duration(queue.oldestAgeSeconds))"
                        + ", draining \(Int((queue.drainRatePerSecond ?? 0).rounded()))/s"
                        + (dropped.isEmpty
                            ? "" : ", dropped " + dropped.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                )
            )
        } else {
            rows.append(("queue", "off (uplink disabled)"))
        }
        if let uplink = d.uplink {
            rows.append(
                (
                    "uplink",
                    "\(uplink.state)" + ((uplink.endpoint ?? uplink.remote).map { " to \($0)" } ?? "")
                        + ", \(uplink.reconnects) reconnects"
                        + ((uplink.failovers ?? 0) > 0 ? ", \(uplink.failovers ?? 0) failovers" : "")
                        + (uplink.lastError.map { ", last error: \($0)" } ?? "")
                )
            )
        } else {
            rows.append(("uplink", "disabled"))
        }
        if let remote = d.remoteConfig {
            rows.append(("remote config", RemoteConfigStatusText.summary(remote)))
        }
        if let reload = d.lastReload {
            rows.append(
                (
                    "last reload",
                    "\(reload.outcome) at \(Self.duration(reload.atUptimeSeconds)) uptime"
                        + (reload.messages.isEmpty ? "" : ": " + reload.messages.joined(separator: "; "))
                )
            )
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n")
    }

    /// `3d 4h`, `2h 5m`, `4m 10s`, `12s`.
    /// One line on a plugin's process: state, identity, traffic, trouble.
    static func describe(_ plugin: StatusDocument.Plugin) -> String {
        var parts = [plugin.state + (plugin.pid.map { " (pid \($0))" } ?? "")]
        if let name = plugin.name { parts.append(name + (plugin.version.map { " " + $0 } ?? "")) }
        parts.append("\(plugin.restarts) restart\(plugin.restarts == 1 ? "" : "s")")
        parts.append("\(plugin.publishes) published, \(plugin.nacks) refused")
        parts.append("\(plugin.commands) commands, \(plugin.commandsDropped) dropped")
        if plugin.creditStalls > 0 { parts.append("\(plugin.creditStalls) credit stalls") }
        if plugin.garbageLines > 0 { parts.append("\(plugin.garbageLines) invalid lines") }
        for refused in plugin.refusedSubscriptions ?? [] { parts.append("refused subscription " + refused) }
        return parts.joined(separator: ", ")
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        let (days, hours, minutes, secs) = (total / 86_400, total % 86_400 / 3_600, total % 3_600 / 60, total % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }

    /// `512 B`, `3.2 KiB`, `1.5 MiB`.
    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\((value * 10).rounded() / 10) \(units[unit])"
    }
}
