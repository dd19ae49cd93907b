/// The version of the plugin protocol this build speaks (docs/plugins.md).
public enum PluginProtocolVersion {
    /// The lowest and highest protocol versions this build speaks.
    public static let supported: ClosedRange<Int> = 1...1
}
