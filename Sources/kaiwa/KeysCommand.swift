import ArgumentParser
import Foundation
import KaiwaAuth
import KaiwaServer
import KaiwaStore

/// `kaiwa keys …`: API keys for `auth.mode=api-key`, kept in the configured store.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        discussion: "Keys live in the store the configuration names (KAIWA_STORE, KAIWA_SQLITE_PATH, DynamoDB settings), hashed.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    /// `kaiwa keys create --user ID [--name LABEL] [--expires 30d]`
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; it is printed once and never again.")

        @Option(help: "The user the key signs in as (a JWT subject's `sub` to share that user's history).")
        var user: String

        @Option(help: "A label to recognise the key by.")
        var name: String?

        @Option(help: "Lifetime: a number with d, h or m (30d, 12h, 90m). Default: no expiry.")
        var expires: String?

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard !user.isEmpty, user.utf8.count <= 256, !user.contains(where: { $0.isNewline || $0 == "#" }) else {
                throw ValidationError("--user must be 1–256 characters without line breaks or #.")
            }
            if let name, name.utf8.count > 100 { throw ValidationError("--name must be at most 100 characters.") }
            if let expires { _ = try KeysCommand.lifetime(expires) }
        }

        func run() async throws {
            let lifetime = try expires.map(KeysCommand.lifetime)
            let (key, record) = try await storeOptions.withStore { store in
                try await APIKeys(store: store).create(user: user, name: name, expiresAt: lifetime.map { Date().addingTimeInterval($0) })
            }
            print(key)
            FileHandle.standardError.write(
                Data("Created key \(record.id) for \(record.user)\(record.expiresAt.map { ", expires \($0.formatted(.iso8601))" } ?? ""). Store it now: it is not shown again.\n".utf8)
            )
        }
    }

    /// `kaiwa keys list [--user ID]`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never the keys themselves).")

        @Option(help: "Only this user's keys.")
        var user: String?

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let keys = try await storeOptions.withStore { store in try await store.apiKeys(user: user) }
            let now = Date()
            print(["ID", "PREFIX", "USER", "NAME", "CREATED", "LAST USED", "EXPIRES", "STATE"].joined(separator: "\t"))
            for key in keys {
                let state = key.revokedAt != nil ? "revoked" : key.isUsable(at: now) ? "active" : "expired"
                print(
                    [
                        key.id, key.prefix + "…", key.user, key.name ?? "-", key.createdAt.formatted(.iso8601),
                        key.lastUsedAt?.formatted(.iso8601) ?? "-", key.expiresAt?.formatted(.iso8601) ?? "-", state,
                    ].joined(separator: "\t")
                )
            }
        }
    }

    /// `kaiwa keys revoke ID`
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by its id (see `kaiwa keys list`).")

        @Argument(help: "The key's id.")
        var id: String

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let revoked = try await storeOptions.withStore { store in try await store.revokeAPIKey(id: id, at: Date()) }
            guard revoked else {
                FileHandle.standardError.write(Data("There is no API key \(id).\n".utf8))
                throw ExitCode.failure
            }
            print("Revoked \(id).")
        }
    }

    /// Seconds in `30d`, `12h` or `90m`.
    static func lifetime(_ text: String) throws -> TimeInterval {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0, count <= 36_500 else {
            throw ValidationError("--expires must be a number with d, h or m, such as 30d.")
        }
        switch unit {
        case "d": return TimeInterval(count) * 86_400
        case "h": return TimeInterval(count) * 3_600
        case "m": return TimeInterval(count) * 60
        default: throw ValidationError("--expires must be a number with d, h or m, such as 30d.")
        }
    }
}
