#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh directory for one run's database, removed with the files SQLite leaves in it.
struct ScratchDirectory {
    /// The directory's path.
    let path: String

    /// Makes `parent/wharf-store-bench.XXXXXX`.
    init(in parent: String) throws(StoreBenchError) {
        var template = Array("\(parent)/wharf-store-bench.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let made else {
            throw StoreBenchError("cannot make a directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = made
    }

    /// The database file inside it.
    var databasePath: String { "\(path)/bench.db" }

    /// Deletes the database, its WAL and shared-memory files, and the directory.
    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            unlink(databasePath + suffix)
        }
        rmdir(path)
    }
}
