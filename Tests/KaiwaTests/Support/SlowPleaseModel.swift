import Foundation
import Hummingbird

/// An OpenAI-compatible model server for tests that run `kaiwa serve` processes: a last
/// message containing "slow please" is answered with a hundred words, ten a second; anything
/// else at once with "noted". Every request body is recorded.
func withSlowPleaseModel(_ body: @Sendable (_ baseURL: String, _ requests: Shared<[String]>) async throws -> Void) async throws {
    let requests = Shared<[String]>([])
    try await withFakeUpstream({ router in
        router.post("/v1/chat/completions") { request, _ in
            var request = request
            let text = String(buffer: try await request.collectBody(upTo: 1 << 20))
            requests.update { $0.append(text) }
            let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let last = (json?["messages"] as? [[String: Any]])?.last?["content"]
            let slow = "\(last ?? "")".contains("slow please")
            let words = slow ? (1...100).map { "word\($0) " } : ["noted"]
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    for word in words {
                        try await writer.write(ByteBuffer(string: "data: \(OpenAIProviderTests.delta(word))\n\n"))
                        if slow { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                }
            )
        }
    }) { baseURL in
        try await body(baseURL, requests)
    }
}
