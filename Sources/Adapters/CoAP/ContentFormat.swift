/// The CoAP Content-Format registry entries Wharf maps to and from MQTT 5 content types.
public enum ContentFormat {
    /// Registered formats and the MQTT content type each becomes.
    public static let table: [(format: UInt16, contentType: String)] = [
        (0, "text/plain;charset=utf-8"),
        (40, "application/link-format"),
        (41, "application/xml"),
        (42, "application/octet-stream"),
        (47, "application/exi"),
        (50, "application/json"),
        (60, "application/cbor"),
        (110, "application/senml+json"),
        (112, "application/senml+cbor"),
    ]

    private static let prefix = "application/coap-cf-"

    /// The MQTT content type for a CoAP Content-Format number.
    public static func contentType(for format: UInt16) -> String {
        table.first { $0.format == format }?.contentType ?? "\(prefix)\(format)"
    }

    /// The Content-Format number for an MQTT content type, `nil` when there is none.
    public static func format(for contentType: String) -> UInt16? {
        let normalized = String(contentType.lowercased().filter { $0 != " " })
        if normalized == "text/plain" { return 0 }
        if let entry = table.first(where: { $0.contentType == normalized }) { return entry.format }
        if normalized.hasPrefix(prefix) { return UInt16(normalized.dropFirst(prefix.count)) }
        return nil
    }
}
