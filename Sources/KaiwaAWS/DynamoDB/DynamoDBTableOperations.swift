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
        struct KeyElement: Encodable {
            var AttributeName: String
            var KeyType: String
        }
        struct AttributeDefinition: Encodable, Hashable {
            var AttributeName: String
            var AttributeType: String
        }
        struct AllAttributes: Encodable { var ProjectionType = "ALL" }
        struct IndexInput: Encodable {
            var IndexName: String
            var KeySchema: [KeyElement]
            var Projection = AllAttributes()
        }
        struct Input: Encodable {
            var TableName: String
            var KeySchema: [KeyElement]
            var AttributeDefinitions: [AttributeDefinition]
            var BillingMode = "PAY_PER_REQUEST"
            var GlobalSecondaryIndexes: [IndexInput]?
        }
        func schema(_ partition: TableDefinition.Key, _ sort: TableDefinition.Key?) -> [KeyElement] {
            [KeyElement(AttributeName: partition.name, KeyType: "HASH")] + (sort.map { [KeyElement(AttributeName: $0.name, KeyType: "RANGE")] } ?? [])
        }
        let keys = [table.partitionKey, table.sortKey].compactMap { $0 } + table.indexes.flatMap { [$0.partitionKey, $0.sortKey].compactMap { $0 } }
        var definitions: [AttributeDefinition] = []
        for key in keys where !definitions.contains(where: { $0.AttributeName == key.name }) {
            definitions.append(AttributeDefinition(AttributeName: key.name, AttributeType: key.type.rawValue))
        }
        let input = Input(
            TableName: table.name,
            KeySchema: schema(table.partitionKey, table.sortKey),
            AttributeDefinitions: definitions,
            GlobalSecondaryIndexes: table.indexes.isEmpty
                ? nil : table.indexes.map { IndexInput(IndexName: $0.name, KeySchema: schema($0.partitionKey, $0.sortKey)) }
        )
        let _: Empty = try await send("CreateTable", input)
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
