import Hummingbird
import Logging

/// An OpenAI-compatible server that answers every chat completion at once with the same
/// short streamed reply, for `bench/upstream.sh`. Usage: kaiwa-fake-openai PORT
@main
struct FakeOpenAI {
    static let answer = [
        #"{"choices":[{"index":0,"delta":{"content":"Hello from "},"finish_reason":null}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"the fake upstream."},"finish_reason":null}]}"#,
        #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}}"#,
    ].map { "data: \($0)\n\n" }.joined() + "data: [DONE]\n\n"

    static func main() async throws {
        let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 9090 : 9090
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            var request = request
            _ = try await request.collectBody(upTo: 1 << 20)
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        var logger = Logger(label: "fake-openai")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
