#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libFuzzer's entry for programs that keep their own `main` (SwiftPM names an executable's entry
/// point after its target, so libFuzzer's own `main` is never linked in).
@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the process's arguments on `callback` and exits with its status.
public func runLibFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(llvmFuzzerRunDriver(&argc, &argv, callback))
}

/// Stops the run with a message libFuzzer records with the input: an invariant did not hold.
public func fuzzFailure(_ message: String) -> Never {
    var line = "fuzz invariant violated: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    abort()
}

/// The fuzzer's input as bytes, with a cursor for the few bytes that steer a run (chunk sizes,
/// versions, limits) before the rest is fed to the code under test.
public struct FuzzInput {
    /// All the bytes.
    public let bytes: [UInt8]
    /// Bytes taken so far by `take()`.
    public private(set) var offset = 0

    /// Copies libFuzzer's input.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    /// The next steering byte, 0 once the input is used up.
    public mutating func take() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// What `take()` has not consumed.
    public var rest: ArraySlice<UInt8> { bytes[min(offset, bytes.count)...] }

    /// Splits `data` into chunks whose sizes (1 to 64 bytes) come from `sizes`, cycling through it;
    /// one chunk when `sizes` is empty, as when a whole packet arrives in one read.
    public static func chunks(of data: ArraySlice<UInt8>, sizes: [UInt8]) -> [ArraySlice<UInt8>] {
        guard !sizes.isEmpty else { return [data] }
        var result: [ArraySlice<UInt8>] = []
        var start = data.startIndex
        var index = 0
        while start < data.endIndex {
            let size = Int(sizes[index % sizes.count] & 0x3F) + 1
            let end = min(start + size, data.endIndex)
            result.append(data[start..<end])
            start = end
            index += 1
        }
        return result
    }
}
