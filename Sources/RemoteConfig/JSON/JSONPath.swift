import WharfConfig

/// Key paths in a JSON document, spelt as the configuration spells them (`config.adapters[2].name`).
enum JSONPath {
    /// The path of `key` inside the object at `parent`.
    static func key(_ key: String, in parent: String) -> String {
        ConfigPath.key(key, in: parent)
    }

    /// The path of element `index` inside the array at `parent`.
    static func index(_ index: Int, in parent: String) -> String {
        ConfigPath.index(index, in: parent)
    }
}
