import Logging
import NIOCore

/// The log of one client connection: the broker's logger, and what identifies the connection
/// (`mqtt.peer`, `mqtt.client_id`, and rarely more) added to a line only when one is written.
///
/// A `Logger` carrying that metadata would cost every connection, idle or not, its own copy of
/// the logger, the log handler and a metadata dictionary, and the peer address as text: about
/// 600 bytes, a tenth of an idle connection, for lines that most connections never write. Here
/// the peer address is the channel's own (no copy) and the client identifier shares the handler's
/// string.
struct ConnectionLog {
    /// The broker's logger, shared by all connections.
    let base: Logger
    /// The client's address, once the connection is active.
    var peer: SocketAddress?
    /// The client identifier, once CONNECT assigned one.
    var clientIdentifier: String?
    /// Anything else a line of this connection should carry from now on (nil until needed).
    private var extra: Logger.Metadata?

    init(base: Logger) {
        self.base = base
    }

    /// Metadata every later line of this connection carries.
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { extra?[key] }
        set {
            var metadata = extra ?? [:]
            metadata[key] = newValue
            extra = metadata
        }
    }

    /// The logger with this connection's metadata, made for a line that is written.
    var logger: Logger {
        var logger = base
        logger[metadataKey: "mqtt.peer"] = "\(peer.map { "\($0)" } ?? "?")"
        if let clientIdentifier { logger[metadataKey: "mqtt.client_id"] = .string(clientIdentifier) }
        if let extra {
            for (key, value) in extra { logger[metadataKey: key] = value }
        }
        return logger
    }

    /// Writes a line at `level` if the broker's logger lets that level through.
    func log(
        level: Logger.Level,
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        guard base.logLevel <= level else { return }
        logger.log(level: level, message(), metadata: metadata(), file: file, function: function, line: line)
    }

    /// A `debug` line.
    func debug(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        log(level: .debug, message(), metadata: metadata(), file: file, function: function, line: line)
    }

    /// An `info` line.
    func info(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        log(level: .info, message(), metadata: metadata(), file: file, function: function, line: line)
    }

    /// A `warning` line.
    func warning(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        log(level: .warning, message(), metadata: metadata(), file: file, function: function, line: line)
    }

    /// An `error` line.
    func error(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        log(level: .error, message(), metadata: metadata(), file: file, function: function, line: line)
    }
}
