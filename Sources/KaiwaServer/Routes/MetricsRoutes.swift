import Foundation
import HTTPTypes
import Hummingbird
import KaiwaCore
import Prometheus

/// `GET /metrics`: the server's metrics in Prometheus's text format, when `metrics.enabled`.
/// With `metrics.token` set, only a scraper that sends it as a bearer token is answered.
struct MetricsRoutes<Context: RequestContext> {
    let registry: PrometheusCollectorRegistry
    let token: String?

    func add(to router: Router<Context>) {
        router.get("/metrics") { request, _ in
            if let token {
                let sent = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
                guard Self.sameInConstantTime(sent, token) else {
                    throw KaiwaError(.unauthorized, "/metrics needs the metrics token as `Authorization: Bearer <token>`.")
                }
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }

    /// Compares every byte whatever differs first, so the time taken tells nothing of the token.
    static func sameInConstantTime(_ sent: String, _ token: String) -> Bool {
        let (a, b) = (Array(sent.utf8), Array(token.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
