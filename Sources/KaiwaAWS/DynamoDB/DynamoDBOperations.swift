import Foundation

/// The DynamoDB operations Kaiwa uses, with their inputs as the JSON protocol names them.
/// Optional fields left `nil` are not sent.
extension DynamoDBClient {
    /// An expression's placeholders: `#name` → attribute name, `:value` → value.
    public struct Placeholders: Sendable {
        public var names: [String: String]?
        public var values: DynamoDBItem?

        public init(names: [String: String]? = nil, values: DynamoDBItem? = nil) {
            self.names = names
            self.values = values
        }
    }

    public struct Put: Encodable, Sendable {
        public var TableName: String
        public var Item: DynamoDBItem
        public var ConditionExpression: String?
        public var ExpressionAttributeNames: [String: String]?
        public var ExpressionAttributeValues: DynamoDBItem?

        public init(table: String, item: DynamoDBItem, condition: String? = nil, _ placeholders: Placeholders = .init()) {
            TableName = table
            Item = item
            ConditionExpression = condition
            ExpressionAttributeNames = placeholders.names
            ExpressionAttributeValues = placeholders.values
        }
    }

    public struct Update: Encodable, Sendable {
        public var TableName: String
        public var Key: DynamoDBItem
        public var UpdateExpression: String
        public var ConditionExpression: String?
        public var ExpressionAttributeNames: [String: String]?
        public var ExpressionAttributeValues: DynamoDBItem?

        public init(table: String, key: DynamoDBItem, update: String, condition: String? = nil, _ placeholders: Placeholders = .init()) {
            TableName = table
            Key = key
            UpdateExpression = update
            ConditionExpression = condition
            ExpressionAttributeNames = placeholders.names
            ExpressionAttributeValues = placeholders.values
        }
    }

    public struct Delete: Encodable, Sendable {
        public var TableName: String
        public var Key: DynamoDBItem
        public var ConditionExpression: String?
        public var ExpressionAttributeNames: [String: String]?
        public var ExpressionAttributeValues: DynamoDBItem?

        public init(table: String, key: DynamoDBItem, condition: String? = nil, _ placeholders: Placeholders = .init()) {
            TableName = table
            Key = key
            ConditionExpression = condition
            ExpressionAttributeNames = placeholders.names
            ExpressionAttributeValues = placeholders.values
        }
    }

    /// A `Query` (with a key condition) or a `Scan` (without one).
    public struct Query: Encodable, Sendable {
        public var TableName: String
        public var IndexName: String?
        public var KeyConditionExpression: String?
        public var FilterExpression: String?
        public var ProjectionExpression: String?
        public var ExpressionAttributeNames: [String: String]?
        public var ExpressionAttributeValues: DynamoDBItem?
        public var ScanIndexForward: Bool?
        public var ConsistentRead: Bool?
        public var Limit: Int?
        public var ExclusiveStartKey: DynamoDBItem?

        public init(
            table: String, index: String? = nil, keyCondition: String? = nil, filter: String? = nil, projection: String? = nil,
            _ placeholders: Placeholders = .init(), newestFirst: Bool = false, consistent: Bool = false, limit: Int? = nil
        ) {
            TableName = table
            IndexName = index
            KeyConditionExpression = keyCondition
            FilterExpression = filter
            ProjectionExpression = projection
            ExpressionAttributeNames = placeholders.names
            ExpressionAttributeValues = placeholders.values
            ScanIndexForward = newestFirst ? false : nil
            ConsistentRead = consistent ? true : nil
            Limit = limit
        }
    }

    public struct Page: Decodable, Sendable {
        public var Items: [DynamoDBItem]?
        public var LastEvaluatedKey: DynamoDBItem?
    }

    struct ItemAnswer: Decodable {
        var Item: DynamoDBItem?
        var Attributes: DynamoDBItem?
    }

    struct Empty: Codable {}

    // MARK: Items

    /// `PutItem`; throws `.conditionalCheckFailed` when `put`'s condition does not hold.
    public func putItem(_ put: Put) async throws {
        let _: Empty = try await send("PutItem", put)
    }

    /// `GetItem`; strongly consistent when `consistent`.
    public func getItem(table: String, key: DynamoDBItem, consistent: Bool = true) async throws -> DynamoDBItem? {
        struct Input: Encodable {
            var TableName: String
            var Key: DynamoDBItem
            var ConsistentRead: Bool
        }
        return try await send("GetItem", Input(TableName: table, Key: key, ConsistentRead: consistent), as: ItemAnswer.self).Item
    }

    /// `UpdateItem`; returns the item's new attributes.
    @discardableResult
    public func updateItem(_ update: Update) async throws -> DynamoDBItem? {
        struct Input: Encodable {
            var update: Update
            func encode(to encoder: any Encoder) throws {
                try update.encode(to: encoder)
                var container = encoder.container(keyedBy: ReturnKey.self)
                try container.encode("ALL_NEW", forKey: .ReturnValues)
            }
        }
        return try await send("UpdateItem", Input(update: update), as: ItemAnswer.self).Attributes
    }

    /// `DeleteItem`; returns the deleted item, `nil` when there was none.
    @discardableResult
    public func deleteItem(_ delete: Delete) async throws -> DynamoDBItem? {
        struct Input: Encodable {
            var delete: Delete
            func encode(to encoder: any Encoder) throws {
                try delete.encode(to: encoder)
                var container = encoder.container(keyedBy: ReturnKey.self)
                try container.encode("ALL_OLD", forKey: .ReturnValues)
            }
        }
        return try await send("DeleteItem", Input(delete: delete), as: ItemAnswer.self).Attributes
    }

    private enum ReturnKey: String, CodingKey { case ReturnValues }

    /// One page of a `Query` from `start` (`nil`: the beginning).
    public func queryPage(_ query: Query, from start: DynamoDBItem? = nil) async throws -> Page {
        var input = query
        input.ExclusiveStartKey = start
        return try await send(query.KeyConditionExpression == nil ? "Scan" : "Query", input)
    }

    /// Every item a `Query` (or, without key condition, a `Scan`) matches, page after page.
    public func queryAll(_ query: Query) async throws -> [DynamoDBItem] {
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await queryPage(query, from: start)
            items += page.Items ?? []
            start = page.LastEvaluatedKey
        } while start != nil
        return items
    }

    // MARK: Batches and transactions

    public enum WriteRequest: Encodable, Sendable {
        case put(DynamoDBItem)
        case delete(key: DynamoDBItem)

        private enum Keys: String, CodingKey { case PutRequest, DeleteRequest }
        private struct PutRequest: Encodable { var Item: DynamoDBItem }
        private struct DeleteRequest: Encodable { var Key: DynamoDBItem }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            switch self {
            case .put(let item): try container.encode(PutRequest(Item: item), forKey: .PutRequest)
            case .delete(let key): try container.encode(DeleteRequest(Key: key), forKey: .DeleteRequest)
            }
        }
    }

    /// `BatchWriteItem` in chunks of 25, sending unprocessed items again with backoff until
    /// all are written (or the retry policy gives up with `.throttled`).
    public func batchWrite(table: String, _ requests: [WriteRequest]) async throws {
        struct Input: Encodable { var RequestItems: [String: [WriteRequest]] }
        struct Answer: Decodable {
            struct Unprocessed: Decodable {
                var PutRequest: PutRequest?
                var DeleteRequest: DeleteRequest?
                struct PutRequest: Decodable { var Item: DynamoDBItem }
                struct DeleteRequest: Decodable { var Key: DynamoDBItem }
            }
            var UnprocessedItems: [String: [Unprocessed]]?
        }
        for start in stride(from: 0, to: requests.count, by: 25) {
            var pending = Array(requests[start..<min(start + 25, requests.count)])
            var attempt = 0
            while !pending.isEmpty {
                let answer: Answer = try await send("BatchWriteItem", Input(RequestItems: [table: pending]))
                pending = (answer.UnprocessedItems?[table] ?? []).compactMap { item in
                    item.PutRequest.map { .put($0.Item) } ?? item.DeleteRequest.map { .delete(key: $0.Key) }
                }
                guard !pending.isEmpty else { break }
                attempt += 1
                guard attempt < retry.maxAttempts else {
                    throw DynamoDBError(
                        operation: "BatchWriteItem", type: "UnprocessedItems",
                        message: "\(pending.count) items were still unprocessed after \(attempt) attempts"
                    ).with(kind: .throttled)
                }
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
            }
        }
    }

    public enum TransactionItem: Encodable, Sendable {
        case put(Put)
        case update(Update)
        case delete(Delete)

        private enum Keys: String, CodingKey { case Put, Update, Delete }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            switch self {
            case .put(let put): try container.encode(put, forKey: .Put)
            case .update(let update): try container.encode(update, forKey: .Update)
            case .delete(let delete): try container.encode(delete, forKey: .Delete)
            }
        }
    }

    /// `TransactWriteItems`: all of `items` are written, or none. A condition that fails
    /// throws `.transactionCanceled` with the reasons per item.
    ///
    /// `token` makes the call idempotent for ten minutes: when an answer is lost and the same
    /// request is sent again, DynamoDB does not apply it twice (and the retry does not fail on
    /// conditions the first attempt already changed). Retries inside `send` reuse it.
    public func transactWrite(_ items: [TransactionItem], token: String = UUID().uuidString) async throws {
        struct Input: Encodable {
            var TransactItems: [TransactionItem]
            var ClientRequestToken: String
        }
        let _: Empty = try await send("TransactWriteItems", Input(TransactItems: items, ClientRequestToken: token))
    }
}
