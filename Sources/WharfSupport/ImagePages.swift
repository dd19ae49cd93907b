import CImagePages

/// The pages of wharfd's own code that start-up made resident.
///
/// Starting touches code that never runs again (reading the configuration, opening the
/// store, setting up listeners), and the kernel maps 64 KiB of neighbouring code around
/// every page it faults in. Those pages are clean copies of the executable: unmapping them
/// costs nothing but a minor fault from the page cache when one is needed again, and leaves
/// the idle daemon with the code it runs. Writable and RELRO segments are never touched.
public enum ImagePages {
    /// Unmaps the resident pages of the executable's read-only segments; returns how many
    /// bytes of address range were released, or nil when the executable was not found.
    @discardableResult
    public static func releaseStartupPages() -> Int? {
        let released = wharf_release_image_pages()
        return released < 0 ? nil : released
    }
}
