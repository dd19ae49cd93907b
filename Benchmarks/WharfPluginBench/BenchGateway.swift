import AdapterKit
import Broker
import NIOCore
import WharfConfig
import WharfCore
import WharfGateway

/// A broker built as wharfd builds it (``Gateway/make``) in a fresh data directory, with an
/// uplink forward rule over the benchmark's topic when the case is durable, and one plugin
/// adapter section. Its services (listeners, uplink, expiry) are not started: the benchmark
/// publishes through the in-process bus, and the forward queue only fills.
struct BenchGateway {
    let gateway: Gateway
    let configuration: WharfConfiguration
    let directory: ScratchDirectory

    /// The configuration of one case; `pluginArguments` start the load generator.
    static func yaml(
        dataDirectory: String, durable: Bool, synchronous: String, plugin: String, pluginArguments: [String],
        credit: Int
    ) -> String {
        let arguments = pluginArguments.map { "\"\($0)\"" }.joined(separator: ", ")
        var text = """
            log:
              level: warning
            storage:
              data_dir: "\(dataDirectory)"
              queue:
                max_bytes: 8GiB
                max_age: unlimited
                synchronous: \(synchronous)
            broker:
              sys_interval: 0
            adapters:
              - name: bench
                type: plugin
                command: "\(plugin)"
                args: [\(arguments)]
                credit: \(credit)
                status_topic: ""

            """
        if durable {
            // Nothing listens on port 9 of 127.0.0.1, and the uplink does not even run: every
            // message the rule takes stays in the queue.
            text += """
                uplink:
                  enabled: true
                  host: 127.0.0.1
                  port: 9
                  forward:
                    - name: bench
                      filter: "bench/#"
                      qos: 1
                      policy: reject-new

                """
        }
        return text
    }

    /// Opens the store and builds the broker in `directory`.
    static func make(yaml: String, directory: ScratchDirectory, group: any EventLoopGroup) async throws -> BenchGateway
    {
        let configuration: WharfConfiguration
        switch ConfigLoader.load(yaml: yaml, file: "wharf-plugin-bench.yaml") {
        case .success(let loaded): configuration = loaded
        case .failure(let error): throw PluginBenchError("configuration: \(error)")
        }
        let gateway: Gateway
        do {
            gateway = try await Gateway.make(
                configuration: configuration, gatewayID: "bench", version: "bench", group: group
            ) { _ in }
        } catch {
            throw PluginBenchError("gateway: \(error)")
        }
        do {
            gateway.broker.updateAccessControl(try MQTTBroker.loadAccessControl(configuration.broker))
        } catch {
            await gateway.close()
            throw PluginBenchError("access control: \(error)")
        }
        return BenchGateway(gateway: gateway, configuration: configuration, directory: directory)
    }

    /// Closes the store and removes the data directory.
    func close() async {
        await gateway.close()
        directory.remove()
    }
}
