import KaiwaCore

/// Errors as OpenAI's API writes them, for `/v1/*`:
/// `{"error": {"message", "type", "param", "code"}}`. OpenAI's SDKs pick their exception
/// class from the status; `type` and `code` say more to those who read them.
enum OpenAIErrorBody {
    static func json(for error: KaiwaError) -> String {
        let (type, code) = kinds(of: error)
        return "{\"message\":" + JSONText.quoted(error.message) + ",\"type\":" + JSONText.quoted(type) + ",\"param\":"
            + (error.parameter.map(JSONText.quoted) ?? "null") + ",\"code\":" + JSONText.quoted(code) + "}"
    }

    /// The whole response body.
    static func body(for error: KaiwaError) -> String {
        "{\"error\":" + json(for: error) + "}"
    }

    private static func kinds(of error: KaiwaError) -> (type: String, code: String) {
        switch error.code {
        case .unauthorized: ("invalid_request_error", "invalid_api_key")
        case .forbidden: ("permission_error", error.code.rawValue)
        case .rateLimited: ("requests", "rate_limit_exceeded")
        case .quotaExceeded: ("insufficient_quota", "insufficient_quota")
        case .internalError: ("server_error", error.code.rawValue)
        case .serviceUnavailable, .storeUnavailable: ("server_error", error.code.rawValue)
        case .modelTimeout: ("timeout", error.code.rawValue)
        default: ("invalid_request_error", error.code.rawValue)
        }
    }
}
