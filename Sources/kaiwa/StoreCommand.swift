import ArgumentParser
import Foundation
import KaiwaAWS
import KaiwaDynamoDBStore
import KaiwaServer

/// `kaiwa store …`: setting up the store.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Set up the chat store.",
        subcommands: [CreateTables.self, Tables.self, Backup.self]
    )

    /// `kaiwa store create-tables`: creates the DynamoDB tables and enables their time to live.
    struct CreateTables: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create Kaiwa's DynamoDB tables (missing ones only) and enable time to live on them.",
            discussion: """
                Uses AWS credentials, AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL) as the AWS SDKs do. \
                Safe to run again: existing tables are left as they are.
                """
        )

        @Option(help: "JSON config file (KAIWA_CONFIG_FILE).")
        var config: String?

        @Option(help: "Prefix of the table names (KAIWA_DYNAMODB_TABLE_PREFIX). Default kaiwa-.")
        var tablePrefix: String?

        func run() async throws {
            let configuration = try await loadConfiguration(
                flags: ["dynamodb.table.prefix": tablePrefix].compactMapValues { $0 }, configFile: config
            )
            do {
                for line in try await StoreFactory.createDynamoDBTables(configuration) { print(line) }
            } catch {
                FileHandle.standardError.write(Data("Could not create the tables: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}

extension StoreCommand {
    /// `kaiwa store tables`: the DynamoDB tables Kaiwa needs, as JSON, for deployment templates
    /// (and the test that keeps `deploy/` in step with the code).
    struct Tables: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print Kaiwa's DynamoDB tables as JSON: each CreateTable request and its time to live attribute."
        )

        @Option(help: "Prefix of the table names. Default: none (templates add their own).")
        var tablePrefix = ""

        struct Table: Encodable {
            struct TimeToLive: Encodable {
                var AttributeName: String
                var Enabled = true
            }
            var table: DynamoDBClient.TableDefinition.CreateTableInput
            var TimeToLiveSpecification: TimeToLive?

            func encode(to encoder: any Encoder) throws {
                try table.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encodeIfPresent(TimeToLiveSpecification, forKey: .TimeToLiveSpecification)
            }
            enum Key: CodingKey { case TimeToLiveSpecification }
        }

        func run() async throws {
            let tables = DynamoDBTables(prefix: tablePrefix).definitions.map { definition in
                Table(table: definition.createTableInput, TimeToLiveSpecification: definition.timeToLiveAttribute.map { .init(AttributeName: $0) })
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(tables), as: UTF8.self))
        }
    }
}

/// Reads the configuration from flags, `KAIWA_*` variables and the config file; a bad value
/// ends the command with a message naming it.
func loadConfiguration(flags: [String: String], configFile: String?) async throws -> KaiwaConfiguration {
    do {
        return try KaiwaConfiguration(
            reader: try await KaiwaConfiguration.reader(
                flags: flags, configFile: configFile ?? ProcessInfo.processInfo.environment["KAIWA_CONFIG_FILE"]
            )
        )
    } catch {
        throw ValidationError("\(error)")
    }
}
