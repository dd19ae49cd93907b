#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh data directory for one case, removed with everything the store left in it.
struct ScratchDirectory: Sendable {
    /// The directory's path.
    let path: String

    /// Makes `parent/wharf-plugin-bench.XXXXXX`.
    init(in parent: String) throws(PluginBenchError) {
        var template = Array("\(parent)/wharf-plugin-bench.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let made else {
            throw PluginBenchError("cannot make a directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = made
    }

    /// Deletes the files in the directory (the store makes no subdirectories), then the directory.
    func remove() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink("\(path)/\(name)") }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}

/// A failure that ends the benchmark, with what went wrong.
struct PluginBenchError: Error, CustomStringConvertible {
    /// What went wrong.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
