import KaiwaAWS
import KaiwaCore

/// DynamoDB failing is the store failing: unreachable or throttled after every retry,
/// or refusing the server's credentials, it answers `store_unavailable` (503).
extension DynamoDBError: ClientFacingError {
    public var clientError: KaiwaError {
        switch kind {
        case .unavailable: .storeUnavailable("the database cannot be reached")
        case .throttled: .storeUnavailable("the database is busy")
        case .accessDenied, .resourceNotFound: .storeUnavailable("the database refused the server")
        default: .internalError
        }
    }
}
