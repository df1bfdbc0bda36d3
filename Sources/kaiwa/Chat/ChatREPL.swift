import Foundation

/// The conversation loop of `kaiwa chat`: reads lines, runs commands, streams replies, and
/// turns Ctrl-C into stopping the reply (or into a hint at the prompt).
///
/// Everything the loop reacts to arrives on one stream (`ChatInput`): lines, the end of
/// input, Ctrl-C, and news from the reply being written, which runs in a task of its own.
/// So the loop never blocks on a reply: a Ctrl-C is seen while the reply streams.
struct ChatREPL {
    struct Settings: Sendable {
        var agent: String?
        var model: String?
        /// ANSI styles and Markdown rendering (standard output is a terminal).
        var styled: Bool
        /// Show a prompt (standard input and output are a terminal).
        var prompt: Bool
    }

    /// The reply being written.
    private struct RunningReply {
        var number: Int
        var task: Task<Void, Never>
        var control: ReplyControl
        /// The server announced the reply's session (so it is running there and can be stopped).
        var sessionKnown = false
        var stopRequested = false
        var stopSent = false
    }

    let client: ChatClient
    let settings: Settings
    let input: ChatInputSource
    private(set) var sessionID: String?
    private var reply: RunningReply?
    private var replies = 0
    /// Lines typed while a reply was being written, handled after it.
    private var queued: [String] = []
    private var endOfInput = false
    /// Lines of a message being continued (each ended with `\`).
    private var continued: [String] = []
    /// The last `/sessions` listing, for `/open 2`.
    private var listing: [ChatClient.SessionSummary] = []

    /// How long a stopped reply may take to confirm before the connection is dropped.
    static let stopGrace: Duration = .seconds(3)

    init(client: ChatClient, settings: Settings, input: ChatInputSource, sessionID: String? = nil) {
        self.client = client
        self.settings = settings
        self.input = input
        self.sessionID = sessionID
    }

    enum Outcome {
        case keepGoing
        case quit
    }

    /// Runs until `/quit` or the end of input; the exit status.
    mutating func run() async -> Int32 {
        showPrompt()
        for await event in input.inputs {
            switch event {
            case .line(let line):
                if reply != nil {
                    queued.append(line)
                } else {
                    if await handle(line) == .quit { return 0 }
                    if reply == nil { showPrompt() }
                }
            case .endOfInput:
                endOfInput = true
                if reply == nil, queued.isEmpty {
                    if settings.prompt { ChatTerminal.write("\n") }
                    return 0
                }
            case .interrupt:
                if reply != nil {
                    interruptReply()
                } else {
                    continued.removeAll()
                    ChatTerminal.write("\n" + dim("(Ctrl-C stops a reply. To leave, type /quit or press Ctrl-D.)") + "\n")
                    showPrompt()
                }
            case .replySession(let id):
                sessionID = id
                reply?.sessionKnown = true
                if reply?.stopRequested == true { sendStop() }
            case .replyFinished(let number):
                guard reply?.number == number else { break }
                reply = nil
                input.releaseEcho()
                ChatTerminal.write("\n")
                // Lines typed meanwhile, one at a time: one may start the next reply.
                var quit = false
                while reply == nil, !queued.isEmpty {
                    let line = queued.removeFirst()
                    if settings.prompt { ChatTerminal.write(promptText + line + "\n") }
                    if await handle(line) == .quit {
                        quit = true
                        break
                    }
                }
                if quit { return 0 }
                if reply == nil {
                    if endOfInput { return 0 }
                    showPrompt()
                }
            }
        }
        return 0
    }

    // MARK: - Lines and commands

    /// Runs a command or starts a reply; the caller shows the prompt when no reply started.
    private mutating func handle(_ line: String) async -> Outcome {
        // A line ending with `\` continues on the next one.
        if line.hasSuffix("\\") {
            continued.append(String(line.dropLast()))
            return .keepGoing
        }
        if !continued.isEmpty {
            let message = (continued + [line]).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            continued.removeAll()
            if !message.isEmpty { startReply(message) }
            return .keepGoing
        }
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return .keepGoing }
        guard text.hasPrefix("/"), !text.hasPrefix("//") else {
            // `//text` sends `/text`.
            startReply(text.hasPrefix("//") ? String(text.dropFirst()) : text)
            return .keepGoing
        }
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let command = parts[0].lowercased()
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch command {
        case "/quit", "/exit", "/q":
            return .quit
        case "/new":
            sessionID = nil
            say(dim("New conversation. Your next message starts it."))
        case "/sessions", "/ls":
            await listSessions()
        case "/open":
            await openSession(argument)
        case "/help", "/?":
            say(Self.help)
        default:
            sayError("Unknown command \(command). Type /help for the commands; start a message with // to send a slash.")
        }
        return .keepGoing
    }

    static let help = """
        Type a message and press Enter; the reply streams in. Ctrl-C stops a reply.
        End a line with \\ to go on writing the message on the next line.
          /new         start a new conversation
          /sessions    list your conversations
          /open ID     continue a conversation (an id, or a number from /sessions)
          /help        this help
          /quit        leave (Ctrl-D too)
        """

    // MARK: - Replies

    private mutating func startReply(_ message: String) {
        replies += 1
        let number = replies
        let control = ReplyControl()
        let request = ChatClient.MessageRequest(
            message: message, sessionID: sessionID,
            // A conversation keeps its agent: naming one for an existing session is refused
            // when it differs.
            agent: sessionID == nil ? settings.agent : nil,
            model: settings.model
        )
        let task = Task { [client, input, styled = settings.styled] in
            await Self.stream(request, client: client, printer: ReplyPrinter(styled: styled, control: control), input: input)
            input.send(.replyFinished(number))
        }
        reply = RunningReply(number: number, task: task, control: control)
        if settings.prompt { input.holdEcho() }
    }

    private static func stream(_ request: ChatClient.MessageRequest, client: ChatClient, printer: ReplyPrinter, input: ChatInputSource) async {
        do {
            var ended = false
            for try await event in try await client.streamReply(request) {
                switch event {
                case .session(let id): input.send(.replySession(id))
                case .delta(let text): printer.delta(text)
                case .toolCall(let id, let name, let arguments): printer.toolCall(id: id, name: name, input: arguments)
                case .toolResult(let id, let ok, let summary): printer.toolResult(id: id, ok: ok, summary: summary)
                case .done(_, let stopped, _):
                    printer.finish(stopped: stopped)
                    ended = true
                case .error(_, let message):
                    printer.fail(message)
                    ended = true
                case .usage, .other: break
                }
                if ended { break }
            }
            if !ended {
                if Task.isCancelled {
                    printer.finish(stopped: true)
                } else {
                    printer.fail(ChatClientError.streamEnded.description)
                }
            }
        } catch {
            if Task.isCancelled || error is CancellationError {
                printer.finish(stopped: true)
            } else {
                printer.fail(String(describing: error))
            }
        }
    }

    /// Ctrl-C while a reply streams: stop showing it, ask the server to stop it (once it
    /// is known to run there), and hang up if it does not end soon. A second Ctrl-C hangs
    /// up at once.
    private mutating func interruptReply() {
        guard var running = reply else { return }
        if running.stopRequested {
            running.task.cancel()
            return
        }
        running.stopRequested = true
        running.control.mute()
        reply = running
        if running.sessionKnown { sendStop() }
        let task = running.task
        Task {
            try? await Task.sleep(for: Self.stopGrace)
            task.cancel()
        }
    }

    private mutating func sendStop() {
        guard let sessionID, reply?.stopSent == false else { return }
        reply?.stopSent = true
        Task { [client, styled = settings.styled] in
            do {
                try await client.stop(session: sessionID)
            } catch {
                let text = "Could not stop the reply on the server: \(error)"
                ChatTerminal.writeError(styled ? "\u{1B}[31m" + text + "\u{1B}[39m\n" : text + "\n")
            }
        }
    }

    // MARK: - Sessions

    private mutating func listSessions() async {
        do {
            let page = try await client.sessions()
            listing = page.sessions
            guard !page.sessions.isEmpty else {
                say(dim("No conversations yet."))
                return
            }
            let width = ChatTerminal.width
            let idWidth = page.sessions.map { ChatTerminal.displayWidth(TerminalMarkdown.sanitize($0.id)) }.max() ?? 0
            var lines = [dim("  #  " + "ID".padded(to: idWidth) + "  " + "UPDATED".padded(to: 16) + "  TITLE")]
            for (index, session) in page.sessions.enumerated() {
                let marker = session.id == sessionID ? "*" : " "
                let number = String(index + 1).leftPadded(to: 2)
                let id = TerminalMarkdown.sanitize(session.id).padded(to: idWidth)
                let updated = Self.localTime(session.updatedAt).padded(to: 16)
                let head = "\(marker)\(number)  \(id)  \(updated)  "
                let title = TerminalMarkdown.sanitize(session.title ?? "").replacingOccurrences(of: "\n", with: " ")
                let shownTitle = ChatTerminal.truncate(title, toColumns: max(10, width - ChatTerminal.displayWidth(head) - 1))
                lines.append(settings.styled && session.id == sessionID ? bold(head + shownTitle) : head + shownTitle)
            }
            if page.nextCursor != nil { lines.append(dim("  … and older ones")) }
            lines.append(dim("Open one with /open ID or /open NUMBER."))
            say(lines.joined(separator: "\n"))
        } catch {
            sayError(String(describing: error))
        }
    }

    /// `/open ID`: an id, a number from the last `/sessions`, or the start of an id.
    private mutating func openSession(_ argument: String) async {
        guard !argument.isEmpty else {
            sayError("Which conversation? /open ID (see /sessions).")
            return
        }
        do {
            let detail = try await findSession(argument)
            sessionID = detail.id
            say(Self.transcript(of: detail, styled: settings.styled))
        } catch {
            sayError(String(describing: error))
        }
    }

    private mutating func findSession(_ argument: String) async throws -> ChatClient.SessionDetail {
        do {
            return try await client.session(argument)
        } catch ChatClientError.server(let status, let code, let message) where status == 404 || status == 400 {
            if let number = Int(argument), number >= 1, number <= listing.count {
                return try await client.session(listing[number - 1].id)
            }
            let candidates = (try? await client.sessions(limit: 200).sessions) ?? listing
            let matches = candidates.filter { $0.id.hasPrefix(argument) }
            if matches.count == 1 { return try await client.session(matches[0].id) }
            if matches.count > 1 {
                throw ChatClientError.server(status: 400, code: "bad_request", message: "\(matches.count) conversations start with \(argument): give more of the id.")
            }
            throw ChatClientError.server(status: status, code: code, message: message)
        }
    }

    /// A conversation's header and its last few messages.
    static func transcript(of detail: ChatClient.SessionDetail, styled: Bool, last: Int = 6, maxLines: Int = 20) -> String {
        func dim(_ text: String) -> String { styled ? "\u{1B}[2m" + text + "\u{1B}[22m" : text }
        let title = TerminalMarkdown.sanitize(detail.title ?? "").replacingOccurrences(of: "\n", with: " ")
        let count = detail.messages.count
        var lines = [dim("Conversation \(TerminalMarkdown.sanitize(detail.id)) “\(title)” · \(count) message\(count == 1 ? "" : "s")"
            + (count > last ? ", the last \(last):" : ":"))]
        for (index, message) in detail.messages.suffix(last).enumerated() {
            if message.role == "user", index > 0 { lines.append("") }
            var text = (message.text ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let hidden = max(0, text.count - maxLines)
            text = Array(text.prefix(maxLines))
            if message.role == "user" {
                let body = text.map { TerminalMarkdown.sanitize($0) }
                lines.append((styled ? "\u{1B}[1m> \u{1B}[22m" : "> ") + body.joined(separator: "\n  "))
            } else {
                let body = text.joined(separator: "\n")
                lines.append(styled ? TerminalMarkdown.render(body, style: .ansi, ruleWidth: 40) : TerminalMarkdown.sanitize(body))
            }
            if hidden > 0 { lines.append(dim("  … \(hidden) more line\(hidden == 1 ? "" : "s")")) }
            switch message.status {
            case "partial": lines.append(dim("[stopped]"))
            case "error": lines.append(dim("[failed]"))
            default: break
            }
        }
        lines.append(dim("Your next message continues this conversation."))
        return lines.joined(separator: "\n")
    }

    static func localTime(_ iso: String?) -> String {
        guard let iso else { return "" }
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var date = parser.date(from: iso)
        if date == nil {
            parser.formatOptions = [.withInternetDateTime]
            date = parser.date(from: iso)
        }
        guard let date else { return TerminalMarkdown.sanitize(iso) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    // MARK: - Output

    private var promptText: String {
        let mark = continued.isEmpty ? ">" : "…"
        return settings.styled ? "\u{1B}[1;36m\(mark)\u{1B}[0m " : "\(mark) "
    }

    private func showPrompt() {
        if settings.prompt { ChatTerminal.write(promptText) }
    }

    private func say(_ text: String) {
        ChatTerminal.write(text + "\n")
    }

    private func sayError(_ text: String) {
        let clean = TerminalMarkdown.sanitize(text)
        ChatTerminal.writeError(settings.styled ? "\u{1B}[31m" + clean + "\u{1B}[39m\n" : clean + "\n")
    }

    private func dim(_ text: String) -> String {
        settings.styled ? "\u{1B}[2m" + text + "\u{1B}[22m" : text
    }

    private func bold(_ text: String) -> String {
        settings.styled ? "\u{1B}[1m" + text + "\u{1B}[22m" : text
    }
}

extension String {
    fileprivate func padded(to columns: Int) -> String {
        self + String(repeating: " ", count: max(0, columns - ChatTerminal.displayWidth(self)))
    }

    fileprivate func leftPadded(to columns: Int) -> String {
        String(repeating: " ", count: max(0, columns - ChatTerminal.displayWidth(self))) + self
    }
}
