/// Creating and checking tables: `CreateTable`, `DescribeTable`, `UpdateTimeToLive`,
/// `DescribeTimeToLive`.
extension DynamoDBClient {
    /// A table as Kaiwa needs it: string or number keys, optional global secondary indexes
    /// projecting all attributes, on-demand capacity.
    public struct TableDefinition: Sendable, Hashable {
        public enum KeyType: String, Sendable, Hashable { case string = "S", number = "N" }

        public struct Key: Sendable, Hashable {
            public var name: String
            public var type: KeyType
            public init(_ name: String, _ type: KeyType) {
                self.name = name
                self.type = type
            }
        }

        public struct Index: Sendable, Hashable {
            public var name: String
            public var partitionKey: Key
            public var sortKey: Key?
            public init(name: String, partitionKey: Key, sortKey: Key? = nil) {
                self.name = name
                self.partitionKey = partitionKey
                self.sortKey = sortKey
            }
        }

        public var name: String
        public var partitionKey: Key
        public var sortKey: Key?
        public var indexes: [Index]
        /// The number attribute holding each item's expiry time in epoch seconds.
        public var timeToLiveAttribute: String?

        public init(name: String, partitionKey: Key, sortKey: Key? = nil, indexes: [Index] = [], timeToLiveAttribute: String? = nil) {
            self.name = name
            self.partitionKey = partitionKey
            self.sortKey = sortKey
            self.indexes = indexes
            self.timeToLiveAttribute = timeToLiveAttribute
        }
    }

    /// `CreateTable` with on-demand billing. Throws `.resourceInUse` when it exists.
    public func createTable(_ table: TableDefinition) async throws {
        let _: Empty = try await send("CreateTable", table.createTableInput)
    }

    public struct TableDescription: Sendable, Hashable {
        /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, …
        public var status: String
        public var indexNames: [String]
    }

    /// `DescribeTable`; `nil` when the table does not exist.
    public func describeTable(_ name: String) async throws -> TableDescription? {
        struct Input: Encodable { var TableName: String }
        struct Answer: Decodable {
            struct Table: Decodable {
                struct Index: Decodable { var IndexName: String }
                var TableStatus: String
                var GlobalSecondaryIndexes: [Index]?
            }
            var Table: Table
        }
        do {
            let answer: Answer = try await send("DescribeTable", Input(TableName: name))
            return TableDescription(status: answer.Table.TableStatus, indexNames: answer.Table.GlobalSecondaryIndexes?.map(\.IndexName) ?? [])
        } catch let error as DynamoDBError where error.kind == .resourceNotFound {
            return nil
        }
    }

    /// Whether time to live is enabled (or being enabled) on the table's `attribute`.
    public func isTimeToLiveEnabled(table: String, attribute: String) async throws -> Bool {
        struct Input: Encodable { var TableName: String }
        struct Answer: Decodable {
            struct Description: Decodable {
                var TimeToLiveStatus: String?
                var AttributeName: String?
            }
            var TimeToLiveDescription: Description?
        }
        let answer: Answer = try await send("DescribeTimeToLive", Input(TableName: table))
        let status = answer.TimeToLiveDescription?.TimeToLiveStatus ?? "DISABLED"
        return (status == "ENABLED" || status == "ENABLING") && answer.TimeToLiveDescription?.AttributeName == attribute
    }

    /// `UpdateTimeToLive`: items whose `attribute` (epoch seconds) has passed are deleted by
    /// DynamoDB, typically within a few days.
    public func enableTimeToLive(table: String, attribute: String) async throws {
        struct Specification: Encodable {
            var Enabled = true
            var AttributeName: String
        }
        struct Input: Encodable {
            var TableName: String
            var TimeToLiveSpecification: Specification
        }
        let _: Empty = try await send("UpdateTimeToLive", Input(TableName: table, TimeToLiveSpecification: .init(AttributeName: attribute)))
    }
}

extension DynamoDBClient.TableDefinition {
    /// The `CreateTable` request for this table (on-demand billing), also what deployment
    /// templates must declare (`kaiwa store tables` prints it).
    public var createTableInput: CreateTableInput {
        typealias KeyElement = CreateTableInput.KeyElement
        func schema(_ partition: Key, _ sort: Key?) -> [KeyElement] {
            [KeyElement(AttributeName: partition.name, KeyType: "HASH")] + (sort.map { [KeyElement(AttributeName: $0.name, KeyType: "RANGE")] } ?? [])
        }
        let keys = [partitionKey, sortKey].compactMap { $0 } + indexes.flatMap { [$0.partitionKey, $0.sortKey].compactMap { $0 } }
        var definitions: [CreateTableInput.AttributeDefinition] = []
        for key in keys where !definitions.contains(where: { $0.AttributeName == key.name }) {
            definitions.append(.init(AttributeName: key.name, AttributeType: key.type.rawValue))
        }
        return CreateTableInput(
            TableName: name,
            KeySchema: schema(partitionKey, sortKey),
            AttributeDefinitions: definitions,
            GlobalSecondaryIndexes: indexes.isEmpty ? nil : indexes.map { .init(IndexName: $0.name, KeySchema: schema($0.partitionKey, $0.sortKey)) }
        )
    }

    /// DynamoDB's `CreateTable` input, in its own field names.
    public struct CreateTableInput: Encodable, Sendable, Hashable {
        public struct KeyElement: Encodable, Sendable, Hashable {
            public var AttributeName: String
            public var KeyType: String
        }
        public struct AttributeDefinition: Encodable, Sendable, Hashable {
            public var AttributeName: String
            public var AttributeType: String
        }
        public struct AllAttributes: Encodable, Sendable, Hashable { public var ProjectionType = "ALL" }
        public struct Index: Encodable, Sendable, Hashable {
            public var IndexName: String
            public var KeySchema: [KeyElement]
            public var Projection = AllAttributes()
        }
        public var TableName: String
        public var KeySchema: [KeyElement]
        public var AttributeDefinitions: [AttributeDefinition]
        public var BillingMode = "PAY_PER_REQUEST"
        public var GlobalSecondaryIndexes: [Index]?
    }
}
