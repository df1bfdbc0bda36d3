import HTTPTypes
import Hummingbird
import KaiwaCore

/// `GET /` serves `web/index.html`; `GET /ui/…` serves the files of `web/ui/` (read once at
/// start-up: restart the server to serve edited files). The page refers to
/// them relatively (`ui/app.js`), so the same `web/` folder also works as static files on S3.
/// `GET /openapi.json` serves the API's OpenAPI document, `web/openapi.json`.
struct WebRoutes<Context: RequestContext> {
    let assets: WebAssets

    func add(to router: Router<Context>) {
        router.get("/") { _, _ in try serve("index.html") }
        router.head("/") { _, _ in try serve("index.html", withBody: false) }
        router.get("/openapi.json") { _, _ in try serve("openapi.json") }
        router.get("/ui/**") { _, context in
            try serve((["ui"] + context.parameters.getCatchAll()).joined(separator: "/"))
        }
        router.head("/ui/**") { _, context in
            try serve((["ui"] + context.parameters.getCatchAll()).joined(separator: "/"), withBody: false)
        }
    }

    private func serve(_ name: String, withBody: Bool = true) throws -> Response {
        guard !name.split(separator: "/").contains(".."), let file = assets.files[name] else {
            throw KaiwaError.notFound(
                assets.root == nil ? "The web UI files were not found on this server." : "There is no file \(name)."
            )
        }
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        // The page may not be framed by other sites (clickjacking); a <meta> CSP cannot say so.
        headers[HTTPField.Name("Content-Security-Policy")!] = "frame-ancestors 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        guard withBody else {
            headers[.contentLength] = String(file.bytes.count)
            return Response(status: .ok, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
