/// The identity of a client certificate: the common name (CN) of its subject, read from the
/// certificate's DER encoding. Pure.
///
/// libcoap hands the CN callback a name of its own choosing (the first DNS subjectAltName, else
/// the first "CN=" found in a one-line rendering of the subject, which another attribute's value
/// can contain), so Wharf reads the subject itself: the name is the value of the subject's one
/// commonName attribute (OID 2.5.4.3), as a UTF8String, PrintableString or IA5String, non-empty
/// and without control characters. A certificate with no such attribute, with more than one, or
/// with a name in another string type has no usable name (`nil`).
public enum X509Subject {
    /// The subject CN of the DER-encoded certificate `der`; `nil` when it has no usable one.
    public static func commonName(der: [UInt8]) -> String? {
        let reader = DERReader(bytes: der)
        guard let certificate = reader.element(at: 0, limit: der.count), certificate.tag == DERReader.sequence,
            certificate.contents.upperBound == der.count,
            let tbs = reader.children(of: certificate)?.first, tbs.tag == DERReader.sequence,
            var fields = reader.children(of: tbs)
        else { return nil }
        if fields.first?.tag == DERReader.versionTag { fields.removeFirst() }
        // serialNumber, signature, issuer, validity, subject.
        guard fields.count >= 5, fields[4].tag == DERReader.sequence else { return nil }
        var names: [String?] = []
        guard let relativeNames = reader.children(of: fields[4]) else { return nil }
        for relativeName in relativeNames {
            guard relativeName.tag == DERReader.set, let attributes = reader.children(of: relativeName) else {
                return nil
            }
            for attribute in attributes {
                guard attribute.tag == DERReader.sequence, let parts = reader.children(of: attribute), parts.count == 2,
                    parts[0].tag == DERReader.objectIdentifier
                else { return nil }
                if reader.bytes(of: parts[0]).elementsEqual(commonNameOID) { names.append(text(reader, parts[1])) }
            }
        }
        guard names.count == 1, let name = names[0], isUsable(name) else { return nil }
        return name
    }

    /// Whether `name` can be a subject CN here: not empty, no control characters.
    public static func isUsable(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// 2.5.4.3 (id-at-commonName), encoded.
    private static let commonNameOID: [UInt8] = [0x55, 0x04, 0x03]

    /// The text of a directory string; `nil` for other string types or bytes that do not fit the type.
    private static func text(_ reader: DERReader, _ element: DERReader.Element) -> String? {
        let bytes = reader.bytes(of: element)
        switch element.tag {
        case 0x0C:  // UTF8String
            return String(validating: bytes, as: UTF8.self)
        case 0x13, 0x16:  // PrintableString, IA5String: ASCII
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        default:
            return nil
        }
    }
}

/// Reads DER tag-length-value elements with every length checked against its container.
struct DERReader {
    /// One element: its tag byte and where its contents are.
    struct Element {
        var tag: UInt8
        var contents: Range<Int>
    }

    static let sequence: UInt8 = 0x30
    static let set: UInt8 = 0x31
    static let objectIdentifier: UInt8 = 0x06
    /// `[0] EXPLICIT` of a certificate's version.
    static let versionTag: UInt8 = 0xA0

    let bytes: [UInt8]

    /// The element starting at `start` that ends at or before `limit`; `nil` when malformed.
    func element(at start: Int, limit: Int) -> Element? {
        guard start >= 0, start < limit, limit <= bytes.count else { return nil }
        let tag = bytes[start]
        // High tag numbers do not occur in the parts of a certificate read here.
        guard tag & 0x1F != 0x1F, start + 1 < limit else { return nil }
        var index = start + 1
        let first = bytes[index]
        index += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            // Long form with 1 to 4 length bytes; 0x80 (indefinite) is not DER.
            let count = Int(first & 0x7F)
            guard (1...4).contains(count), count <= limit - index else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard length <= limit - index else { return nil }
        return Element(tag: tag, contents: index..<(index + length))
    }

    /// The elements that make up `parent`'s contents, in order; `nil` unless they fill it exactly.
    func children(of parent: Element) -> [Element]? {
        var elements: [Element] = []
        var index = parent.contents.lowerBound
        while index < parent.contents.upperBound {
            guard let element = element(at: index, limit: parent.contents.upperBound) else { return nil }
            elements.append(element)
            index = element.contents.upperBound
        }
        return elements
    }

    /// The contents of `element`.
    func bytes(of element: Element) -> ArraySlice<UInt8> {
        bytes[element.contents]
    }
}
