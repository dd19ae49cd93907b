import NIOCore
import NIOPosix
import Synchronization

/// A small Modbus TCP server on 127.0.0.1 for runtime tests: functions 1-6, 15 and 16 over
/// 1000 items per table, exception 2 beyond that, and a switch that makes it stop answering.
final class ModbusTestServer: Sendable {
    struct Tables {
        var coils = [Bool](repeating: false, count: 1000)
        var discrete = [Bool](repeating: false, count: 1000)
        var holding = [UInt16](repeating: 0, count: 1000)
        var input = [UInt16](repeating: 0, count: 1000)
        /// Requests received, by function code.
        var requests: [UInt8: Int] = [:]
        /// When false, requests are read and dropped (the client times out).
        var answering = true
    }

    let tables = Mutex(Tables())
    private let channel: any Channel

    /// The port the server listens on.
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Starts a server on a free port.
    static func start() async throws -> ModbusTestServer {
        let box = Mutex<ModbusTestServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let server = box.withLock({ $0 }) else { return }
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = ModbusTestServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    /// Stops listening (open connections stay until the client closes them).
    func stop() async {
        try? await channel.close()
    }

    /// Total requests of function `code`.
    func requests(_ code: UInt8) -> Int {
        tables.withLock { $0.requests[code] ?? 0 }
    }

    /// The response PDU for a request PDU, or nil to stay silent.
    func respond(to pdu: [UInt8]) -> [UInt8]? {
        tables.withLock { tables in
            guard let code = pdu.first, pdu.count >= 5 else { return nil }
            tables.requests[code, default: 0] += 1
            guard tables.answering else { return nil }
            let address = Int(pdu[1]) << 8 | Int(pdu[2])
            let count = Int(pdu[3]) << 8 | Int(pdu[4])
            func exception(_ reason: UInt8) -> [UInt8] { [code | 0x80, reason] }
            switch code {
            case 1, 2:
                let bits = code == 1 ? tables.coils : tables.discrete
                guard address + count <= bits.count else { return exception(2) }
                var bytes = [UInt8](repeating: 0, count: (count + 7) / 8)
                for index in 0..<count where bits[address + index] { bytes[index / 8] |= 1 << UInt8(index % 8) }
                return [code, UInt8(bytes.count)] + bytes
            case 3, 4:
                let registers = code == 3 ? tables.holding : tables.input
                guard address + count <= registers.count else { return exception(2) }
                let words = registers[address..<address + count]
                return [code, UInt8(count * 2)] + words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            case 5:
                guard address < tables.coils.count else { return exception(2) }
                tables.coils[address] = count == 0xFF00
                return pdu
            case 6:
                guard address < tables.holding.count else { return exception(2) }
                tables.holding[address] = UInt16(count)
                return pdu
            case 15:
                guard address + count <= tables.coils.count, pdu.count >= 6 + (count + 7) / 8 else {
                    return exception(2)
                }
                for index in 0..<count {
                    tables.coils[address + index] = pdu[6 + index / 8] >> UInt8(index % 8) & 1 == 1
                }
                return Array(pdu[0..<5])
            case 16:
                guard address + count <= tables.holding.count, pdu.count >= 6 + count * 2 else { return exception(2) }
                for index in 0..<count {
                    tables.holding[address + index] = UInt16(pdu[6 + 2 * index]) << 8 | UInt16(pdu[7 + 2 * index])
                }
                return Array(pdu[0..<5])
            default:
                return exception(1)
            }
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let server: ModbusTestServer
        private var pending = ByteBuffer()

        init(server: ModbusTestServer) {
            self.server = server
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            pending.writeBuffer(&incoming)
            // MBAP header: transaction (2), protocol (2), length (2), unit (1); length counts unit + PDU.
            while pending.readableBytes >= 7,
                let length = pending.getInteger(at: pending.readerIndex + 4, as: UInt16.self),
                pending.readableBytes >= 6 + Int(length),
                let frame = pending.readBytes(length: 6 + Int(length))
            {
                let pdu = Array(frame[7...])
                guard let answer = server.respond(to: pdu) else { continue }
                var out = context.channel.allocator.buffer(capacity: 7 + answer.count)
                out.writeBytes(frame[0..<4])
                out.writeInteger(UInt16(answer.count + 1))
                out.writeInteger(frame[6])
                out.writeBytes(answer)
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }
}
