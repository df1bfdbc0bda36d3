import ArgumentParser
import Foundation
import KaiwaServer

/// `kaiwa store …`: setting up the store.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Set up the chat store.",
        subcommands: [CreateTables.self]
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
