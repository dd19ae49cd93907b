import PluginProtocol
public import WharfConfig
import WharfCore

extension PluginSettings {
    /// Reads and validates an adapter's section, reporting every problem at once.
    public init(adapter: AdapterConfig) throws(ConfigError) {
        let reader = ConfigReader(adapter.source)
        self.init(reading: reader)
        let issues = reader.issues
        if !issues.isEmpty { throw ConfigError(issues: issues) }
    }

    /// Reads the section; problems are recorded in `reader`.
    init(reading reader: ConfigReader) {
        self.init()
        if let command = reader.requiredString("command", "the plugin's executable") {
            if command.isEmpty || command.contains("\0"), let node = reader.value("command") {
                reader.report("expected the path of an executable, got \(node.quoted)", at: node)
            }
            self.command = command
        }
        arguments = (reader.list("args") ?? []).compactMap { reader.string($0) }
        let environmentReader = reader.section("env")
        for member in environmentReader.members {
            _ = environmentReader.member(member.key)
            if member.key.isEmpty || member.key.contains("=") || member.key.contains("\0") {
                environmentReader.report(
                    "'\(member.key)' is not a usable environment variable name", at: member.value)
                continue
            }
            if let value = environmentReader.string(member.value) {
                environment.append(EnvironmentVariable(name: member.key, value: value))
            }
        }
        if let node = reader.value("working_directory"), let directory = reader.string(node) {
            if directory.hasPrefix("/") {
                workingDirectory = directory
            } else {
                reader.report("expected an absolute directory, got \(node.quoted)", at: node)
            }
        }
        if let node = reader.value("config") { config = PluginJSON(node.value) }
        credit = reader.int("credit", default: credit, in: 1...65535)
        maxLineBytes = reader.size("max_line_bytes", default: maxLineBytes, in: 1024...(64 << 20))
        startTimeout = reader.duration("start_timeout", default: startTimeout, in: .milliseconds(100)...)
        healthInterval = reader.duration("health_interval", default: healthInterval, in: .milliseconds(100)...)
        healthTimeout = reader.duration("health_timeout", default: healthTimeout, in: .milliseconds(100)...)
        shutdownGrace = reader.duration("shutdown_grace", default: shutdownGrace, in: .milliseconds(10)...)
        backoff = BackoffPolicy(reading: reader.section("backoff"), defaults: backoff)
        maxRestarts = reader.int("max_restarts", default: maxRestarts, in: 0...1_000_000)
        restartWindow = reader.duration("restart_window", default: restartWindow, in: .seconds(1)...)
        maxCreditViolations = reader.int("max_credit_violations", default: maxCreditViolations, in: 1...1_000_000_000)
        maxQueuedCommands = reader.int("max_queued_commands", default: maxQueuedCommands, in: 1...10_000_000)
        maxQueuedCommandBytes = reader.size(
            "max_queued_command_bytes", default: maxQueuedCommandBytes, in: 1024...(1 << 34))
        let limits = reader.section("limits")
        memoryLimit = limits.size("memory", default: 0, in: (16 << 20)...(1 << 50), zeroMeans: "no limit")
        openFilesLimit = limits.int("open_files", default: 0, in: 0...1_048_576)
        if openFilesLimit > 0 && openFilesLimit < 16, let node = limits.value("open_files") {
            limits.report("at least 16 descriptors are needed to start a program, got \(node.quoted)", at: node)
        }
        cpuSecondsLimit = limits.int("cpu_seconds", default: 0, in: 0...Int(Int32.max))
        limits.finish()
        statusTopic = reader.string("status_topic", default: statusTopic)
        if let node = reader.value("status_topic"), !statusTopic.isEmpty {
            let sample = statusTopic.replacing("{name}", with: "x")
            if sample.contains("{") || sample.contains("}") {
                reader.report("unknown placeholder in \(node.quoted); the placeholder here is {name}", at: node)
            } else if let problem = Topic.validateName(sample) {
                reader.report(
                    "expected an MQTT topic name without wildcards (\(problem)), got \(node.quoted)", at: node)
            }
        }
        reader.finish()
    }

    /// The status topic for the adapter `name`, or `nil` when none is published.
    public func statusTopic(for name: String) -> String? {
        statusTopic.isEmpty ? nil : statusTopic.replacing("{name}", with: name)
    }
}

extension PluginJSON {
    /// The JSON form of a config value, keys in the order they were written.
    init(_ value: ConfigValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .integer(Int64(number))
        case .double(let number): self = number.isFinite ? .number(number) : .null
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(PluginJSON.init))
        case .object(let members): self = .object(members.map { ($0.key, PluginJSON($0.value)) })
        }
    }
}
