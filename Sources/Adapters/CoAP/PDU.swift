import CCoAP

/// Reading and writing the parts of a libcoap PDU; used only on the libcoap thread.
enum PDU {
    /// The raw values of every option `number` in `pdu`, in order.
    static func options(_ pdu: OpaquePointer, _ number: UInt16) -> [[UInt8]] {
        var filter = coap_opt_filter_t()
        coap_option_filter_clear(&filter)
        coap_option_filter_set(&filter, number)
        var iterator = coap_opt_iterator_t()
        guard coap_option_iterator_init(pdu, &iterator, &filter) != nil else { return [] }
        var values: [[UInt8]] = []
        while let option = coap_option_next(&iterator) {
            let length = Int(coap_opt_length(option))
            if let value = coap_opt_value(option), length > 0 {
                values.append(Array(UnsafeBufferPointer(start: value, count: length)))
            } else {
                values.append([])
            }
        }
        return values
    }

    /// The unsigned integer value of option `number`, `nil` when absent.
    static func uint(_ pdu: OpaquePointer, _ number: UInt16) -> UInt32? {
        var iterator = coap_opt_iterator_t()
        guard let option = coap_check_option(pdu, number, &iterator) else { return nil }
        return coap_decode_var_bytes(coap_opt_value(option), Int(coap_opt_length(option)))
    }

    /// The token bytes.
    static func token(_ pdu: OpaquePointer) -> [UInt8] {
        let token = coap_pdu_get_token(pdu)
        guard let bytes = token.s, token.length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: token.length))
    }

    /// The whole body (reassembled by libcoap when block-wise).
    static func body(_ pdu: OpaquePointer) -> (pointer: UnsafePointer<UInt8>?, count: Int) {
        var length = 0
        var data: UnsafePointer<UInt8>?
        var offset = 0
        var total = 0
        guard coap_get_data_large(pdu, &length, &data, &offset, &total) != 0 else { return (nil, 0) }
        return (data, length)
    }

    /// Adds an unsigned integer option.
    static func addUInt(_ pdu: OpaquePointer, _ number: UInt16, _ value: UInt32) {
        var buffer: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { raw in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            let length = coap_encode_var_safe(base, 4, value)
            _ = coap_add_option(pdu, number, Int(length), base)
        }
    }

    /// Adds raw option bytes.
    static func add(_ pdu: OpaquePointer, _ number: UInt16, _ value: [UInt8]) {
        value.withUnsafeBufferPointer { buffer in
            _ = coap_add_option(pdu, number, buffer.count, buffer.baseAddress)
        }
    }

    /// Sets the token.
    static func setToken(_ pdu: OpaquePointer, _ token: [UInt8]) {
        token.withUnsafeBufferPointer { buffer in
            _ = coap_add_token(pdu, buffer.count, buffer.baseAddress)
        }
    }

    /// Adds a payload; `false` when it does not fit.
    @discardableResult
    static func addData(_ pdu: OpaquePointer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        return coap_add_data(pdu, bytes.count, base.assumingMemoryBound(to: UInt8.self)) != 0
    }

    /// Adds a diagnostic text payload.
    static func addText(_ pdu: OpaquePointer, _ text: String) {
        var text = text
        text.withUTF8 { _ = addData(pdu, UnsafeRawBufferPointer($0)) }
    }

    /// `address:port` of the peer of a session.
    static func peer(_ session: OpaquePointer) -> String {
        guard let address = coap_session_get_addr_remote(session) else { return "?" }
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = buffer.withUnsafeMutableBufferPointer { coap_print_addr(address, $0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
    }
}
