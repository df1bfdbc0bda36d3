import HTTPTypes
import Hummingbird
import KaiwaCore
import Logging
import NIOCore
import NIOHTTP1

/// The one place where errors become HTTP responses: `{"error": code, "message": text}` with
/// the error's status, or OpenAI's shape under `/v1/` (where OpenAI's SDKs read them). Errors
/// that are not `KaiwaError`s are logged and answered with a generic 500, so no internal
/// detail reaches a client.
struct ErrorResponseMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let clientError = Self.clientError(for: error, method: request.method, path: request.uri.path, logger: context.logger)
            var response = Self.response(for: clientError, openAIShape: request.uri.path.hasPrefix("/v1/"))
            // What follows a body that cannot be parsed cannot be read as requests either.
            if error is HTTPParserError { response.headers[.connection] = "close" }
            return response
        }
    }

    static func response(for error: KaiwaError, openAIShape: Bool = false) -> Response {
        let status = HTTPResponse.Status(code: error.code.httpStatus)
        var response: Response
        if openAIShape {
            response = Response(
                status: status, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAIErrorBody.body(for: error)))
            )
        } else {
            guard let made = try? JSONResponse.make(ErrorBody(error: error.code.rawValue, message: error.message), status: status) else {
                return Response(status: .internalServerError)
            }
            response = made
        }
        if error.code == .unauthorized {
            response.headers[.wwwAuthenticate] = #"Bearer realm="kaiwa", error="invalid_token""#
        }
        if let seconds = error.retryAfterSeconds {
            response.headers[.retryAfter] = String(seconds)
        }
        return response
    }

    static func clientError(for error: any Error, method: HTTPRequest.Method = .get, path: String = "", logger: Logger) -> KaiwaError {
        switch error {
        case let error as KaiwaError:
            if error.code == .internalError { logger.error("Internal error", metadata: ["error": "\(error)"]) }
            return error
        case let error as any ClientFacingError:
            logger.error("Store or upstream failed", metadata: ["error": "\(error)"])
            return error.clientError
        case let error as HTTPError where error.status == .notFound:
            return .notFound("There is nothing at \(method) \(path).")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return KaiwaError(.methodNotAllowed, "\(method) is not allowed on \(path).")
        case let error as HTTPParserError:
            return .badRequest(RequestHeadGuard.message(for: error))
        case is NIOTooManyBytesError:
            return KaiwaError(.payloadTooLarge, "The request body is too large.")
        case let error as any HTTPResponseError where (400..<500).contains(error.status.code):
            return .badRequest(error.status.reasonPhrase)
        default:
            logger.error("Unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError
        }
    }
}

/// The body of every error response.
struct ErrorBody: Encodable {
    var error: String
    var message: String
}
