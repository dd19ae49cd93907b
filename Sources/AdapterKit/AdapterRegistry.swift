public import WharfConfig

/// Maps the config's adapter `type:` to the code that builds that adapter.
public struct AdapterRegistry: Sendable {
    /// Builds one adapter from its config section.
    public typealias Factory = @Sendable (AdapterConfig, AdapterContext) throws -> any Adapter

    private var factories: [String: Factory] = [:]

    /// An empty registry.
    public init() {}

    /// Registers an adapter type under its ``Adapter/typeName``.
    public mutating func register<A: Adapter>(_ type: A.Type) {
        factories[A.typeName] = { config, context in
            try A(config: config, context: context)
        }
    }

    /// The registered type names, sorted, for error messages and `wharfctl`.
    public var typeNames: [String] { factories.keys.sorted() }

    /// Builds the adapter for `config`, or reports an unknown type with the known ones.
    public func makeAdapter(config: AdapterConfig, context: AdapterContext, file: String) throws(ConfigError)
        -> any Adapter
    {
        guard let factory = factories[config.type] else {
            let known = typeNames.isEmpty ? "none are built into this wharfd" : typeNames.joined(separator: ", ")
            throw ConfigError(issues: [
                ConfigIssue(
                    file: file,
                    line: nil,
                    column: nil,
                    path: "adapters.\(config.name).type",
                    message: "unknown adapter type '\(config.type)' (known: \(known))"
                )
            ])
        }
        do {
            return try factory(config, context)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(issues: [
                ConfigIssue(file: file, path: "adapters.\(config.name)", message: "\(error)")
            ])
        }
    }
}
