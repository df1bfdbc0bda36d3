import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// A Kaiwa server on a loopback port, for tests that need real connections (streams that are
/// read as they come, dropped connections, WebSockets).
extension AppHarness {
    func runLive(_ body: @Sendable (_ port: Int) async throws -> Void) async throws {
        try await run(mode: .live) { client in
            try await body(client.port!)
        }
    }
}

/// One parsed Server-Sent Event, as a real SSE parser (swift-openapi-runtime's) reads it.
struct ReceivedEvent: Sendable {
    var id: String?
    var event: String?
    var data: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data((rawData ?? "").utf8))) as? [String: Any] ?? [:]
    }
    var rawData: String?
}

enum SSEClient {
    /// Sends a request and hands each event to `onEvent` as it arrives; stops reading when
    /// `onEvent` returns `false` (which drops the connection).
    static func stream(
        port: Int,
        path: String,
        method: HTTPMethod = .POST,
        json: String? = nil,
        headers: [(String, String)] = [],
        onEvent: @Sendable (ReceivedEvent) async throws -> Bool
    ) async throws -> (status: Int, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = response.body.map { ArraySlice($0.readableBytesView) }
        for try await event in bytes.asDecodedServerSentEvents() {
            if try await !onEvent(ReceivedEvent(id: event.id, event: event.event, rawData: event.data)) { break }
        }
        return (Int(response.status.code), response.headers)
    }
}
