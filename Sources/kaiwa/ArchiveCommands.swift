import ArgumentParser
import Foundation
import KaiwaServer
import KaiwaStore

/// `kaiwa export --out FILE`: every conversation of the configured store as JSON Lines.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every conversation of the store to a JSON Lines file (for kaiwa import).",
        discussion: "Every owner's conversations with all their messages; the store the settings name (e.g. KAIWA_STORE=dynamodb)."
    )

    @Option(help: "The file to write (must not exist).")
    var out: String

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: out) else {
            throw ValidationError("\(out) exists already; give a new file.")
        }
        guard FileManager.default.createFile(atPath: out, contents: nil), let file = FileHandle(forWritingAtPath: out) else {
            throw ValidationError("\(out) cannot be written.")
        }
        defer { try? file.close() }
        let count = try await storeOptions.withStore { store in
            try await ConversationArchive.export(store) { line in try file.write(contentsOf: Data((line + "\n").utf8)) }
        }
        print("Exported \(count) conversation\(count == 1 ? "" : "s") to \(out).")
    }
}

/// `kaiwa import FILE`: conversations from `kaiwa export` into the configured store.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read conversations from a kaiwa export file into the store; ones already there are left alone.",
        discussion: "The whole file is checked first: a file with a problem imports nothing and says which line."
    )

    @Argument(help: "A file written by kaiwa export.")
    var file: String

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file) cannot be read.") }
        let conversations: [ConversationArchive.Conversation]
        do {
            conversations = try ConversationArchive.read(String(decoding: data, as: UTF8.self))
        } catch {
            FileHandle.standardError.write(Data("kaiwa import: nothing imported: \(file) \(error)\n".utf8))
            throw ExitCode.failure
        }
        let (imported, present) = try await storeOptions.withStore { store in
            let counts = try await ConversationArchive.load(conversations, into: store)
            // Indexed for search now, so that a server started next does not spend its first seconds on it.
            try await (store as? SQLiteChatStore)?.indexPendingSearchRows()
            return counts
        }
        print("Imported \(imported) conversation\(imported == 1 ? "" : "s"); \(present) already there.")
    }
}

extension StoreCommand {
    /// `kaiwa store backup FILE`: an online copy of the SQLite store.
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite store to a new file while the server runs (SQLite's online backup), and check the copy."
        )

        @Argument(help: "The file to write (must not exist).")
        var file: String

        @Option(help: "JSON config file (KAIWA_CONFIG_FILE).")
        var config: String?

        @Option(help: "SQLite database file (KAIWA_SQLITE_PATH). Default ./kaiwa.sqlite.")
        var sqlitePath: String?

        func run() async throws {
            let configuration = try await loadConfiguration(flags: ["sqlite.path": sqlitePath].compactMapValues { $0 }, configFile: config)
            guard configuration.store == .sqlite else {
                throw ValidationError("kaiwa store backup copies a SQLite store; this one is \(configuration.store.rawValue) (DynamoDB has point-in-time recovery).")
            }
            do {
                let copy = try SQLiteBackup.copy(from: configuration.sqlitePath, to: file)
                print("Backed up \(configuration.sqlitePath) to \(file): \(copy.bytes) bytes, \(copy.sessions) conversations, \(copy.messages) messages; integrity ok.")
            } catch {
                FileHandle.standardError.write(Data("kaiwa store backup: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
