#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings read from the environment only by the test suites, to reach conditions that are
/// hard to create for real. They are documented in Tests/EndToEnd/README.md and do nothing when
/// unset.
enum TestHooks {
    /// `WHARF_TEST_STORE_MAX_PAGES`: caps the database at this many pages (SQLite's
    /// `max_page_count`) to simulate a full disk.
    static var storeMaxPageCount: Int? {
        guard let value = getenv("WHARF_TEST_STORE_MAX_PAGES") else { return nil }
        return Int(String(cString: value))
    }
}
