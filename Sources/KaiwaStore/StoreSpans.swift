import Tracing

/// A span per SQLite read or write, named after the store method that made it
/// (`sqlite appendMessages`), with OpenTelemetry's database attributes.
enum StoreSpans {
    static func sqlite<T>(_ caller: String, _ body: () async throws -> T) async rethrows -> T {
        let operation = String(caller.prefix { $0 != "(" })
        return try await withSpan("sqlite \(operation)", ofKind: .client) { span in
            span.attributes["db.system.name"] = "sqlite"
            span.attributes["db.operation.name"] = operation
            return try await body()
        }
    }
}
