import NIOCore
import PluginProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a `ConformanceRun` against a real plugin process: pipes, the clock and the exit.
struct ConformanceDriver {
    var run: ConformanceRun
    var process: PluginProcess
    /// Print every line exchanged, and the plugin's stderr.
    var verbose: Bool

    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var framer: LineFramer
    private var stdoutBuffer = ByteBuffer()
    private var stderrBuffer = ByteBuffer()
    private var pending = ByteBuffer()
    private var exited = false

    init(run: ConformanceRun, process: PluginProcess, verbose: Bool) {
        self.run = run
        self.process = process
        self.verbose = verbose
        self.start = clock.now
        self.framer = LineFramer(maxLineBytes: run.settings.maxLineBytes)
    }

    private var elapsed: Duration { clock.now - start }

    /// Drives the run until every check has a finding, then kills whatever is left of the
    /// plugin's process group.
    mutating func drive() {
        perform(run.start(at: elapsed))
        while !run.isFinished {
            waitForIO()
            readOutput()
            readErrors()
            flush()
            if !exited, let exit = process.reap() {
                exited = true
                readOutput()  // what it wrote before it ended
                run.exited(exit, at: elapsed)
            }
            perform(run.tick(at: elapsed))
        }
        process.signalGroup(SIGKILL)  // children it left behind
        PluginProcess.release(&process.input)
        PluginProcess.release(&process.output)
        PluginProcess.release(&process.errors)
    }

    private mutating func perform(_ actions: [ConformanceAction]) {
        for action in actions {
            switch action {
            case .send(let message):
                let before = pending.writerIndex
                HostMessageEncoder.encode(message, into: &pending)
                if verbose, let line = pending.getString(at: before, length: pending.writerIndex - before - 1) {
                    print("> \(line)")
                }
            case .kill:
                process.signalGroup(SIGKILL)
            }
        }
        flush()
    }

    /// Waits up to 20 ms for output from the plugin or room in its stdin.
    private func waitForIO() {
        var fds = [
            pollfd(fd: process.output, events: Int16(POLLIN), revents: 0),
            pollfd(fd: process.errors, events: Int16(POLLIN), revents: 0),
            pollfd(fd: pending.readableBytes > 0 ? process.input : -1, events: Int16(POLLOUT), revents: 0),
        ]
        _ = poll(&fds, nfds_t(fds.count), 20)
    }

    /// Reads what the plugin wrote to stdout and hands each line to the run.
    private mutating func readOutput() {
        // A bounded number of reads per turn, so that a plugin flooding its stdout cannot keep
        // the loop from its clock and its other pipes.
        for _ in 0..<16 where process.output >= 0 {
            guard let count = Self.readChunk(process.output, into: &stdoutBuffer) else { break }
            if count == 0 {
                PluginProcess.release(&process.output)
                break
            }
            while let framed = framer.next(from: &stdoutBuffer) {
                if verbose {
                    switch framed {
                    case .line(let line): print("< \(String(buffer: line))")
                    case .oversized(let bytes): print("< (a line of \(bytes) bytes)")
                    }
                }
                perform(run.received(framed, at: elapsed))
            }
            stdoutBuffer.discardReadBytes()
        }
    }

    /// Reads the plugin's stderr; keeps its last lines for the report.
    private mutating func readErrors() {
        for _ in 0..<16 where process.errors >= 0 {
            guard let count = Self.readChunk(process.errors, into: &stderrBuffer) else { break }
            if count == 0 {
                PluginProcess.release(&process.errors)
                break
            }
            while let newline = stderrBuffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")),
                let line = stderrBuffer.readString(length: newline - stderrBuffer.readerIndex)
            {
                stderrBuffer.moveReaderIndex(forwardBy: 1)
                run.stderrLine(line)
                if verbose { print("stderr: \(line)") }
            }
            if stderrBuffer.readableBytes > 4096 { stderrBuffer.clear() }
            stderrBuffer.discardReadBytes()
        }
    }

    /// Writes what is pending to the plugin's stdin, as far as the pipe takes it.
    private mutating func flush() {
        while pending.readableBytes > 0, process.input >= 0 {
            let written = pending.withUnsafeReadableBytes { write(process.input, $0.baseAddress, $0.count) }
            if written > 0 {
                pending.moveReaderIndex(forwardBy: written)
            } else if written < 0, errno == EAGAIN || errno == EINTR {
                return
            } else {
                // The plugin closed its stdin: nothing more can reach it.
                PluginProcess.release(&process.input)
                pending.clear()
            }
        }
        pending.discardReadBytes()
    }

    /// Reads once from a non-blocking descriptor: the byte count (0 at end of file or on an
    /// error), or nil when nothing is there now.
    private static func readChunk(_ fd: Int32, into buffer: inout ByteBuffer) -> Int? {
        var failure: Int32 = 0
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 65536) { space in
            let count = read(fd, space.baseAddress, space.count)
            if count < 0 { failure = errno }
            return max(0, count)
        }
        if failure != 0 { return failure == EAGAIN || failure == EINTR ? nil : 0 }
        return count
    }
}
