/// Expands the adapter's topic templates. Pure.
public enum ModbusTopics {
    /// `template` with `{adapter}`, `{device}` and `{point}` replaced.
    public static func expand(_ template: String, adapter: String, device: String, point: String = "") -> String {
        template.replacing("{adapter}", with: adapter).replacing("{device}", with: device)
            .replacing("{point}", with: point)
    }
}
