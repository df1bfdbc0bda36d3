import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import KaiwaCore
import Logging
import NIOCore
import NIOHTTP1

/// Guards a connection until its first request head has been read: a head that cannot be
/// parsed (a header line without a colon, a `Content-Length` that is not a number, a request
/// line that is not HTTP) is answered with a 400 JSON error, and a head that has not arrived
/// within `headTimeout` (a client that connects and sends nothing, or sends slowly) closes the
/// connection. Later requests on the connection fall under Hummingbird's idle timeout.
///
/// Surprising but true: with WebSocket upgrades on, Hummingbird waits for a parsed head
/// before it sets up a connection's request handling (its idle timeout included), so a parse
/// error there reached no one, and a connection that never sent a head stayed open for good.
/// Errors after the first request has been passed on (a malformed chunked body) go on to
/// Hummingbird, and `ErrorResponseMiddleware` answers them.
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = HTTPServerResponsePart

    private let logger: Logger
    private let headTimeout: TimeAmount
    private var passedARequestOn = false
    private var headDeadline: Scheduled<Void>?

    init(logger: Logger, headTimeout: TimeAmount) {
        self.logger = logger
        self.headTimeout = headTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop.assumeIsolated()
        headDeadline = loop.scheduleTask(in: headTimeout) { [self] in
            guard !passedARequestOn else { return }
            logger.info("Closing a connection that sent no whole request head in time", metadata: ["timeout": "\(headTimeout)"])
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headDeadline?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A WebSocket upgrade: the head was read, and the connection is a WebSocket now.
        if event is HTTPServerUpgradeEvents { requestPassedOn() }
        context.fireUserInboundEventTriggered(event)
    }

    private func requestPassedOn() {
        passedARequestOn = true
        headDeadline?.cancel()
        headDeadline = nil
    }

    static func message(for error: HTTPParserError) -> String {
        "The request is not valid HTTP/1.1 (\(error)); it was not read."
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !passedARequestOn { requestPassedOn() }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !passedARequestOn, let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        logger.info("Malformed request", metadata: ["error": "\(parseError)"])
        let json = (try? JSONEncoder().encode(ErrorBody(error: KaiwaError.Code.badRequest.rawValue, message: Self.message(for: parseError)))) ?? Data()
        let headers = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", String(json.count)), ("Connection", "close"),
        ])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: json)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
