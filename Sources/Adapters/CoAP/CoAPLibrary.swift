import CCoAPLoader

/// libcoap, loaded when the first CoAP adapter starts: wharfd is not linked with it, so a
/// gateway without a CoAP adapter never maps libcoap or the OpenSSL libraries it needs.
enum CoAPLibrary {
    /// Loads libcoap (once per process); returns why it cannot be loaded, or nil when it is.
    static func load() -> String? {
        var error: UnsafePointer<CChar>?
        guard wharf_coap_load(&error) != 0 else { return nil }
        return error.map { String(cString: $0) } ?? "cannot load libcoap"
    }

    /// Whether `soname` loads and has every function wharfd calls; the message when not.
    static func probe(_ soname: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        let failed = buffer.withUnsafeMutableBufferPointer { wharf_coap_probe(soname, $0.baseAddress, $0.count) != 0 }
        guard failed else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
