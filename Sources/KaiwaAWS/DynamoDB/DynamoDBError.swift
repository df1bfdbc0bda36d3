/// A DynamoDB request that failed, with the service's error type and message.
public struct DynamoDBError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// A `ConditionExpression` did not hold.
        case conditionalCheckFailed
        /// A transaction was refused; `cancellationReasons` says which item and why.
        case transactionCanceled
        /// The table (or index) does not exist.
        case resourceNotFound
        /// The table already exists, or is being created or deleted.
        case resourceInUse
        /// The request was malformed or broke a limit (item size, expression syntax, …).
        case validation
        /// Still throttled after every retry.
        case throttled
        /// The credentials were refused or lack a permission.
        case accessDenied
        /// The endpoint could not be reached or answered something unexpected.
        case unavailable
        case other
    }

    public var kind: Kind
    /// The service's error type without its namespace, e.g. `ConditionalCheckFailedException`.
    public var type: String
    public var message: String
    public var operation: String
    /// For a cancelled transaction, one code per item in order (`None`, `ConditionalCheckFailed`, …).
    public var cancellationReasons: [String] = []

    public var description: String { "DynamoDB \(operation) failed: \(type): \(message)" }

    init(operation: String, type: String, message: String, cancellationReasons: [String] = []) {
        self.operation = operation
        self.type = type
        self.message = message
        self.cancellationReasons = cancellationReasons
        kind = Self.kind(of: type)
    }

    static func kind(of type: String) -> Kind {
        switch type {
        case "ConditionalCheckFailedException": .conditionalCheckFailed
        case "TransactionCanceledException": .transactionCanceled
        case "ResourceNotFoundException": .resourceNotFound
        case "ResourceInUseException": .resourceInUse
        case "ValidationException", "SerializationException", "ItemCollectionSizeLimitExceededException": .validation
        case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded": .throttled
        case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException",
            "ExpiredTokenException":
            .accessDenied
        default: .other
        }
    }

    /// Whether trying the same request again later may succeed: throttling, server errors,
    /// transaction conflicts, and transactions cancelled only by those.
    var isRetryable: Bool {
        switch type {
        case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError",
            "InternalFailure", "ServiceUnavailable", "TransactionConflictException", "TransactionInProgressException":
            return true
        case "TransactionCanceledException":
            let retryable: Set<String> = ["None", "ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"]
            return !cancellationReasons.isEmpty && cancellationReasons.allSatisfy { retryable.contains($0) }
                && !cancellationReasons.allSatisfy { $0 == "None" }
        default:
            return kind == .unavailable
        }
    }
}
