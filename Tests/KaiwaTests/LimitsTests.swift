import Foundation
import HTTPTypes
import HummingbirdTesting
import KaiwaAuth
import KaiwaCore
import KaiwaDynamoDBStore
import KaiwaModels
import KaiwaServer
import KaiwaStore
import Testing

/// Each subject's limits (requests a minute, replies at once, tokens a day) and the limit on
/// failed sign-ins per address; counted in the store, so instances sharing one share them.
struct LimitsTests {
    static func harness(_ store: any ChatStore, clock: TestClock, limits: UsageLimits, model: any ModelProvider = RulesModel()) -> AppHarness {
        var harness = AppHarness(store: store, model: model)
        harness.clock = clock
        harness.configuration.auth.mode = .init(jwt: false, apiKey: true)
        harness.configuration.auth.limits = limits
        return harness
    }

    static func key(_ store: any ChatStore, _ user: String) async throws -> HTTPFields {
        [.authorization: "Bearer \(try await APIKeys(store: store).create(user: user, name: nil, expiresAt: nil).key)"]
    }

    @Test func requestsOverTheMinutesAllowanceAre429WithRetryAfterAcrossTwoInstances() async throws {
        let clock = TestClock()
        let first = try await MotoServer.makeStore()
        let second = DynamoDBChatStore(client: first.client, tables: first.tables, retention: first.retention)
        let alice = try await Self.key(first, "alice")
        let bob = try await Self.key(first, "bob")
        let limits = UsageLimits(requestsPerMinute: 3, concurrentReplies: 0, tokensPerDay: 0)
        try await Self.harness(first, clock: clock, limits: limits).run { a in
            try await Self.harness(second, clock: clock, limits: limits).run { b in
                #expect(try await a.get("/api/sessions", headers: alice).status == .ok)
                #expect(try await b.get("/api/sessions", headers: alice).status == .ok)
                #expect(try await a.get("/api/sessions", headers: alice).status == .ok)
                let limited = try await b.get("/api/sessions", headers: alice)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.json["error"] as? String == "rate_limited")
                #expect(limited.headers[.retryAfter] == "20")
                // Another user's allowance is their own.
                #expect(try await b.get("/api/sessions", headers: bob).status == .ok)
                clock.advance(seconds: 20)
                #expect(try await a.get("/api/sessions", headers: alice).status == .ok)
            }
        }
    }

    @Test func repliesAtOnceTokensADayAndFailedSignInsAreSharedByTwoInstances() async throws {
        let clock = TestClock(Date())
        let first = try await MotoServer.makeStore()
        let second = DynamoDBChatStore(client: first.client, tables: first.tables, retention: first.retention)
        let alice = try await Self.key(first, "alice")
        let model = ScriptedModel.replying("晴れです")  // 19 tokens a reply
        func instance(_ store: any ChatStore) -> AppHarness {
            var harness = Self.harness(store, clock: clock, limits: UsageLimits(requestsPerMinute: 0, concurrentReplies: 1, tokensPerDay: 30), model: model)
            harness.configuration.auth.failuresPerMinute = 3
            harness.configuration.auth.clientAddressHeader = "X-Forwarded-For"
            return harness
        }
        let harnessA = instance(first)
        let harnessB = instance(second)
        try await harnessA.run { a in
            try await harnessB.run { b in
                // One reply at a time: a slot taken through A is seen by B.
                let slot = try #require(try await first.claimSlot("replies#alice", limit: 1, holder: "elsewhere", until: clock.now().addingTimeInterval(60), now: clock.now()))
                let busy = try await b.post("/chat", json: #"{"message":"hi"}"#, headers: alice)
                #expect(busy.status == .tooManyRequests)
                #expect(busy.json["error"] as? String == "rate_limited")
                try await first.releaseSlot("replies#alice", index: slot, holder: "elsewhere")
                // Tokens: 19 through A, 19 more through B, then both refuse.
                #expect(try await a.post("/chat", json: #"{"message":"hi"}"#, headers: alice).status == .ok)
                #expect(try await b.post("/chat", json: #"{"message":"hi"}"#, headers: alice).status == .ok)
                let overA = try await a.post("/chat", json: #"{"message":"hi"}"#, headers: alice)
                let overB = try await b.post("/chat", json: #"{"message":"hi"}"#, headers: alice)
                #expect(overA.json["error"] as? String == "quota_exceeded")
                #expect(overB.json["error"] as? String == "quota_exceeded")
                // Failed sign-ins from one address: two on A and one on B use up the three.
                let guess: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.8", .authorization: "Bearer kw_" + String(repeating: "B", count: 43)]
                #expect(try await a.get("/api/me", headers: guess).status == .unauthorized)
                #expect(try await a.get("/api/me", headers: guess).status == .unauthorized)
                #expect(try await b.get("/api/me", headers: guess).status == .unauthorized)
                let blocked = try await a.get("/api/me", headers: guess)
                #expect(blocked.status == .tooManyRequests)
            }
        }
    }

    @Test func aThirdReplyAtOnceIsRefusedUntilOneEnds() async throws {
        let store = InMemoryChatStore()
        let model = SlowModel(chunks: 200, interval: .milliseconds(20))
        let alice = try await Self.key(store, "alice")
        try await Self.harness(store, clock: TestClock(), limits: UsageLimits(requestsPerMinute: 0, concurrentReplies: 2, tokensPerDay: 0), model: model)
            .run(mode: .live) { client in
                let port = client.port!
                var streams: [Task<Void, any Error>] = []
                for index in 1...2 {
                    streams.append(Task {
                        _ = try await SSEClient.stream(port: port, path: "/chat/stream", json: #"{"message":"hi","session_id":"s\#(index)"}"#, headers: alice.pairs) { _ in true }
                    })
                }
                try await waitUntil { try await client.get("/api/me", headers: alice).json["usage"].flatMap { ($0 as? [String: Any])?["replies_running"] as? Int } == 2 }
                let third = try await client.post("/chat", json: #"{"message":"hi","session_id":"s3"}"#, headers: alice)
                #expect(third.status == .tooManyRequests)
                #expect(third.json["error"] as? String == "rate_limited")
                #expect(third.headers[.retryAfter] != nil)
                #expect(try await client.get("/api/sessions/s3", headers: alice).status == .notFound)
                #expect(try await client.execute(uri: "/api/sessions/s1/stop", method: .post, headers: alice).json["stopped"] as? Bool == true)
                try await waitUntil { try await client.post("/chat", json: #"{"message":"hi","session_id":"s4"}"#, headers: alice).status != .tooManyRequests }
                for stream in streams { stream.cancel() }
                _ = try? await client.execute(uri: "/api/sessions/s2/stop", method: .post, headers: alice)
                _ = try? await client.execute(uri: "/api/sessions/s4/stop", method: .post, headers: alice)
            }
    }

    @Test func tokensOverTheDaysQuotaAre429QuotaExceededUntilMidnightUTC() async throws {
        let store = InMemoryChatStore()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))  // 2027-01-15 08:00 UTC
        let alice = try await Self.key(store, "alice")
        let model = ScriptedModel.replying("晴れです")  // 19 tokens a reply
        try await Self.harness(store, clock: clock, limits: UsageLimits(requestsPerMinute: 0, concurrentReplies: 0, tokensPerDay: 10), model: model).run { client in
            #expect(try await client.post("/chat", json: #"{"message":"こんにちは、今日はいい天気ですね"}"#, headers: alice).status == .ok)
            let used = try await client.get("/api/me", headers: alice).json["usage"] as? [String: Any]
            #expect(used?["tokens_today"] as? Int == 19)
            let over = try await client.post("/chat", json: #"{"message":"hi"}"#, headers: alice)
            #expect(over.status == .tooManyRequests)
            #expect(over.json["error"] as? String == "quota_exceeded")
            #expect((over.json["message"] as? String)?.contains("2027-01-16T00:00:00Z") == true)
            #expect(over.headers[.retryAfter] == "57600")
            clock.advance(seconds: 57_600)
            #expect(try await client.post("/chat", json: #"{"message":"hi"}"#, headers: alice).status == .ok)
        }
    }

    @Test func aStreamOverItsLimitGetsAnErrorInsteadOfAStream() async throws {
        let store = InMemoryChatStore()
        let alice = try await Self.key(store, "alice")
        let model = ScriptedModel.replying("hello")
        try await Self.harness(store, clock: TestClock(), limits: UsageLimits(requestsPerMinute: 0, concurrentReplies: 0, tokensPerDay: 1), model: model).run(mode: .live) { client in
            #expect(try await client.post("/chat", json: #"{"message":"hi"}"#, headers: alice).status == .ok)
            let ticket = try await client.execute(uri: "/api/auth/ticket", method: .post, headers: alice).json["ticket"] as? String ?? ""
            let frames = try await WebSocketProbe.exchange(
                url: "ws://127.0.0.1:\(client.port!)/ws?ticket=\(ticket)", send: [#"{"action":"sendMessage","message":"hi"}"#], until: "error"
            )
            #expect(frames.last?["error"] as? String == "quota_exceeded")
        }
    }

    @Test func twentyFailedSignInsFromOneAddressBlockItForTheRestOfTheMinute() async throws {
        let store = InMemoryChatStore()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let alice = try await Self.key(store, "alice")
        var harness = Self.harness(store, clock: clock, limits: UsageLimits(requestsPerMinute: 0, concurrentReplies: 0, tokensPerDay: 0))
        harness.configuration.auth.clientAddressHeader = "X-Forwarded-For"
        try await harness.run { client in
            let guesser: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7", .authorization: "Bearer kw_" + String(repeating: "A", count: 43)]
            for _ in 1...20 {
                let refused = try await client.get("/api/me", headers: guesser)
                #expect(refused.status == .unauthorized)
            }
            #expect(try await client.get("/api/me", headers: guesser).status == .tooManyRequests)
            // Even the right key waits: a guess that succeeds must not look different.
            var right = alice
            right[HTTPField.Name("X-Forwarded-For")!] = "198.51.100.7"
            #expect(try await client.get("/api/me", headers: right).status == .tooManyRequests)
            var elsewhere = alice
            elsewhere[HTTPField.Name("X-Forwarded-For")!] = "203.0.113.9"
            #expect(try await client.get("/api/me", headers: elsewhere).status == .ok)
            clock.advance(seconds: 60)
            #expect(try await client.get("/api/me", headers: right).status == .ok)
        }
    }

    @Test func aBurstOfGuessesFromAnAddressThatFailedBeforeGetsNoMoreThanItsAllowance() async throws {
        let store = InMemoryChatStore()
        var harness = Self.harness(store, clock: TestClock(Date(timeIntervalSince1970: 1_800_000_000)), limits: UsageLimits(requestsPerMinute: 0, concurrentReplies: 0, tokensPerDay: 0))
        harness.configuration.auth.clientAddressHeader = "X-Forwarded-For"
        try await harness.run { client in
            let guess: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.9", .authorization: "Bearer kw_" + String(repeating: "C", count: 43)]
            #expect(try await client.get("/api/me", headers: guess).status == .unauthorized)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<40 { group.addTask { try await client.get("/api/me", headers: guess).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 19)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 21)
        }
    }

    @Test func aLimitsFileOverridesOneUsersLimits() throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("limits.json")
        try Data(#"{"users": {"ci-bot": {"requests_per_minute": 600}}}"#.utf8).write(to: path)
        let catalog = try LimitsCatalog.load(path: path.path, defaults: UsageLimits(requestsPerMinute: 60, concurrentReplies: 2, tokensPerDay: 1000))
        #expect(catalog.limits(for: "ci-bot") == UsageLimits(requestsPerMinute: 600, concurrentReplies: 2, tokensPerDay: 1000))
        #expect(catalog.limits(for: "alice") == UsageLimits(requestsPerMinute: 60, concurrentReplies: 2, tokensPerDay: 1000))
        try Data(#"{"users": {"x": {"tokens_per_day": -1}}}"#.utf8).write(to: path)
        #expect(throws: LimitsFileError.self) { try LimitsCatalog.load(path: path.path, defaults: .init()) }
    }
}
