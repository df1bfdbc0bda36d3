import ArgumentParser
import Foundation
import KaiwaServer
import KaiwaStore

/// Which store a command works on: the same settings `kaiwa serve` reads, with the store and
/// the SQLite file as options.
struct StoreOptions: ParsableArguments {
    @Option(help: "JSON config file (KAIWA_CONFIG_FILE).")
    var config: String?

    @Option(help: "Store: sqlite, dynamodb or memory (KAIWA_STORE). Default sqlite.")
    var store: String?

    @Option(help: "SQLite database file (KAIWA_SQLITE_PATH). Default ./kaiwa.sqlite.")
    var sqlitePath: String?

    func withStore<T: Sendable>(_ work: (any ChatStore) async throws -> T) async throws -> T {
        let configuration = try await loadConfiguration(
            flags: ["store": store, "sqlite.path": sqlitePath].compactMapValues { $0 }, configFile: config
        )
        do {
            return try await StoreFactory.withStore(configuration, work)
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("kaiwa: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
