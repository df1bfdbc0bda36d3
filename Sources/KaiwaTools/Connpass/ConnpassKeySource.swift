import Foundation
import KaiwaAWS
import Synchronization

/// Where the connpass API key comes from: configuration, or AWS Secrets Manager (seed 001
/// keeps it in `confee/connpass-api-key`). A key fetched from Secrets Manager is kept.
public final class ConnpassKeySource: Sendable {
    let configured: String?
    let secrets: SecretsManagerClient?
    let secretID: String
    private let cached = Mutex<String?>(nil)

    public init(configured: String?, secrets: SecretsManagerClient?, secretID: String = "confee/connpass-api-key") {
        self.configured = configured
        self.secrets = secrets
        self.secretID = secretID
    }

    /// The key, or `nil` when none is configured or available.
    func key() async -> String? {
        if let configured, !configured.isEmpty { return configured }
        if let known = cached.withLock({ $0 }) { return known }
        guard let secrets, let secret = try? await secrets.secretString(id: secretID) else { return nil }
        let key = Self.key(in: secret)
        cached.withLock { $0 = key }
        return key
    }

    /// A secret holds the key as plain text or as JSON (`{"api_key": "…"}` or any one string value).
    static func key(in secret: String) -> String? {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
            return trimmed.isEmpty ? nil : trimmed
        }
        for name in ["api_key", "apiKey", "connpass_api_key", "CONNPASS_API_KEY", "key"] {
            if let value = object[name] as? String { return value }
        }
        let strings = object.values.compactMap { $0 as? String }
        return strings.count == 1 ? strings[0] : nil
    }
}
