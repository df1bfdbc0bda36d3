import Foundation
import KaiwaAWS
import KaiwaCore
import KaiwaStore

/// Items of the `Access` table. Every item's key is `id`, a kind and a name:
/// `apikey#<id>`, `ticket#<hash>`, `bucket#<key>`, `counter#<key>`, `slot#<key>#<index>`.
/// Items that expire carry `expireAt` (epoch seconds, for time to live) and, where the store
/// needs the exact time, `expiresAtMillis`. API keys have no `expireAt`: time to live must
/// not delete a key, even an expired one, which `kaiwa keys list` still shows.
extension StoredItems {
    enum Access {
        static func key(_ kind: String, _ name: String) -> DynamoDBItem { ["id": .string(kind + "#" + name)] }

        static func apiKeyItem(_ record: APIKeyRecord) -> DynamoDBItem {
            var item: DynamoDBItem = [
                "id": .string("apikey#" + record.id), "keyId": .string(record.id), "hash": .string(record.hash),
                "prefix": .string(record.prefix), "user": .string(record.user), "createdAt": millis(record.createdAt),
            ]
            if let name = record.name { item["name"] = .string(name) }
            if let lastUsed = record.lastUsedAt { item["lastUsedAt"] = millis(lastUsed) }
            if let expires = record.expiresAt { item["keyExpiresAt"] = millis(expires) }
            if let revoked = record.revokedAt { item["revokedAt"] = millis(revoked) }
            return item
        }

        static func apiKey(_ item: DynamoDBItem) throws -> APIKeyRecord {
            guard let id = item["keyId"]?.stringValue, let hash = item["hash"]?.stringValue, let prefix = item["prefix"]?.stringValue,
                let user = item["user"]?.stringValue, let created = item["createdAt"]?.intValue
            else {
                throw StoreCorruption(row: "api key \(item["id"]?.stringValue ?? "?")", problem: "it lacks keyId, hash, prefix, user or createdAt")
            }
            return APIKeyRecord(
                id: id, hash: hash, prefix: prefix, user: user, name: item["name"]?.stringValue, createdAt: Date(millis: created),
                lastUsedAt: item["lastUsedAt"]?.intValue.map(Date.init(millis:)),
                expiresAt: item["keyExpiresAt"]?.intValue.map(Date.init(millis:)),
                revokedAt: item["revokedAt"]?.intValue.map(Date.init(millis:))
            )
        }

        static func ticketItem(_ ticket: TicketRecord) throws -> DynamoDBItem {
            [
                "id": .string("ticket#" + ticket.hash), "subject": .string(try SubjectJSON.encode(ticket.subject)),
                "expiresAtMillis": millis(ticket.expiresAt), "expireAt": seconds(ticket.expiresAt),
            ]
        }

        static func ticket(_ item: DynamoDBItem, hash: String) throws -> TicketRecord {
            guard let subject = item["subject"]?.stringValue, let expires = item["expiresAtMillis"]?.intValue else {
                throw StoreCorruption(row: "ticket", problem: "it lacks its subject or expiry")
            }
            return TicketRecord(hash: hash, subject: try SubjectJSON.decode(subject), expiresAt: Date(millis: expires))
        }

        /// A bucket's tokens as a DynamoDB number: fixed-point, since DynamoDB does not read
        /// every spelling `Double` has (`1e-05`, `inf`).
        static func tokens(_ tokens: Double) -> DynamoDBValue {
            .number(String(format: "%.6f", tokens.isFinite ? max(0, tokens) : 0))
        }

        static func tokens(_ value: DynamoDBValue?) -> Double? {
            if case .number(let text) = value { Double(text) } else { nil }
        }
    }
}
