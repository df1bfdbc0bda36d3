import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAWS
import KaiwaAgent
import KaiwaAuth
import KaiwaCore
import KaiwaStore
import Logging

/// Seed 002's WebSocket chat on an API Gateway WebSocket API, with Kaiwa on Lambda behind
/// the Lambda Web Adapter: API Gateway's events arrive as pass-through POSTs to
/// `apigw.websocket.path`. `$connect` and `$disconnect` keep the `Connections` records (24 h);
/// `sendMessage` (or `$default` with that action) runs a reply and sends each of its events to
/// the client with `PostToConnection`, answering the invocation when the reply ends (Lambda
/// freezes a function once it has answered); `{"action":"stop"}` stops the connection's reply
/// wherever it runs. A connection that is gone (410) loses its record and gets nothing more.
///
/// Who is talking comes from API Gateway's authorizer (`requestContext.authorizer.principalId`),
/// which Kaiwa also answers (`APIGatewayWebSocketAuthorizer`): with Kaiwa's sign-in on, a
/// connection without one is refused. A request that reached the path through an HTTP front
/// door (the Web Adapter marks those with `x-amzn-request-context`) is not an event, and is
/// answered 404 as if the path did not exist: nobody can post events claiming to be someone.
struct APIGatewayWebSocketRoutes<Context: SubjectRequestContext> {
    let path: String
    let runner: ReplyRunner
    let tickets: WebSocketTickets
    /// The Management API client for an event's endpoint (`https://{domainName}/{stage}`).
    let management: @Sendable (_ endpoint: String) -> APIGatewayManagementClient
    /// Replaces the endpoint events name (tests, custom domains).
    let managementEndpoint: String?
    let requiresSignIn: Bool
    let connectionTTL: Duration
    let logger: Logger

    /// API Gateway's frame limit is 32 KiB.
    static var maxFrameBytes: Int { 32 * 1024 }

    struct Event: Decodable {
        struct RequestContext: Decodable {
            /// The authorizer's principal and context (`name`, `method`).
            struct Authorizer: Decodable {
                var principalId: String?
                var name: String?
                var method: String?
            }
            var routeKey: String
            var connectionId: String
            var domainName: String?
            var stage: String?
            var authorizer: Authorizer?
        }
        var requestContext: RequestContext
        var body: String?
        var isBase64Encoded: Bool?
        /// An authorizer's event: `type` `REQUEST`, the `methodArn` to allow, `?ticket=`.
        var type: String?
        var methodArn: String?
        var queryStringParameters: [String: String]?
    }


    func add(to router: Router<Context>) {
        router.post(RouterPath(path)) { request, context in
            guard request.headers[HTTPField.Name("x-amzn-request-context")!] == nil else {
                throw KaiwaError.notFound("There is nothing at \(request.uri.path).")
            }
            let event = try await JSONBody.decode(Event.self, from: request, limit: 256 * 1024)
            if event.type == "REQUEST", let methodArn = event.methodArn {
                let authorizer = APIGatewayWebSocketAuthorizer(tickets: tickets, requiresSignIn: requiresSignIn)
                let answer = await authorizer.authorize(methodArn: methodArn, ticket: event.queryStringParameters?["ticket"])
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
            let status = try await handle(event)
            // What API Gateway expects back from the integration (camel case, unlike Kaiwa's own answers).
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"statusCode":\#(status)}"#))
            )
        }
    }

    private func handle(_ event: Event) async throws -> Int {
        let connectionID = event.requestContext.connectionId
        guard (1...128).contains(connectionID.utf8.count) else { throw KaiwaError.badRequest("`requestContext.connectionId` is not a connection id.") }
        let store = runner.chat.store
        let now = runner.chat.clock.now()
        switch event.requestContext.routeKey {
        case "$connect":
            guard subject(of: event) != nil else { return 401 }
            try await store.saveConnection(ConnectionRecord(id: connectionID, createdAt: now, expiresAt: now.addingTimeInterval(connectionTTL.seconds)))
            return 200
        case "$disconnect":
            try await store.deleteConnection(connectionID)
            return 200
        default:
            guard let subject = subject(of: event) else { return 401 }
            let client = management(managementEndpoint ?? "https://\(event.requestContext.domainName ?? "")/\(event.requestContext.stage ?? "")")
            await converse(event, subject: subject, connectionID: connectionID, client: client)
            return 200
        }
    }

    /// The caller: the authorizer's principal, or the local user when sign-in is off.
    private func subject(of event: Event) -> Subject? {
        if let authorizer = event.requestContext.authorizer, let principal = authorizer.principalId, !principal.isEmpty {
            let method = authorizer.method.flatMap(Subject.Method.init(rawValue:)) ?? .jwt
            return method == .local ? .local : Subject(id: principal, name: authorizer.name ?? principal, method: method)
        }
        return requiresSignIn ? nil : .local
    }

    /// One client frame: answered with frames of its own, errors included.
    private func converse(_ event: Event, subject: Subject, connectionID: String, client: APIGatewayManagementClient) async {
        do {
            var text = event.body ?? ""
            if event.isBase64Encoded == true, let data = Data(base64Encoded: text) { text = String(decoding: data, as: UTF8.self) }
            guard text.utf8.count <= Self.maxFrameBytes else {
                throw KaiwaError(.payloadTooLarge, "A frame may be at most \(Self.maxFrameBytes) bytes.")
            }
            let frame = try WebSocketConversation.decode(WebSocketConversation.ClientFrame.self, from: text)
            switch frame.action {
            case "sendMessage":
                let body = try WebSocketConversation.decode(ChatRequestBody.self, from: text)
                let reply = try await runner.start(try body.chatRequest(from: subject))
                await remember(reply.sessionID, for: connectionID)
                await forward(reply, to: connectionID, client: client)
            case "stop":
                let session = try await runner.chat.store.connection(connectionID)?.sessionID
                var stopped = false
                if let session { stopped = try await runner.requestStop(session: session) }
                // A running reply answers with its `done` (stopped) to the request that started it.
                if !stopped { try await client.postToConnection(connectionID, data: Array(#"{"type":"stop","stopped":false}"#.utf8)) }
            default:
                throw KaiwaError.badRequest("Unknown action \"\(frame.action)\". Use \"sendMessage\" or \"stop\".")
            }
        } catch {
            let failure = ErrorResponseMiddleware<KaiwaRequestContext>.clientError(for: error, logger: logger)
            let frame = WebSocketConversation.ErrorFrame(error: failure.code.rawValue, message: failure.message)
            if let data = try? JSONEncoder().encode(frame) { await post(Array(data), to: connectionID, client: client) }
        }
    }

    private func remember(_ session: SessionID, for connectionID: String) async {
        do {
            let store = runner.chat.store
            guard var record = try await store.connection(connectionID) else { return }
            record.sessionID = session
            try await store.saveConnection(record)
        } catch {
            logger.warning("Could not update a connection record", metadata: ["error": "\(error)"])
        }
    }

    /// Sends the reply's events until it ends; a client that is gone stops the sending, not the reply.
    private func forward(_ reply: LiveReply, to connectionID: String, client: APIGatewayManagementClient) async {
        let follower = reply.follow()
        defer { runner.leave(follower) }
        runner.chat.metrics.stream("apigateway", opened: true)
        defer { runner.chat.metrics.stream("apigateway", opened: false) }
        var connected = true
        for await frame in follower.frames {
            guard connected, case .event(let event) = frame else { continue }
            for data in Self.frames(for: event) {
                connected = await post(data, to: connectionID, client: client)
                if !connected { break }
            }
        }
    }

    /// Posts one frame; `false` when the client is gone (its record is deleted then).
    @discardableResult
    private func post(_ data: [UInt8], to connectionID: String, client: APIGatewayManagementClient) async -> Bool {
        do {
            try await client.postToConnection(connectionID, data: data)
            return true
        } catch APIGatewayManagementClient.Failure.gone {
            logger.info("WebSocket client gone; forgetting its connection", metadata: ["connection": "\(connectionID)"])
            try? await runner.chat.store.deleteConnection(connectionID)
            return false
        } catch {
            logger.warning("Could not send a frame to a WebSocket client", metadata: ["error": "\(error)"])
            return true
        }
    }

    /// The event as frames under API Gateway's limit: a long text is cut into several deltas
    /// of the same sequence number, and a `done` too long for one frame leaves out the whole
    /// reply text (the client has it from the deltas) and says so with `response_omitted`.
    static func frames(for event: SequencedChatEvent) -> [[UInt8]] {
        let whole = Array(event.jsonText.utf8)
        guard whole.count > maxFrameBytes else { return [whole] }
        switch event.event {
        case .delta(let text):
            // 4,000 characters are at most 16,000 bytes of UTF-8, twice that escaped as JSON at worst.
            return chunks(of: text, characters: 4000).flatMap { frames(for: SequencedChatEvent(sequence: event.sequence, event: .delta(text: $0))) }
        case .done(let messageID, _, let stopped, let model, let cost):
            let short = SequencedChatEvent(sequence: event.sequence, event: .done(messageID: messageID, response: "", stopped: stopped, model: model, costUSD: cost))
            let json = short.jsonText
            return [Array((json.dropLast() + #","response_omitted":true}"#).utf8)]
        default:
            return [whole]
        }
    }

    private static func chunks(of text: String, characters: Int) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            pieces.append(String(rest.prefix(characters)))
            rest = rest.dropFirst(characters)
        }
        return pieces
    }
}
