import ArgumentParser
import NIOCore
import NIOPosix

/// `kaiwa`: a self-hostable AI chat agent server.
@main
struct Kaiwa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kaiwa",
        abstract: "A self-hostable AI chat agent server.",
        subcommands: [Serve.self, StoreCommand.self, KeysCommand.self, ExportCommand.self, ImportCommand.self, ChatCommand.self],
        defaultSubcommand: Serve.self
    )

    static func main() async {
        // Swift concurrency's tasks then run on NIO's event loops, the threads that do the
        // sockets' I/O: a request no longer hops between them and a separate thread pool
        // (on two cores this alone took about a third of the CPU time of a /v1 request).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}
