import AsyncHTTPClient
import Foundation
import KaiwaCore
import NIOCore
import NIOHTTP1

/// `search_connpass` (seed 001): searches connpass API v2 for tech events and returns what a
/// recommendation needs. A 5-second timeout, at most one request per second across the
/// process (calls wait their turn), one retry on 429; every failure is an error result the
/// model can explain to the user.
public struct ConnpassSearchTool: Tool {
    public let baseURL: String
    let keys: ConnpassKeySource
    let client: HTTPClient
    let timeout: Duration
    let limiter: ConnpassRateLimiter

    /// Most events one search returns.
    public static let maxCount = 30
    /// The furthest page start asked of connpass.
    static let maxStart = 100_000

    public init(baseURL: String = "https://connpass.com", keys: ConnpassKeySource, client: HTTPClient, timeout: Duration = .seconds(5), minimumInterval: Duration = .seconds(1)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.keys = keys
        self.client = client
        self.timeout = timeout
        self.limiter = ConnpassRateLimiter(interval: minimumInterval)
    }

    public var spec: ToolSpec {
        let string = { (description: String) -> JSONValue in .object(["type": .string("string"), "description": .string(description)]) }
        return ToolSpec(
            name: "search_connpass",
            description: "Search connpass for tech events (conferences, study sessions). Returns title, catch, url, dates, place, address, participants and group.",
            inputSchema: .object([
                "type": .string("object"),
                "properties": .object([
                    "keyword": string("Words that must all appear, separated by spaces, e.g. \"TypeScript カンファレンス\""),
                    "keyword_or": string("Words of which any may appear, separated by spaces"),
                    "ym": string("Month(s) held, yyyymm, separated by commas, e.g. 202612"),
                    "ymd": string("Day(s) held, yyyymmdd, separated by commas"),
                    "prefecture": string("Prefecture in romaji, e.g. tokyo, osaka, online"),
                    "order": .object([
                        "type": .string("integer"), "enum": .array([.number(1), .number(2), .number(3)]),
                        "description": .string("1 = recently updated, 2 = soonest first, 3 = newest first"),
                    ]),
                    "start": .object(["type": .string("integer"), "minimum": .number(1), "maximum": .number(Double(Self.maxStart))]),
                    "count": .object(["type": .string("integer"), "minimum": .number(1), "maximum": .number(100)]),
                ]),
                "additionalProperties": .bool(false),
            ])
        )
    }

    public func call(_ input: JSONValue) async throws -> ToolOutput {
        guard let key = await keys.key() else {
            return .failure("The connpass search is not configured (no API key), so events cannot be searched right now.")
        }
        let url = try searchURL(for: input)
        for attempt in 1...2 {
            try await limiter.waitTurn()
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "X-API-Key", value: key)
            request.headers.add(name: "Accept", value: "application/json")
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await client.execute(request, timeout: .milliseconds(Int64(timeout.seconds * 1000)))
                body = try await response.body.collect(upTo: 8 * 1024 * 1024)
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                return .failure("connpass did not answer within \(Int(timeout.seconds)) seconds. Please try again in a little while.")
            } catch {
                return .failure("connpass could not be reached. Please try again in a little while.")
            }
            switch response.status.code {
            case 200:
                return try Self.output(from: body)
            case 429 where attempt == 1:
                continue
            case 429:
                return .failure("connpass is receiving too many requests. Please try again in a little while.")
            case 401, 403:
                return .failure("connpass refused the API key, so events cannot be searched right now.")
            default:
                return .failure("connpass answered with an error (HTTP \(response.status.code)). Please try again later.")
            }
        }
        return .failure("connpass could not be searched.")
    }

    /// `…/api/v2/events/?keyword=…&count=…` from the tool input.
    func searchURL(for input: JSONValue) throws -> String {
        guard case .object(let fields) = input else { throw ToolInputError() }
        var query: [(String, String)] = []
        func words(_ name: String, separator: Character) {
            if case .string(let text)? = fields[name] {
                for word in text.split(separator: separator).map({ $0.trimmingCharacters(in: .whitespaces) }) where !word.isEmpty {
                    query.append((name, word))
                }
            }
        }
        words("keyword", separator: " ")
        words("keyword_or", separator: " ")
        words("ym", separator: ",")
        words("ymd", separator: ",")
        words("prefecture", separator: ",")
        // Numbers are converted exactly and clamped: a model may send 1e20, which `Int(_:)` would trap on.
        func whole(_ name: String, in range: ClosedRange<Int>) -> Int? {
            guard case .number(let value)? = fields[name], !value.isNaN else { return nil }
            return Int(exactly: min(max(value, Double(range.lowerBound)), Double(range.upperBound)).rounded())
        }
        if let order = whole("order", in: 1...3) { query.append(("order", String(order))) }
        if let start = whole("start", in: 1...Self.maxStart) { query.append(("start", String(start))) }
        let count = whole("count", in: 1...Self.maxCount) ?? 10
        query.append(("count", String(count)))
        let encoded = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return "\(baseURL)/api/v2/events/?\(encoded)"
    }

    struct ToolInputError: Error {}

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    /// The answer, trimmed to what a recommendation needs.
    static func output(from body: ByteBuffer) throws -> ToolOutput {
        struct Answer: Decodable {
            struct Event: Decodable {
                struct Group: Decodable { var title: String? }
                var title: String?
                var `catch`: String?
                var url: String?
                var started_at: String?
                var ended_at: String?
                var place: String?
                var address: String?
                var accepted: Int?
                var limit: Int?
                var waiting: Int?
                var group: Group?
                var event_type: String?
                var open_status: String?
            }
            var results_available: Int?
            var events: [Event]
        }
        struct Trimmed: Encodable {
            var title, `catch`, url, started_at, ended_at, place, address, group, event_type, open_status: String?
            var accepted, limit, waiting: Int?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)) else {
            return .failure("connpass answered with something that is not an event list. Please try again later.")
        }
        let events = answer.events.map {
            Trimmed(
                title: $0.title, catch: $0.catch, url: $0.url, started_at: $0.started_at, ended_at: $0.ended_at, place: $0.place,
                address: $0.address, group: $0.group?.title, event_type: $0.event_type, open_status: $0.open_status,
                accepted: $0.accepted, limit: $0.limit, waiting: $0.waiting
            )
        }
        struct Result: Encodable {
            var results_available: Int
            var events: [Trimmed]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let content = String(decoding: try encoder.encode(Result(results_available: answer.results_available ?? events.count, events: events)), as: UTF8.self)
        return ToolOutput(content: content, summary: "connpass: \(events.count)件のイベント（全\(answer.results_available ?? events.count)件）")
    }
}
