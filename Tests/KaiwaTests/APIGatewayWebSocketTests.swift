import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaAWS
import KaiwaAuth
import KaiwaCore
import KaiwaStore
import Testing

@testable import KaiwaServer

/// Seed 002's chat over an API Gateway WebSocket API: events as the Lambda Web Adapter passes
/// them through, replies sent with PostToConnection to a fake Management API that checks each
/// request's SigV4 signature (service `execute-api`).
struct APIGatewayWebSocketTests {
    /// What the fake Management API received: connection id and frame, and whether it was signed.
    final class Posts: Sendable {
        let all = Shared<[(connection: String, frame: [UInt8], signed: Bool)]>([])
        func frames(to connection: String) -> [[String: Any]] {
            all.get().filter { $0.connection == connection }.map {
                (try? JSONSerialization.jsonObject(with: Data($0.frame))) as? [String: Any] ?? ["unreadable": true]
            }
        }
        var allSigned: Bool { all.get().allSatisfy(\.signed) }
    }

    static func event(_ route: String, connection: String, body: String? = nil) -> String {
        let encodedBody = body.map { String(decoding: try! JSONEncoder().encode($0), as: UTF8.self) } ?? "null"
        return #"{"requestContext":{"routeKey":"\#(route)","connectionId":"\#(connection)","domainName":"abc.execute-api.ap-northeast-1.amazonaws.com","stage":"prod","eventType":"MESSAGE"},"body":\#(encodedBody),"isBase64Encoded":false}"#
    }

    /// Runs `body` with a Kaiwa that takes API Gateway events at /apigw/websocket and a fake
    /// Management API that answers 410 (gone) for connections whose id starts with `gone`.
    static func withGateway(
        store: any ChatStore, signIn: Bool = false, _ body: @Sendable (any TestClientProtocol, Posts) async throws -> Void
    ) async throws {
        let posts = Posts()
        let port = Shared(0)
        try await withFakeUpstream({ router in
            router.post("/prod/@connections/:id") { request, context in
                var request = request
                let bytes = Array((try await request.collectBody(upTo: 1 << 20)).readableBytesView)
                let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
                posts.all.update { $0.append((id, bytes, FakeBedrock.hasValidSignature(request, body: bytes, port: port.get(), service: "execute-api"))) }
                return Response(status: id.hasPrefix("gone") ? .gone : .ok)
            }
        }) { base in
            port.set(Int(base.split(separator: ":").last ?? "0") ?? 0)
            var harness = AppHarness(store: store)
            harness.configuration.apiGatewayWebSocketPath = "/apigw/websocket"
            if signIn { harness.configuration.auth.mode = .init(jwt: false, apiKey: true) }
            harness.configuration.apiGatewayManagementEndpoint = base + "/prod"
            harness.webSocketManagement = { endpoint in
                APIGatewayManagementClient(endpoint: endpoint, region: "ap-northeast-1", credentials: BedrockProviderTests.Fixed(), client: testHTTPClient)
            }
            try await harness.run { client in try await body(client, posts) }
        }
    }

    @Test func aConversationConnectsStreamsEachEventByPostToConnectionAndDisconnects() async throws {
        let store = InMemoryChatStore()
        try await Self.withGateway(store: store) { client, posts in
            let connected = try await client.post("/apigw/websocket", json: Self.event("$connect", connection: "c1=="))
            #expect(connected.json["statusCode"] as? Int == 200, "\(connected.status) \(connected.text)")
            let record = try #require(try await store.connection("c1=="))
            #expect(record.expiresAt.timeIntervalSince(record.createdAt) == 24 * 3600)

            let sent = try await client.post(
                "/apigw/websocket", json: Self.event("sendMessage", connection: "c1==", body: #"{"action":"sendMessage","message":"こんにちは","session_id":"gw-1"}"#)
            )
            #expect(sent.json["statusCode"] as? Int == 200)
            let frames = posts.frames(to: "c1==")
            #expect(frames.first?["type"] as? String == "session")
            #expect(frames.contains { $0["type"] as? String == "delta" })
            #expect(frames.last?["type"] as? String == "done")
            #expect(frames.last?["response"] as? String == "こんにちは！何かお手伝いできることはありますか？")
            #expect(posts.allSigned, "a PostToConnection was not signed for execute-api")
            #expect(try await store.connection("c1==")?.sessionID?.rawValue == "gw-1")
            #expect(try await store.messages(in: SessionID(trusted: "gw-1")).count == 2)

            #expect(try await client.post("/apigw/websocket", json: Self.event("$disconnect", connection: "c1==")).json["statusCode"] as? Int == 200)
            #expect(try await store.connection("c1==") == nil)
        }
    }

    static func event(_ route: String, connection: String, body: String? = nil, principal: String, name: String) -> String {
        event(route, connection: connection, body: body).replacingOccurrences(
            of: #""eventType":"MESSAGE"}"#, with: #""eventType":"MESSAGE","authorizer":{"principalId":"\#(principal)","name":"\#(name)","method":"api_key"}}"#
        )
    }

    static func authorizerEvent(ticket: String?) -> String {
        let query = ticket.map { #","queryStringParameters":{"ticket":"\#($0)"}"# } ?? ""
        return #"{"type":"REQUEST","methodArn":"arn:aws:execute-api:ap-northeast-1:123456789012:abc/prod/$connect","requestContext":{"routeKey":"$connect","connectionId":"c9==","eventType":"CONNECT"}\#(query)}"#
    }

    /// With sign-in on, a browser asks for a ticket, connects with `?ticket=`, and Kaiwa (as the
    /// `$connect` authorizer) lets it in once as that user; API Gateway then names the user on
    /// every event, and the conversation is theirs.
    @Test func withSignInTheConnectAuthorizerRedeemsATicketOnceAndTheConversationIsTheUsers() async throws {
        let store = InMemoryChatStore()
        let key = try await APIKeys(store: store).create(user: "alice", name: nil, expiresAt: nil).key
        try await Self.withGateway(store: store, signIn: true) { client, posts in
            let issued = try await client.post("/api/auth/ticket", json: "", headers: [.authorization: "Bearer \(key)"])
            let ticket = try #require(issued.json["ticket"] as? String, "\(issued.status) \(issued.text)")

            let allowed = try await client.post("/apigw/websocket", json: Self.authorizerEvent(ticket: ticket))
            #expect(allowed.json["principalId"] as? String == "alice", "\(allowed.text)")
            let statement = ((allowed.json["policyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]])?.first
            #expect(statement?["Effect"] as? String == "Allow")
            #expect(statement?["Resource"] as? String == "arn:aws:execute-api:ap-northeast-1:123456789012:abc/prod/$connect")
            #expect((allowed.json["context"] as? [String: Any])?["method"] as? String == "api_key")

            for denied in [ticket, "kt_madeup", nil] {
                let answer = try await client.post("/apigw/websocket", json: Self.authorizerEvent(ticket: denied))
                let effect = ((answer.json["policyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]])?.first?["Effect"]
                #expect(effect as? String == "Deny", "ticket \(denied ?? "none") was let in")
            }

            // Events without the authorizer's principal are refused.
            #expect(try await client.post("/apigw/websocket", json: Self.event("$connect", connection: "c9==")).json["statusCode"] as? Int == 401)
            let connect = Self.event("$connect", connection: "c9==", principal: "alice", name: "Alice")
            #expect(try await client.post("/apigw/websocket", json: connect).json["statusCode"] as? Int == 200)
            let message = #"{"action":"sendMessage","message":"こんにちは","session_id":"gw-alice"}"#
            let sent = try await client.post(
                "/apigw/websocket", json: Self.event("sendMessage", connection: "c9==", body: message, principal: "alice", name: "Alice")
            )
            #expect(sent.json["statusCode"] as? Int == 200)
            #expect(posts.frames(to: "c9==").last?["type"] as? String == "done")
            #expect(try await store.session(SessionID(trusted: "gw-alice"))?.owner == "alice")

            // The same path reached through an HTTP front door (a function URL, REST's {proxy+})
            // is not an event: nobody can post one claiming to be alice.
            let forged = try await client.post(
                "/apigw/websocket", json: Self.event("sendMessage", connection: "c9==", body: message, principal: "alice", name: "Alice"),
                headers: [HTTPField.Name("x-amzn-request-context")!: #"{"stage":"prod"}"#]
            )
            #expect(forged.status == .notFound)
        }
    }

    @Test func aClientThatIsGoneLosesItsRecordAndTheReplyIsStillStored() async throws {
        let store = InMemoryChatStore()
        try await Self.withGateway(store: store) { client, posts in
            _ = try await client.post("/apigw/websocket", json: Self.event("$connect", connection: "gone-1"))
            _ = try await client.post(
                "/apigw/websocket", json: Self.event("sendMessage", connection: "gone-1", body: #"{"action":"sendMessage","message":"hi","session_id":"gw-2"}"#)
            )
            #expect(posts.frames(to: "gone-1").count == 1, "frames were sent after GoneException")
            #expect(try await store.connection("gone-1") == nil)
            let stored = try await store.messages(in: SessionID(trusted: "gw-2"))
            #expect(stored.last?.role == .assistant)
            #expect(stored.last?.status == .complete)
        }
    }

    @Test func badFramesAndStopsWithNothingRunningGetFramesBack() async throws {
        try await Self.withGateway(store: InMemoryChatStore()) { client, posts in
            _ = try await client.post("/apigw/websocket", json: Self.event("$connect", connection: "c2"))
            for body in ["not json", #"{"action":"dance"}"#, #"{"action":"sendMessage"}"#, #"{"action":"sendMessage","message":"x","session_id":"bad id"}"#] {
                _ = try await client.post("/apigw/websocket", json: Self.event("$default", connection: "c2", body: body))
            }
            _ = try await client.post("/apigw/websocket", json: Self.event("stop", connection: "c2", body: #"{"action":"stop"}"#))
            let frames = posts.frames(to: "c2")
            #expect(frames.prefix(4).map { $0["error"] as? String } == ["bad_request", "bad_request", "bad_request", "invalid_session_id"])
            #expect(frames.last?["type"] as? String == "stop")
            #expect(frames.last?["stopped"] as? Bool == false)
            // A body that is not an API Gateway event at all.
            #expect(try await client.post("/apigw/websocket", json: #"{"hello":1}"#).status == .badRequest)
        }
    }

    @Test func everyFrameStaysUnderAPIGatewaysLimit() throws {
        let long = String(repeating: "長い返事。", count: 12_000)
        let deltas = APIGatewayWebSocketRoutes<KaiwaRequestContext>.frames(for: SequencedChatEvent(sequence: 7, event: .delta(text: long)))
        #expect(deltas.count > 1)
        #expect(deltas.allSatisfy { $0.count <= 32 * 1024 })
        let texts = try deltas.map { try JSONDecoder().decode(SequencedChatEvent.self, from: Data($0)) }
        #expect(texts.map(\.sequence) == Array(repeating: 7, count: deltas.count))
        #expect(texts.map { if case .delta(let text) = $0.event { text } else { "" } }.joined() == long)
        let done = APIGatewayWebSocketRoutes<KaiwaRequestContext>.frames(
            for: SequencedChatEvent(sequence: 8, event: .done(messageID: "m", response: long, stopped: false))
        )
        #expect(done.count == 1 && done[0].count <= 32 * 1024)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(done[0])) as? [String: Any])
        #expect(object["response_omitted"] as? Bool == true)
        #expect(object["type"] as? String == "done")
    }
}
