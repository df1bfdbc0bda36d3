/// The one error type that reaches a client. It carries a stable machine-readable code,
/// the HTTP status the server answers with, and a sentence a person can act on.
///
/// Anything else that is thrown is an internal error: the client gets a generic 500 and
/// the detail goes only to the log.
public struct KaiwaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "bad_request"
        case invalidSessionID = "invalid_session_id"
        case unknownAgent = "unknown_agent"
        case modelNotFound = "model_not_found"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case sessionExpired = "session_expired"
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case conflict = "conflict"
        case rateLimited = "rate_limited"
        case quotaExceeded = "quota_exceeded"
        case internalError = "internal_error"
        case serviceUnavailable = "service_unavailable"
        /// The store cannot be written (or read): a full disk, an unreachable database.
        case storeUnavailable = "store_unavailable"
        case modelTimeout = "model_timeout"

        /// The HTTP status code this error is answered with.
        public var httpStatus: Int {
            switch self {
            case .badRequest, .invalidSessionID, .unknownAgent: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound, .modelNotFound: 404
            case .methodNotAllowed: 405
            case .sessionExpired: 408
            case .conflict: 409
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .rateLimited, .quotaExceeded: 429
            case .internalError: 500
            case .serviceUnavailable, .storeUnavailable: 503
            case .modelTimeout: 504
            }
        }
    }

    public var code: Code
    /// A human sentence, safe to show to the user (never a secret, never a stack trace).
    public var message: String
    /// Seconds after which trying again may work (a limit that resets): sent as `Retry-After`.
    public var retryAfterSeconds: Int?
    /// The request field at fault (`model`, `messages[2].content`), when one is: OpenAI's `param`.
    public var parameter: String?

    public init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.parameter = parameter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func badRequest(_ message: String) -> KaiwaError { .init(.badRequest, message) }
    public static func notFound(_ message: String) -> KaiwaError { .init(.notFound, message) }
    public static let internalError = KaiwaError(.internalError, "Something went wrong on our side. Please try again.")
    /// The store failed for a reason of its own (`reason` says which, in a few words).
    public static func storeUnavailable(_ reason: String) -> KaiwaError {
        .init(
            .storeUnavailable, "Conversations cannot be saved right now (\(reason)). What was saved before is safe; please try again in a moment.",
            retryAfterSeconds: 5
        )
    }
    /// A session that does not exist, or is someone else's: one sentence for both, so that
    /// the answers cannot be told apart.
    public static func sessionNotFound(_ id: SessionID) -> KaiwaError {
        .notFound("There is no session \(id).")
    }
    public static func messageNotFound(_ id: String) -> KaiwaError {
        .notFound("There is no message \(id.prefix(128)) in this session.")
    }
    public static func modelNotFound(_ name: String, known: [String]) -> KaiwaError {
        .init(.modelNotFound, "There is no model named \"\(name)\". Known models: \(known.joined(separator: ", ")).", parameter: "model")
    }
    public static func sessionExpired(_ id: String) -> KaiwaError {
        .init(.sessionExpired, "Session \(id) has timed out. Start a new conversation to continue.")
    }
}

/// An error of a lower layer (a store's, a client's) that knows what a client may be told
/// about it. The detail stays in the error (and the log); `clientError` is the sentence.
public protocol ClientFacingError: Error {
    var clientError: KaiwaError { get }
}
