import Foundation
import HTTPTypes
import Hummingbird
import KaiwaCore
@testable import KaiwaTools
import Synchronization
import Testing

/// `search_connpass` against a fake connpass API v2.
struct ConnpassToolTests {
    static let answer = #"""
    {"results_returned":2,"results_available":42,"results_start":1,"events":[
     {"id":1,"title":"TSKaigi 2026","catch":"TypeScript のカンファレンス","description":"<p>long html</p>","url":"https://tskaigi.connpass.com/event/1/",
      "image_url":"https://x/1.png","hash_tag":"tskaigi","started_at":"2026-12-05T10:00:00+09:00","ended_at":"2026-12-05T18:00:00+09:00",
      "limit":500,"event_type":"participation","open_status":"preopen","group":{"id":9,"subdomain":"tskaigi","title":"TSKaigi","url":"https://tskaigi.connpass.com/"},
      "address":"東京都千代田区","place":"ベルサール神田","lat":"35.6","lon":"139.7","owner_id":3,"owner_nickname":"o","owner_display_name":"O",
      "accepted":320,"waiting":12,"updated_at":"2026-11-01T00:00:00+09:00"},
     {"id":2,"title":"Swift勉強会","catch":null,"url":"https://swift.connpass.com/event/2/","started_at":"2026-12-10T19:00:00+09:00",
      "ended_at":"2026-12-10T21:00:00+09:00","limit":null,"event_type":"participation","open_status":"open","group":null,
      "address":null,"place":"オンライン","accepted":15,"waiting":0}
    ]}
    """#

    static func tool(_ base: String, key: String? = "connpass-key", timeout: Duration = .seconds(5), interval: Duration = .seconds(1)) -> ConnpassSearchTool {
        ConnpassSearchTool(baseURL: base, keys: ConnpassKeySource(configured: key, secrets: nil), client: testHTTPClient, timeout: timeout, minimumInterval: interval)
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    @Test func searchSendsTheKeyAndParametersAndTrimsTheAnswer() async throws {
        let seen = Shared<(query: String, key: String?)>(("", nil))
        try await withFakeUpstream({ router in
            router.get("/api/v2/events/") { request, _ in
                seen.set((request.uri.query ?? "", request.headers[HTTPField.Name("X-API-Key")!]))
                return Self.json(Self.answer)
            }
        }) { base in
            let output = try await Self.tool(base).call(.object([
                "keyword": .string("TypeScript カンファレンス"), "prefecture": .string("tokyo"), "ym": .string("202612"), "order": .number(2), "count": .number(500),
            ]))
            #expect(!output.isError)
            #expect(output.summary.contains("2件"))
            let query = seen.get().query
            #expect(seen.get().key == "connpass-key")
            #expect(query.contains("keyword=TypeScript"))
            #expect(query.contains("keyword=%E3%82%AB%E3%83%B3%E3%83%95%E3%82%A1%E3%83%AC%E3%83%B3%E3%82%B9"))
            #expect(query.contains("prefecture=tokyo") && query.contains("ym=202612") && query.contains("order=2"))
            #expect(query.contains("count=\(ConnpassSearchTool.maxCount)"))
            let result = try #require(try JSONSerialization.jsonObject(with: Data(output.content.utf8)) as? [String: Any])
            #expect(result["results_available"] as? Int == 42)
            let first = try #require((result["events"] as? [[String: Any]])?.first)
            #expect(Set(first.keys) == ["title", "catch", "url", "started_at", "ended_at", "place", "address", "accepted", "limit", "waiting", "group", "event_type", "open_status"])
            #expect(first["group"] as? String == "TSKaigi")
            #expect(!output.content.contains("long html"))
        }
    }

    @Test func slowConnpassIsATimeoutResult() async throws {
        try await withFakeUpstream({ router in
            router.get("/api/v2/events/") { _, _ in
                try await Task.sleep(for: .seconds(3))
                return Self.json(Self.answer)
            }
        }) { base in
            let output = try await Self.tool(base, timeout: .milliseconds(300)).call(.object(["keyword": .string("Swift")]))
            #expect(output.isError)
            #expect(output.content.contains("did not answer"))
        }
    }

    @Test func rejectedKeyAndMissingKeyAreClearResults() async throws {
        try await withFakeUpstream({ router in
            router.get("/api/v2/events/") { _, _ in Self.json(#"{"error":"unauthorized"}"#, status: .unauthorized) }
        }) { base in
            let rejected = try await Self.tool(base).call(.object([:]))
            #expect(rejected.isError && rejected.content.contains("refused the API key"))
            let missing = try await Self.tool(base, key: nil).call(.object([:]))
            #expect(missing.isError && missing.content.contains("not configured"))
        }
    }

    @Test func hugeOrFractionalNumbersFromAModelAreClampedNotFatal() throws {
        let tool = Self.tool("https://connpass.example")
        let url = try tool.searchURL(for: .object(["start": .number(1e20), "count": .number(-1e300), "order": .number(2.6)]))
        #expect(url.contains("start=100000"))
        #expect(url.contains("count=1"))
        #expect(url.contains("order=3"))
        #expect(JSONSchemaValidatorProbe.problems(.number(1e21), maximum: 1e20).first?.contains("at most") == true)
    }

    @Test func tooManyRequestsIsRetriedOnceAndConcurrentSearchesAreSpacedASecondApart() async throws {
        let calls = CallCounter()
        let times = Shared<[ContinuousClock.Instant]>([])
        try await withFakeUpstream({ router in
            router.get("/api/v2/events/") { _, _ in
                times.update { $0.append(.now) }
                return calls.next() == 1 ? Self.json(#"{"error":"slow down"}"#, status: .tooManyRequests) : Self.json(Self.answer)
            }
        }) { base in
            let tool = Self.tool(base)
            let started = ContinuousClock.now
            async let first = tool.call(.object(["keyword": .string("a")]))
            async let second = tool.call(.object(["keyword": .string("b")]))
            let results = try await [first, second]
            #expect(results.allSatisfy { !$0.isError })
            #expect(calls.value == 3)
            #expect(times.get().count == 3)
            // Three calls in slots a second apart: the last cannot start before two seconds have
            // passed (without spacing: a few milliseconds). Arrival times at the fake server are
            // not compared, as connection set-up on a busy machine can delay one by a second.
            #expect(ContinuousClock.now - started >= .milliseconds(1900))
        }
    }

    @Test func rateLimiterGrantsTurnsAtLeastASecondApartAndNeverFails() async throws {
        let limiter = ConnpassRateLimiter(interval: .seconds(1))
        let granted = Shared<[ContinuousClock.Instant]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let slot = try await limiter.waitTurn()
                    #expect(ContinuousClock.now >= slot)
                    granted.update { $0.append(slot) }
                }
            }
            try await group.waitForAll()
        }
        let slots = granted.get().sorted()
        #expect(slots.count == 3)
        for (earlier, later) in zip(slots, slots.dropFirst()) {
            #expect(later - earlier >= .seconds(1))
        }
    }

    @Test func searchesAbandonedWhileWaitingDoNotPushLaterOnesBack() async throws {
        let limiter = ConnpassRateLimiter(interval: .seconds(1))
        try await limiter.waitTurn()
        // Five searches queue up behind it and are abandoned (the tool's timeout cancels them).
        let abandoned = (0..<5).map { _ in Task { try await limiter.waitTurn() } }
        try await Task.sleep(for: .milliseconds(100))
        for search in abandoned { search.cancel() }
        let started = ContinuousClock.now
        try await limiter.waitTurn()
        // The next turn is a second after the first, not after five turns nobody used (~6 s).
        #expect(ContinuousClock.now - started < .seconds(3))
    }
}
