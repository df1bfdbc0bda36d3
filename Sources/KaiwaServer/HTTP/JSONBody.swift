import Foundation
import HTTPTypes
import Hummingbird
import KaiwaCore
import NIOCore

/// Reads a request body as JSON of type `T`, answering every way it can be wrong with a
/// `KaiwaError`: wrong content type (415), too large (413), not JSON or wrong shape (400).
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        guard let contentType = request.headers[.contentType], isJSON(contentType) else {
            throw KaiwaError(.unsupportedMediaType, "Send the body as JSON with the header Content-Type: application/json.")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw KaiwaError(.payloadTooLarge, "The request body is larger than \(limit) bytes.")
        }
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw KaiwaError.badRequest(describe(error))
        } catch let error as KaiwaError {
            throw error
        }
    }

    /// Like `decode`, but a request without a body (no content type, nothing sent) is `nil`.
    static func decodeIfPresent<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T? {
        if request.headers[.contentType] == nil, request.headers[.contentLength].map({ $0 == "0" }) ?? true,
            request.headers[.transferEncoding] == nil
        {
            return nil
        }
        return try await decode(type, from: request, limit: limit)
    }

    private static let decoder = JSONDecoder()

    static func isJSON(_ contentType: String) -> Bool {
        var essence = contentType.prefix { $0 != ";" }
        while essence.first?.isWhitespace == true { essence.removeFirst() }
        while essence.last?.isWhitespace == true { essence.removeLast() }
        let mediaType = essence.lowercased()
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    /// A sentence for the client: which field is wrong and how.
    static func describe(_ error: DecodingError) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let name = field(context.codingPath + [key])
            return "`\(name)` is required."
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            if context.codingPath.isEmpty { return "The body must be a JSON object." }
            return "`\(field(context.codingPath))` must be \(typeName(type))."
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? KaiwaError { return underlying.message }
            if context.codingPath.isEmpty { return "The body is not valid JSON." }
            return "`\(field(context.codingPath))` is not valid."
        @unknown default:
            return "The body does not have the expected shape."
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: type is any Collection.Type ? "a list" : "an object"
        }
    }
}
