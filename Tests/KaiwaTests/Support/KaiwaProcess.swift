import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A `kaiwa serve` process (the binary built beside the tests) on a free port, for tests that
/// need a real process: several instances, or one killed with SIGKILL.
final class KaiwaProcess: Sendable {
    let port: Int
    let process: Process

    /// Starts `kaiwa serve` with `arguments` after the port, and waits for `/health` to answer 200.
    init(arguments: [String], environment: [String: String]) async throws {
        port = try freeLoopbackPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kaiwa")
        process.arguments = ["serve", "--port", "\(port)", "--log-level", "warning"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let port = port
        try await waitUntil(timeout: .seconds(30)) {
            (try? await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(1)))?.status == .ok
        }
    }

    /// Kills the process at once (SIGKILL: no draining, no last writes) and waits for it.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func request(_ method: NIOHTTP1.HTTPMethod, _ path: String, json: String? = nil) async throws -> (status: Int, body: [String: Any]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object)
    }
}
