import ArgumentParser

/// `kaiwa`: a self-hostable AI chat agent server.
@main
struct Kaiwa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kaiwa",
        abstract: "A self-hostable AI chat agent server.",
        subcommands: [Serve.self, StoreCommand.self, KeysCommand.self, ChatCommand.self],
        defaultSubcommand: Serve.self
    )
}
