/// Wharf's version, the one place it is written down (packaging reads it from here).
public let wharfVersion = "0.1.0"
