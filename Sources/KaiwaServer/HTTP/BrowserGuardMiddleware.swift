import HTTPTypes
import Hummingbird
import KaiwaCore

/// Defences for a server a browser can reach: on a loopback address, only loopback `Host`
/// names are served (a page on another site cannot reach it through DNS rebinding); every
/// response says `nosniff` and `no-referrer`.
struct BrowserGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    /// `Host` names served; `nil` serves any (the server listens on a public address).
    let allowedHosts: Set<String>?

    static var loopbackHosts: Set<String> { ["localhost", "127.0.0.1", "[::1]"] }

    /// The guard for a server listening on `listenHost`: on any loopback address (127.0.0.2
    /// too), the loopback names and that address are served, and `extraHosts`.
    init(listenHost: String, extraHosts: [String]) {
        let listening = listenHost.lowercased().contains(":") && !listenHost.hasPrefix("[") ? "[\(listenHost.lowercased())]" : listenHost.lowercased()
        allowedHosts = LoopbackHost.contains(listenHost) ? Self.loopbackHosts.union(extraHosts).union([listening]) : nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let allowedHosts, let host = request.head.authority, !allowedHosts.contains(Self.name(ofHost: host)) {
            return Self.secured(
                ErrorResponseMiddleware<Context>.response(
                    for: KaiwaError(.forbidden, "This server does not serve the host \(Self.name(ofHost: host)). Add it to server.allowed.hosts to allow it.")
                )
            )
        }
        return Self.secured(try await next(request, context))
    }

    static func secured(_ response: Response) -> Response {
        var response = response
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    /// `Host` without its port, lower-cased: `127.0.0.1:8080` → `127.0.0.1`, `[::1]:80` → `[::1]`.
    static func name(ofHost host: String) -> String {
        let lowered = host.lowercased()
        if lowered.hasPrefix("["), let end = lowered.firstIndex(of: "]") { return String(lowered[...end]) }
        return String(lowered.split(separator: ":", maxSplits: 1).first ?? "")
    }
}
