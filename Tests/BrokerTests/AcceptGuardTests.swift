import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfConfig

@testable import Broker

#if canImport(Glibc)
    import Glibc
#endif

/// Collects the connections a listener hands on.
final class AcceptedChildren: ChannelInboundHandler {
    typealias InboundIn = any Channel
    var children: [any Channel] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        children.append(unwrapInboundIn(data))
    }
}

@Suite struct AcceptGuardTests {
    struct Listener {
        let loop = EmbeddedEventLoop()
        let flowControl = BrokerFlowControl(config: FlowControlConfig())
        let server: EmbeddedChannel
        let reads = ReadCounter()
        let accepted = AcceptedChildren()

        init() throws {
            server = EmbeddedChannel(loop: loop)
            try server.pipeline.syncOperations.addHandler(reads)
            try server.pipeline.syncOperations.addHandler(
                AcceptGuard(listener: "test", flowControl: flowControl, logger: Logger(label: "test")))
            try server.pipeline.syncOperations.addHandler(accepted)
        }

        /// A new connection as the server socket hands it over.
        func accept() throws -> EmbeddedChannel {
            let child = EmbeddedChannel(loop: loop)
            try child.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            server.pipeline.fireChannelRead(child as any Channel)
            loop.run()
            return child
        }
    }

    @Test func atTheDescriptorBudgetNewConnectionsAreClosedAtOnceUntilAClientLeaves() throws {
        let listener = try Listener()
        listener.flowControl.socketBudget.store(2, ordering: .relaxed)
        let first = try listener.accept()
        _ = try listener.accept()
        #expect(listener.accepted.children.count == 2)
        let refused = try listener.accept()
        #expect(!refused.isActive, "a connection beyond the budget stays open, its client unanswered")
        #expect(listener.accepted.children.count == 2)
        #expect(listener.flowControl.connectionsRefused.load(ordering: .relaxed) == 1)
        try first.close().wait()
        listener.loop.run()
        #expect(listener.flowControl.openSockets.load(ordering: .relaxed) == 1)
        let served = try listener.accept()
        #expect(served.isActive, "a client left, yet the next one was refused")
        #expect(listener.accepted.children.count == 3)
    }

    @Test func atTheBudgetTheListenerKeepsAcceptingSoThatClientsAreToldAtOnce() throws {
        let listener = try Listener()
        listener.flowControl.socketBudget.store(0, ordering: .relaxed)
        listener.server.read()
        #expect(listener.reads.reads == 1, "the listener held back its read: clients would wait unanswered")
    }

    @Test func outOfDescriptorsTheNextConnectionsAreClosedAtOnce() throws {
        let listener = try Listener()
        listener.server.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept4"))
        let refused = try listener.accept()
        #expect(!refused.isActive, "the connection that took the spare descriptor stays open")
        #expect(listener.accepted.children.isEmpty)
        #expect(listener.flowControl.acceptFailures.load(ordering: .relaxed) == 1)
        #expect(listener.flowControl.connectionsShed.load(ordering: .relaxed) == 1)
        // The spare is open again: the next connection is served.
        let served = try listener.accept()
        #expect(served.isActive)
        #expect(listener.accepted.children.count == 1)
    }

    @Test func otherErrorsPassThrough() throws {
        let listener = try Listener()
        listener.server.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept4"))
        #expect(throws: IOError.self) { try listener.server.throwIfErrorCaught() }
        #expect(listener.flowControl.acceptFailures.load(ordering: .relaxed) == 0)
    }
}
