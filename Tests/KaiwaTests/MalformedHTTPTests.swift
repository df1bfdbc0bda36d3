import Foundation
import Testing

@testable import KaiwaServer

/// Requests that are not valid HTTP/1.1 get a 400 JSON error and a closed connection, never a
/// 500 or no answer at all, and the server goes on answering everyone else.
struct MalformedHTTPTests {
    static let cases: [(name: String, request: String)] = [
        (
            "a chunk size that is not hex",
            "POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "ZZ\r\n{\"message\":\"hi\"}\r\n0\r\n\r\n"
        ),
        ("a header line without a colon", "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n"),
        ("a Content-Length that is not a number", "POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n"),
        ("a request line that is not HTTP", "GARBAGE\r\n\r\n"),
    ]

    @Test(arguments: cases.map(\.name))
    func aMalformedRequestIsA400JSONErrorAndItsConnectionCloses(name: String) async throws {
        let request = try #require(Self.cases.first { $0.name == name }?.request)
        try await AppHarness().runLive { port in
            let answer = try await rawHTTPExchange(port: port, request, timeout: 5, untilClosed: true)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(name): \(answer.prefix(200))")
            #expect(answer.lowercased().contains("connection: close"))
            #expect(answer.contains(#""error":"bad_request""#))
            #expect(answer.contains("not valid HTTP"))

            let ping = try await rawHTTPExchange(port: port, "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(ping.hasPrefix("HTTP/1.1 200"))
        }
    }
}

/// Connections that never finish a request (slowloris) are closed after `http.idle.timeout`,
/// and the server answers everyone else meanwhile.
struct IdleConnectionTests {
    @Test(arguments: ["", "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n", "POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"mess"])
    func aConnectionThatNeverFinishesARequestIsClosedAfterTheIdleTimeout(sent: String) async throws {
        var harness = AppHarness()
        harness.configuration.httpIdleTimeoutSeconds = 1
        try await harness.runLive { port in
            let started = ContinuousClock.now
            async let stalled = rawHTTPExchange(port: port, sent, timeout: 10, untilClosed: true)
            try await Task.sleep(for: .milliseconds(200))
            let ping = try await rawHTTPExchange(port: port, "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(ping.hasPrefix("HTTP/1.1 200"), "others are answered while a connection stalls")
            let answer = try await stalled
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(5), "closed after about a second, not left open (waited \(waited))")
            #expect(!answer.hasPrefix("HTTP/1.1 200"))
        }
    }
}

/// At most `http.max.connections` connections are open at once; the next are closed as they
/// come, and the server takes connections again as soon as one closes.
struct ConnectionBoundTests {
    @Test func connectionsBeyondTheBoundAreClosedAndServiceReturnsWhenOneCloses() async throws {
        var harness = AppHarness()
        harness.configuration.httpMaxConnections = 2
        harness.configuration.httpIdleTimeoutSeconds = 2
        try await harness.runLive { port in
            // Two clients connect and send nothing: the server closes them after 2 s.
            async let first = rawHTTPExchange(port: port, "", timeout: 10, untilClosed: true)
            async let second = rawHTTPExchange(port: port, "", timeout: 10, untilClosed: true)
            try await Task.sleep(for: .milliseconds(500))
            let refused = try await rawHTTPExchange(port: port, "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout: 5)
            #expect(refused.isEmpty, "a third connection is closed without an answer: \(refused.prefix(80))")
            _ = try await (first, second)
            let answered = try await rawHTTPExchange(port: port, "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout: 5)
            #expect(answered.hasPrefix("HTTP/1.1 200"), "served again once the others closed")
        }
    }
}
