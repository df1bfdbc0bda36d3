import ArgumentParser
import Foundation

/// `kaiwa chat`: a terminal client for a running Kaiwa server.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a running Kaiwa server in the terminal.",
        discussion: """
            Replies stream in as they are written, with light Markdown (bold, code blocks, lists, \
            links) when the output is a terminal. Ctrl-C stops a reply without leaving. Commands: \
            /new, /sessions, /open ID, /help, /quit (or Ctrl-D). The API key, when the server \
            wants one, comes from KAIWA_API_KEY.
            """
    )

    @Option(help: "The server's address.")
    var url: String = "http://127.0.0.1:8080"

    @Option(help: "The agent new conversations talk to (default: the server's).")
    var agent: String?

    @Option(help: "The model that answers (one of the agent's; default: the agent's).")
    var model: String?

    @Option(help: "Continue this conversation (an id from /sessions).")
    var session: String?

    func validate() throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty, parsed.query == nil, parsed.fragment == nil
        else {
            throw ValidationError("--url must be an http:// or https:// address, such as http://127.0.0.1:8080.")
        }
        for (name, value) in [("--agent", agent), ("--model", model), ("--session", session)] {
            if let value, value.isEmpty || value.contains(where: { $0.isNewline }) {
                throw ValidationError("\(name) must not be empty.")
            }
        }
    }

    func run() async throws {
        let apiKey = ProcessInfo.processInfo.environment["KAIWA_API_KEY"]
        let client = ChatClient(baseURL: url, apiKey: apiKey)
        let status = await Self.chat(client: client, options: self)
        await client.shutdown()
        if status != 0 { throw ExitCode(status) }
    }

    private static func chat(client: ChatClient, options: ChatCommand) async -> Int32 {
        let styled = ChatTerminal.stylesOutput
        func fail(_ message: String) -> Int32 {
            ChatTerminal.writeError("kaiwa chat: " + TerminalMarkdown.sanitize(message) + "\n")
            return 1
        }
        let health: ChatClient.Health
        do {
            health = try await client.health()
        } catch {
            return fail(String(describing: error))
        }
        var opened: ChatClient.SessionDetail?
        if let session = options.session {
            do {
                opened = try await client.session(session)
            } catch {
                return fail(String(describing: error))
            }
        }

        let prompt = styled && ChatTerminal.inputIsTerminal
        if prompt {
            let server = ["Kaiwa", health.version].compactMap { $0 }.joined(separator: " ")
            var about = [server]
            if let agent = options.agent { about.append("agent \(agent)") }
            if let model = options.model { about.append("model \(model)") }
            ChatTerminal.write(
                "\u{1B}[1mkaiwa chat\u{1B}[22m · \(client.baseURL) · \(TerminalMarkdown.sanitize(about.joined(separator: " · ")))\n"
                    + "\u{1B}[2mType a message and press Enter. Ctrl-C stops a reply; /help lists the commands; /quit or Ctrl-D leaves.\u{1B}[22m\n"
            )
        }
        if let opened {
            ChatTerminal.write(ChatREPL.transcript(of: opened, styled: styled) + "\n")
        }
        let input = ChatInputSource()
        defer { input.close() }
        await input.ready()
        var repl = ChatREPL(
            client: client,
            settings: .init(agent: options.agent, model: options.model, styled: styled, prompt: prompt),
            input: input,
            sessionID: opened?.id
        )
        return await repl.run()
    }
}
