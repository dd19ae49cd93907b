/// Decoding and cross-checks of the `admin:` section.
extension AdminConfig {
    init(reading reader: ConfigReader) {
        let defaults = AdminConfig()
        self.init()
        enabled = reader.bool("enabled", default: defaults.enabled)
        allowRemote = reader.bool("allow_remote", default: defaults.allowRemote)
        logLines = reader.int("log_lines", default: defaults.logLines, in: 0...Self.maxLogLines)
        maxEventStreams = reader.int(
            "max_event_streams", default: defaults.maxEventStreams, in: 0...Self.maxEventStreamsLimit)
        if let node = reader.value("history_interval"),
            let interval = reader.duration(node, in: Self.minHistoryInterval...)
        {
            if interval <= Self.maxHistoryInterval {
                historyInterval = interval
            } else {
                reader.report("expected a duration of at most 10m, got \(node.quoted)", at: node)
            }
        }
        if let node = reader.value("listen"), let text = reader.string(node) {
            if let (host, port) = Self.parseListen(text), NameRules.isBindAddress(host) {
                self.host = host
                self.port = port
                if !allowRemote && !Self.isLoopback(host) {
                    reader.report(
                        "the admin API has no authentication, so it listens on this machine only "
                            + "(127.0.0.1 or [::1]); got \(node.quoted). Set allow_remote: true to open it "
                            + "to other machines",
                        at: node
                    )
                }
            } else {
                reader.report(
                    "expected HOST:PORT with a port from 1 to 65535, such as 127.0.0.1:9883 or [::1]:9883, "
                        + "got \(node.quoted)",
                    at: node
                )
            }
        }
        reader.finish()
    }
}
