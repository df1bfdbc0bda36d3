import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAWS
import KaiwaCore
import KaiwaDynamoDBStore
import KaiwaStore
import Testing

/// DynamoDB answers a real table rarely gives on demand: throttling and unprocessed batch
/// items, from a fake endpoint on loopback.
struct DynamoDBRetryTests {
    static func client(_ endpoint: String, attempts: Int = 5) -> DynamoDBClient {
        DynamoDBClient(
            endpoint: endpoint, region: "ap-northeast-1", credentials: MotoServer.TestingKeys(), client: testHTTPClient,
            retry: .init(maxAttempts: attempts, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
        )
    }

    static func answer(_ status: HTTPResponse.Status, _ json: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/x-amz-json-1.0"], body: .init(byteBuffer: ByteBuffer(string: json))
        )
    }

    static let throttled = #"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate exceeded"}"#

    @Test func throttledRequestsAreRetriedUntilTheyPass() async throws {
        let calls = CallCounter()
        let seen = Shared<[String]>([])
        try await withFakeUpstream({ router in
            router.post("/") { request, _ in
                let target = request.headers[HTTPField.Name("X-Amz-Target")!] ?? ""
                let authorization = request.headers[.authorization] ?? ""
                seen.update { $0.append(target + " " + (authorization.contains("/ap-northeast-1/dynamodb/aws4_request") ? "signed" : "unsigned")) }
                return calls.next() <= 2 ? Self.answer(.badRequest, Self.throttled) : Self.answer(.ok, "{}")
            }
        }) { endpoint in
            try await Self.client(endpoint).putItem(.init(table: "t", item: ["id": .string("x")]))
        }
        #expect(calls.value == 3)
        #expect(seen.get() == Array(repeating: "DynamoDB_20120810.PutItem signed", count: 3))
    }

    @Test func throttlingThatDoesNotEndIsReportedAsThrottledAfterTheLastAttempt() async throws {
        let calls = CallCounter()
        try await withFakeUpstream({ router in
            router.post("/") { _, _ in
                _ = calls.next()
                return Self.answer(.badRequest, Self.throttled)
            }
        }) { endpoint in
            do {
                _ = try await Self.client(endpoint, attempts: 3).getItem(table: "t", key: ["id": .string("x")])
                Issue.record("should have thrown")
            } catch let error as DynamoDBError {
                #expect(error.kind == .throttled)
                #expect(error.description.contains("after 3 attempts"))
            }
        }
        #expect(calls.value == 3)
    }

    @Test func serverErrorsAreRetriedButValidationErrorsAreNot() async throws {
        let calls = CallCounter()
        try await withFakeUpstream({ router in
            router.post("/") { request, _ in
                let target = request.headers[HTTPField.Name("X-Amz-Target")!] ?? ""
                if target.hasSuffix("DeleteItem") {
                    _ = calls.next()
                    return Self.answer(
                        .badRequest, #"{"__type":"com.amazon.coral.validate#ValidationException","message":"The key is wrong"}"#
                    )
                }
                return calls.next() == 1
                    ? Self.answer(.internalServerError, #"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"oops"}"#)
                    : Self.answer(.ok, #"{"Item":{"id":{"S":"x"},"n":{"N":"7"}}}"#)
            }
        }) { endpoint in
            let client = Self.client(endpoint)
            let item = try await client.getItem(table: "t", key: ["id": .string("x")])
            #expect(item?["n"]?.intValue == 7)
            #expect(calls.value == 2)
            await #expect(throws: DynamoDBError.self) { try await client.deleteItem(.init(table: "t", key: ["id": .string("x")])) }
            #expect(calls.value == 3)
        }
    }

    @Test func unprocessedBatchItemsAreSentAgainUntilAllAreWritten() async throws {
        let bodies = Shared<[String]>([])
        try await withFakeUpstream({ router in
            router.post("/") { request, _ in
                var request = request
                let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
                bodies.update { $0.append(body) }
                if bodies.get().count == 1 {
                    return Self.answer(.ok, #"{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"id":{"S":"b"}}}}]}}"#)
                }
                return Self.answer(.ok, #"{"UnprocessedItems":{}}"#)
            }
        }) { endpoint in
            try await Self.client(endpoint).batchWrite(table: "t", [.put(["id": .string("a")]), .put(["id": .string("b")])])
        }
        let sent = bodies.get()
        #expect(sent.count == 2)
        #expect(sent[0].contains(#""a""#) && sent[0].contains(#""b""#))
        #expect(sent[1].contains(#""b""#) && !sent[1].contains(#""a""#))
    }
}

/// An append that loses a race with another instance reads the session again and writes after
/// the winner's messages.
struct DynamoDBLostRaceTests {
    @Test func anAppendThatLostARaceReadsAgainAndTakesTheNextPosition() async throws {
        let transactions = Shared<[String]>([])
        try await withFakeUpstream({ router in
            router.post("/") { request, _ in
                var request = request
                let target = request.headers[HTTPField.Name("X-Amz-Target")!] ?? ""
                let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
                if target.hasSuffix("GetItem") {
                    // The other instance's message lands between our first read and our write.
                    let count = transactions.get().isEmpty ? 4 : 5
                    return DynamoDBRetryTests.answer(
                        .ok,
                        #"{"Item":{"sessionId":{"S":"s"},"agent":{"S":"assistant"},"title":{"S":"T"},"createdAt":{"N":"1"},"updatedAt":{"N":"1"},"messageCount":{"N":"\#(count)"},"lastTimestamp":{"N":"\#(count)"}}}"#
                    )
                }
                transactions.update { $0.append(body) }
                if transactions.get().count == 1 {
                    return DynamoDBRetryTests.answer(
                        .badRequest,
                        #"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled","CancellationReasons":[{"Code":"ConditionalCheckFailed"},{"Code":"None"}]}"#
                    )
                }
                return DynamoDBRetryTests.answer(.ok, "{}")
            }
        }) { endpoint in
            let store = DynamoDBChatStore(client: DynamoDBRetryTests.client(endpoint), tables: DynamoDBTables(), retention: 3600)
            let stored = try await store.appendMessage(
                NewMessage(role: .user, content: [.text("mine")], createdAt: Date(timeIntervalSince1970: 1)), to: SessionID(trusted: "s")
            )
            #expect(stored.sequence == 6)
        }
        let sent = transactions.get()
        #expect(sent.count == 2)
        #expect(sent[0].contains(#"":expected":{"N":"4"}"#))
        #expect(sent[1].contains(#"":expected":{"N":"5"}"#))
        // A new attempt is a new request: it carries a token of its own.
        #expect(Self.token(in: sent[0]) != nil)
        #expect(Self.token(in: sent[0]) != Self.token(in: sent[1]))
    }

    static func token(in body: String) -> String? {
        struct Body: Decodable { var ClientRequestToken: String? }
        return (try? JSONDecoder().decode(Body.self, from: Data(body.utf8)))?.ClientRequestToken
    }

    @Test func aTransactionSentAgainAfterAServerErrorCarriesTheSameTokenSoItIsNotAppliedTwice() async throws {
        let transactions = Shared<[String]>([])
        try await withFakeUpstream({ router in
            router.post("/") { request, _ in
                var request = request
                transactions.update { $0.append("") }
                let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
                transactions.update { $0[$0.count - 1] = body }
                return transactions.get().count == 1
                    ? DynamoDBRetryTests.answer(.internalServerError, #"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"lost"}"#)
                    : DynamoDBRetryTests.answer(.ok, "{}")
            }
        }) { endpoint in
            try await DynamoDBRetryTests.client(endpoint).transactWrite([.put(.init(table: "t", item: ["id": .string("x")]))])
        }
        let sent = transactions.get()
        #expect(sent.count == 2)
        #expect(Self.token(in: sent[0]) != nil)
        #expect(Self.token(in: sent[0]) == Self.token(in: sent[1]))
    }
}
