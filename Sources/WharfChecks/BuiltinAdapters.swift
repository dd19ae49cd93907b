public import AdapterKit
import WharfCoAP
import WharfModbus
import WharfPlugins

/// The adapters built into Wharf.
public enum BuiltinAdapters {
    /// A registry with every built-in adapter type.
    public static func registry() -> AdapterRegistry {
        var registry = AdapterRegistry()
        registry.register(ModbusAdapter.self)
        registry.register(CoAPAdapter.self)
        registry.register(PluginAdapter.self)
        return registry
    }
}
