import Foundation
import HTTPTypes
import Hummingbird
import KaiwaAgent
import KaiwaCore
import Logging
import NIOCore

/// Gives each request an id (the client's `X-Request-Id` when it is a sane one, else
/// Hummingbird's own request id), returns it
/// in the response, and logs one line per request: id, method, path, status, duration; the
/// same goes to the request metrics, by route.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headerName: HTTPField.Name { HTTPField.Name("X-Request-Id")! }
    var metrics: KaiwaMetrics = .off

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = request.headers[Self.headerName].flatMap(Self.acceptable) ?? context.id
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let logger = context.logger
        do {
            var response = try await next(request, context)
            response.headers[Self.headerName] = requestID
            log(request, status: response.status.code, since: start, route: context.endpointPath, logger: logger)
            return response
        } catch {
            log(request, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start, route: context.endpointPath, logger: logger)
            throw error
        }
    }

    private func log(_ request: Request, status: Int, since start: ContinuousClock.Instant, route: String?, logger: Logger) {
        let elapsed = ContinuousClock.now - start
        metrics.httpRequest(method: request.method.rawValue, route: route ?? "unmatched", status: status, duration: elapsed)
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
                "status": .stringConvertible(status),
                "duration_ms": .string(String(format: "%.2f", milliseconds)),
            ]
        )
    }

    /// Client-given ids are echoed only when short and plain, so they cannot forge log lines.
    private static func acceptable(_ value: String) -> String? {
        (1...128).contains(value.utf8.count) && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }
            ? value : nil
    }
}
