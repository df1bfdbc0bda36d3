import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// An OpenAI-compatible server that answers every chat completion at once with the same
/// short reply: a `chat.completion` object, or a stream of chunks when the request asks for
/// `"stream":true`. The upstream of `bench/upstream.sh`, and in `bench/gateway.sh` the floors:
/// what a Hummingbird server on this machine costs when it does nothing else, and with
/// `--proxy JSON_URL SSE_URL`, what it costs to pass each request's bytes to an upstream with
/// AsyncHTTPClient and its answer back (no parsing, no other work).
/// Usage: kaiwa-fake-openai PORT [--proxy JSON_URL SSE_URL]
@main
struct FakeOpenAI {
    static let streamed = [
        #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{"content":"Hello from "},"finish_reason":null}]}"#,
        #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{"content":"the fixed upstream."},"finish_reason":null}]}"#,
        #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"fake","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}}"#,
    ].map { "data: \($0)\n\n" }.joined() + "data: [DONE]\n\n"

    static let completion = #"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"fake","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fixed upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}}"#

    static func main() async throws {
        // As `kaiwa` does: Swift concurrency runs on NIO's event loops.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 9090 : 9090
        let arguments = CommandLine.arguments
        let upstreams = arguments.count > 4 && arguments[2] == "--proxy" ? (json: arguments[3], sse: arguments[4]) : nil
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let wantsStream = String(buffer: body).filter { $0 != " " }.contains(#""stream":true"#)
            let contentType = wantsStream ? "text/event-stream" : "application/json"
            guard let upstreams else {
                return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: wantsStream ? streamed : completion)))
            }
            var forwarded = HTTPClientRequest(url: wantsStream ? upstreams.sse : upstreams.json)
            forwarded.method = .POST
            forwarded.headers.add(name: "Content-Type", value: "application/json")
            forwarded.body = .bytes(body)
            let answer = try await client.execute(forwarded, timeout: .seconds(30))
            let bytes = try await answer.body.collect(upTo: 1 << 20)
            return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: bytes))
        }
        var logger = Logger(label: "fake-openai")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
        try await client.shutdown()
    }
}
