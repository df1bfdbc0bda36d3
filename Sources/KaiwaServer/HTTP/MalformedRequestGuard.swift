import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import KaiwaCore
import Logging
import NIOCore
import NIOHTTP1

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with WebSocket upgrades, plus `MalformedRequestGuard`: a
    /// request whose head cannot be parsed is answered 400 and its connection closed.
    static func kaiwa<Builder: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: Builder,
        configuration: HTTP1WebSocketUpgradeChannel.Configuration
    ) -> HTTPServerBuilder where Builder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            GuardedChildChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration)
            )
        }
    }
}

/// A server child channel with `MalformedRequestGuard` at the end of its pipeline.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(MalformedRequestGuard(logger: logger))
            return value
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Answers a request whose head cannot be parsed (a header line without a colon, a
/// `Content-Length` that is not a number, a request line that is not HTTP) with a 400 JSON
/// error and closes the connection.
///
/// Surprising but true: with WebSocket upgrades on, Hummingbird waits for a parsed head
/// before it sets up a connection's request handling, so a parse error there reached no one;
/// the client got no answer and the connection stayed open for good. Errors after the first
/// request has been passed on (a malformed chunked body) go on to Hummingbird, and
/// `ErrorResponseMiddleware` answers them.
final class MalformedRequestGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = HTTPServerResponsePart

    private let logger: Logger
    private var passedARequestOn = false

    init(logger: Logger) {
        self.logger = logger
    }

    static func message(for error: HTTPParserError) -> String {
        "The request is not valid HTTP/1.1 (\(error)); it was not read."
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        passedARequestOn = true
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
