import AdapterKit
import ArgumentParser
import Broker
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
import WharfCoAP
import WharfConfig
import WharfCore
import WharfGateway
import WharfModbus
import WharfSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Builds Wharf's services from the configuration and runs them until SIGTERM or SIGINT.
struct Daemon {
    var configuration: WharfConfiguration
    var configPath: String

    func run() async throws {
        let log = configuration.log
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            let component = label.split(separator: ".").last.map(String.init) ?? label
            handler.logLevel = (log.components[component] ?? log.level).swiftLogLevel
            return handler
        }
        let logger = Logger(label: "wharf.main")
        let gatewayID = configuration.gateway.id.isEmpty ? Self.hostName() : configuration.gateway.id

        try Self.prepareDataDirectory(configuration.storage.dataDirectory)
        // Read before anything starts: a missing or malformed file stops wharfd with file:line.
        let accessControl = try MQTTBroker.loadAccessControl(configuration.broker)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let gateway: Gateway
        do {
            gateway = try await Gateway.make(
                configuration: configuration,
                gatewayID: gatewayID,
                version: wharfVersion,
                group: group
            ) { addresses in
                logger.notice(
                    "wharfd ready",
                    metadata: [
                        "gateway": "\(gatewayID)",
                        "version": "\(wharfVersion)",
                        "listeners": "\(addresses.map { "\($0)" }.joined(separator: ","))",
                    ]
                )
            }
        } catch {
            try? await group.shutdownGracefully()
            throw StartupError(error.description, exitCode: 1)
        }
        let broker = gateway.broker
        broker.updateAccessControl(accessControl)

        var registry = AdapterRegistry()
        registry.register(ModbusAdapter.self)
        registry.register(CoAPAdapter.self)
        var services = gateway.services
        for adapterConfig in configuration.adapters where adapterConfig.enabled {
            let context = AdapterContext(
                name: adapterConfig.name,
                bus: broker,
                logger: Logger(label: "wharf.adapter.\(adapterConfig.name)"),
                clock: SystemClock()
            )
            do {
                services.append(try registry.makeAdapter(config: adapterConfig, context: context, file: configPath))
            } catch {
                await gateway.close()
                try? await group.shutdownGracefully()
                throw StartupError(error.description, exitCode: 1)
            }
        }

        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            )
        )
        do {
            try await serviceGroup.run()
        } catch {
            logger.error("wharfd stopped: \(error)")
            await gateway.close()
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        await gateway.close()
        try? await group.shutdownGracefully()
        logger.notice("wharfd stopped")
    }

    static func prepareDataDirectory(_ path: String) throws(StartupError) {
        if let reason = Directory.create(path) {
            throw StartupError("storage.data_dir: cannot create '\(path)': \(reason)", exitCode: 1)
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "wharf" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension LogLevel {
    var swiftLogLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
