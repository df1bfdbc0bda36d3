import Foundation
import KaiwaCore
import KaiwaStore
import Logging

/// Turns a user message into a reply: checks the session, stores the message, calls the
/// model, streams the reply as `ChatEvent`s and stores it. Every transport (JSON, SSE,
/// WebSocket, AgentCore) goes through here; none has chat logic of its own.
public struct ChatService: Sendable {
    public let store: any ChatStore
    /// The models agents and requests name.
    public let models: ModelCatalog
    /// Every tool the server offers, by name; each agent uses those its profile lists.
    public let tools: [String: any Tool]
    public let agents: AgentCatalog
    public let settings: ChatSettings
    public let clock: any WallClock
    public let activity: ActivityTracker
    public let metrics: KaiwaMetrics
    public let logger: Logger

    /// A service whose only model is `model`.
    public init(
        store: any ChatStore, model: any ModelProvider, tools: [String: any Tool] = [:], agents: AgentCatalog = .standard,
        settings: ChatSettings = .init(), clock: any WallClock = SystemWallClock(), activity: ActivityTracker? = nil,
        metrics: KaiwaMetrics = .off, logger: Logger = Logger(label: "kaiwa.chat")
    ) {
        self.init(
            store: store, models: .single(model), tools: tools, agents: agents, settings: settings, clock: clock, activity: activity,
            metrics: metrics, logger: logger
        )
    }

    public init(
        store: any ChatStore,
        models: ModelCatalog,
        tools: [String: any Tool] = [:],
        agents: AgentCatalog = .standard,
        settings: ChatSettings = .init(),
        clock: any WallClock = SystemWallClock(),
        activity: ActivityTracker? = nil,
        metrics: KaiwaMetrics = .off,
        logger: Logger = Logger(label: "kaiwa.chat")
    ) {
        self.metrics = metrics
        self.store = store
        self.models = models
        self.tools = tools
        self.agents = agents
        self.settings = settings
        self.clock = clock
        self.activity = activity ?? ActivityTracker(clock: clock)
        self.logger = logger
    }

    /// Accepts a user turn: validates it, opens or creates its session and stores the user's
    /// message. Throws a `KaiwaError` (400, 408, 413, …) before anything is stored when the
    /// turn cannot be taken.
    public func begin(_ request: ChatRequest) async throws -> ChatTurn {
        if let branch = request.branch { return try await beginBranch(branch, of: request) }
        let text = request.message
        try checkMessage(text)
        // Earlier messages a client sends (AgentCore's `messages`) are stored too: bounded like
        // the history a turn reads, each like a message (one too large once broke DynamoDB's item limit).
        guard request.priorMessages.count <= settings.historyLimit else {
            throw KaiwaError.badRequest(
                "Send at most \(settings.historyLimit) earlier messages (got \(request.priorMessages.count)); older ones would not be read."
            )
        }
        for (index, message) in request.priorMessages.enumerated() where message.content.plainText.utf8.count > settings.maxMessageBytes {
            throw KaiwaError(.payloadTooLarge, "Earlier message \(index + 1) is longer than \(settings.maxMessageBytes) bytes.")
        }
        let now = clock.now()
        let existing = try await existingSession(for: request, at: now)
        let profile = agents.profile(named: existing?.agent ?? request.agent ?? agents.defaultName) ?? agents.profile(named: agents.defaultName)!
        let model = try models.model(request.model, for: profile)
        let files = try await attachments(request.attachments, of: request.owner, for: model)
        var messages = [NewMessage(role: .user, content: [.text(text)] + files.map(ContentBlock.attachment), status: .complete, createdAt: now)]
        if !request.priorMessages.isEmpty, try await isEmpty(existing) {
            let prior = request.priorMessages.map { NewMessage(role: $0.role, content: $0.content, createdAt: now) }
            messages.insert(contentsOf: prior, at: 0)
        }
        let (session, stored) = try await metrics.storeCall("open_session") { [store] in try await store.openSession(
            existing
                ?? SessionRecord(
                    id: request.sessionID ?? .random(),
                    agent: request.agent ?? agents.defaultName,
                    title: Self.title(from: request.priorMessages.first?.content.plainText ?? text, length: settings.titleLength),
                    owner: request.owner,
                    createdAt: now,
                    updatedAt: now
                ),
            appending: messages
        ) }
        // Messages that start the session are its whole history: no need to read it back.
        let history = stored.first?.sequence == 1 ? stored : nil
        return ChatTurn(session: session, userMessage: stored[stored.count - 1], profile: profile, model: model, knownHistory: history)
    }

    private func checkMessage(_ text: String) throws {
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw KaiwaError.badRequest("`message` must not be empty.")
        }
        guard text.utf8.count <= settings.maxMessageBytes else {
            throw KaiwaError(.payloadTooLarge, "The message is longer than \(settings.maxMessageBytes) bytes.")
        }
    }

    /// Accepts an edit or a regeneration: the message it names must be in the caller's session.
    /// An edit stores the new question beside the old one; a regeneration stores nothing yet
    /// but moves the session's branch to the question, so the new reply hangs there.
    private func beginBranch(_ branch: ChatRequest.Branch, of request: ChatRequest) async throws -> ChatTurn {
        guard let id = request.sessionID else { throw KaiwaError.badRequest("An edit or a regeneration needs the session it belongs to.") }
        let now = clock.now()
        guard let existing = try await existingSession(for: request, at: now) else { throw KaiwaError.sessionNotFound(id) }
        let profile = agents.profile(named: existing.agent) ?? agents.profile(named: agents.defaultName)!
        let model = try models.model(request.model, for: profile)
        let tree = ConversationTree(try await store.messages(in: id))
        switch branch {
        case .edit(let messageID):
            try checkMessage(request.message)
            guard let original = tree.message(withID: messageID) else { throw KaiwaError.messageNotFound(messageID) }
            guard original.role == .user, !original.content.isToolResults else {
                throw KaiwaError.badRequest("Message \(messageID) is not one you wrote; only your own messages can be edited.")
            }
            // The edited question keeps the original's files unless others are named.
            var files = original.content.attachments
            if request.attachments.isEmpty {
                try checkReadable(files, by: model)
            } else {
                files = try await attachments(request.attachments, of: request.owner, for: model)
            }
            let edited = NewMessage(
                role: .user, content: [.text(request.message)] + files.map(ContentBlock.attachment), createdAt: now,
                parent: original.parentSequence.map { .after($0) } ?? .root
            )
            let (session, stored) = try await store.openSession(existing, appending: [edited])
            let history = original.parentSequence.map { tree.path(to: $0) } ?? []
            return ChatTurn(session: session, userMessage: stored[0], profile: profile, model: model, knownHistory: history + stored)
        case .regenerate(let messageID):
            guard let reply = tree.message(withID: messageID) else { throw KaiwaError.messageNotFound(messageID) }
            guard reply.role == .assistant || reply.content.isToolResults, let question = tree.question(answeredBy: reply.sequence) else {
                throw KaiwaError.badRequest("Message \(messageID) is not a reply; only replies can be regenerated.")
            }
            guard let session = try await store.setCurrentLeaf(question.sequence, of: id, owner: request.owner) else {
                throw KaiwaError.sessionNotFound(id)
            }
            return ChatTurn(
                session: session, userMessage: question, profile: profile, model: model, knownHistory: tree.path(to: question.sequence),
                isRegeneration: true
            )
        }
    }

    /// The files a message names, after checking that the sender uploaded each, that there
    /// are not too many, and that `model` reads their kinds (before anything is stored or called).
    private func attachments(_ ids: [String], of owner: String?, for model: CatalogModel) async throws -> [Attachment] {
        guard ids.count <= settings.maxAttachmentsPerMessage else {
            throw KaiwaError.badRequest("Attach at most \(settings.maxAttachmentsPerMessage) files to a message (got \(ids.count)).")
        }
        guard Set(ids).count == ids.count else { throw KaiwaError.badRequest("`attachments` names a file twice.") }
        var files: [Attachment] = []
        for id in ids {
            guard (1...128).contains(id.count), let record = try await store.attachmentRecord(id, owner: owner) else {
                throw KaiwaError.notFound("There is no attached file \(id.prefix(128)); upload it with POST /api/attachments first.")
            }
            files.append(record.attachment)
        }
        try checkReadable(files, by: model)
        return files
    }

    private func checkReadable(_ files: [Attachment], by model: CatalogModel) throws {
        for file in files {
            let needs: CatalogModel.FileInput? = file.kind == .image ? .image : (file.isText ? nil : .pdf)
            if let needs, !model.reads.contains(needs) {
                let what = needs == .image ? "images" : "PDF documents"
                throw KaiwaError.badRequest("The model \(model.name) does not read \(what), so \(file.name) cannot be sent to it; pick another model or leave the file out.")
            }
        }
    }

    /// The session the request continues, after checking it may take a message; `nil` for a new one.
    private func existingSession(for request: ChatRequest, at now: Date) async throws -> SessionRecord? {
        if let requested = request.agent, agents.profile(named: requested) == nil {
            let known = agents.profiles.map(\.name).joined(separator: ", ")
            throw KaiwaError(.unknownAgent, "There is no agent named \"\(requested)\". Known agents: \(known).")
        }
        guard let id = request.sessionID, let existing = try await store.session(id) else { return nil }
        guard existing.owner == request.owner else { throw KaiwaError.sessionNotFound(id) }
        if let idle = settings.idleTimeout, now.timeIntervalSince(existing.updatedAt) > idle.seconds {
            throw KaiwaError.sessionExpired(id.rawValue)
        }
        if let requested = request.agent, requested != existing.agent {
            throw KaiwaError.badRequest(
                "Session \(id) talks to agent \"\(existing.agent)\"; start a new session to talk to \"\(requested)\"."
            )
        }
        return existing
    }

    private func isEmpty(_ session: SessionRecord?) async throws -> Bool {
        guard let session else { return true }
        return try await store.messages(in: session.id).isEmpty
    }

    /// Generates and stores the reply to an accepted turn, handing each event to `emit` as it
    /// happens. The reply is stored whatever happens: `complete`, `partial` when the task is
    /// cancelled (stop, shutdown), `error` when the model fails.
    ///
    /// `replyEvents` gives the event batches to store in the same write as the reply, given
    /// the reply's final event (the runner uses it to keep every event for resuming).
    @discardableResult
    public func run(
        _ turn: ChatTurn,
        replyEvents: @Sendable (_ final: SequencedChatEvent) -> [ReplyEventBatch] = { _ in [] },
        emit: @Sendable (SequencedChatEvent) async -> Void
    ) async -> ReplyOutcome {
        activity.replyStarted()
        defer { activity.replyEnded() }

        var sequence = 0
        let started = ContinuousClock.now
        var firstText: Duration?
        var toolNames: [String: String] = [:]
        func send(_ event: ChatEvent) async {
            sequence += 1
            switch event {
            case .delta where firstText == nil: firstText = ContinuousClock.now - started
            case .toolCall(let id, let name, _): toolNames[id] = name
            case .toolResult(let id, let ok, _): metrics.toolCall(toolNames[id] ?? "unknown", ok: ok)
            default: break
            }
            await emit(SequencedChatEvent(sequence: sequence, event: event))
        }
        await send(.session(id: turn.session.id.rawValue))

        let model = turn.model
        let loop = AgentLoop(
            model: model.provider, tools: tools(for: turn.profile), maxCycles: settings.maxCycles, toolTimeout: settings.toolTimeout,
            logger: logger
        )
        var transcript = AgentTranscript()
        var failure: KaiwaError?
        do {
            try await loop.run(try await modelRequest(for: turn), into: &transcript) { event in await send(event) }
            try Task.checkCancellation()
        } catch is CancellationError {
            // Stopped: what was written so far is kept as a partial reply.
        } catch {
            failure = Self.clientFacing(error, logger: logger)
        }

        let text = transcript.text
        let stopped = failure == nil && Task.isCancelled
        let status: MessageStatus =
            switch (failure, stopped) {
            case (.some, _): text.isEmpty ? .error : .partial
            case (nil, true): .partial
            case (nil, false): .complete
            }
        if transcript.messages.last?.role != .assistant {
            transcript.messages.append(ChatMessage(role: .assistant, content: []))
        }
        let answered = transcript.answeredBy ?? model.name
        metrics.modelCall(model: answered, firstToken: firstText, duration: ContinuousClock.now - started, usage: transcript.usage)
        metrics.replyEnded(outcome: status.rawValue)
        let cost = transcript.usage.flatMap { usage in models[answered]?.price?.cost(of: usage) }
        let now = clock.now()
        // The reply hangs under its question, whichever branch the user has moved to meanwhile.
        let messages = transcript.messages.enumerated().map { index, message in
            let isLast = index == transcript.messages.count - 1
            return NewMessage(
                role: message.role, content: message.content, model: message.role == .assistant ? answered : nil,
                status: isLast ? status : .complete, usage: isLast ? transcript.usage : nil, costUSD: isLast ? cost : nil, createdAt: now,
                parent: index == 0 ? .after(turn.userMessage.sequence) : .previous
            )
        }
        let final = SequencedChatEvent(
            sequence: sequence + 1,
            event: failure.map { .error(code: $0.code.rawValue, message: $0.message) }
                ?? .done(messageID: messages[messages.count - 1].id, response: text, stopped: stopped, model: answered, costUSD: cost)
        )
        let events = replyEvents(final)
        let stored: MessageRecord?
        do {
            stored = try await withoutCancellation { [store, metrics] in
                try await metrics.storeCall("append_messages") {
                    try await store.appendMessages(messages, to: turn.session.id, replyEvents: events).last
                }
            }
        } catch {
            logger.error("Could not store a reply", metadata: ["session": "\(turn.session.id)", "error": "\(error)"])
            let failed = (error as? KaiwaError) ?? (error as? any ClientFacingError)?.clientError ?? .internalError
            await send(.error(code: failed.code.rawValue, message: failed.message))
            return ReplyOutcome(message: nil, text: text, status: .error, error: failed, usage: transcript.usage, model: answered)
        }
        sequence += 1
        await emit(final)
        return ReplyOutcome(message: stored, text: text, status: status, error: failure, usage: transcript.usage, model: answered)
    }

    private func modelRequest(for turn: ChatTurn) async throws -> ModelRequest {
        let stored: [MessageRecord]
        if let known = turn.knownHistory {
            stored = known
        } else {
            // Only what the window can hold is read, however long the conversation.
            stored = try await metrics.storeCall("read_history") {
                try await store.path(in: turn.session.id, to: turn.userMessage.sequence, limit: settings.historyLimit)
            }
        }
        let history = stored.filter { !$0.content.isEmpty }.map(\.chatMessage)
        let window = ContextWindow.select(history, budgetTokens: historyBudget(for: turn.model), maxMessages: settings.historyLimit)
        var request = ModelRequest(system: systemPrompt(of: turn.profile), messages: window)
        // The bytes of the files the model will see; a file the sweep removed is said to be gone.
        for file in window.flatMap(\.content.attachments) where request.attachmentData[file.id] == nil {
            request.attachmentData[file.id] = try await store.attachmentData(file.id, owner: turn.session.owner)
        }
        return request
    }

    /// Tokens of history sent to `model`: the configured budget, and at most three quarters
    /// of the model's context window (the rest is for the prompt, tools and the answer).
    func historyBudget(for model: CatalogModel) -> Int {
        guard let window = model.contextWindow, window > 0 else { return settings.contextBudgetTokens }
        return min(settings.contextBudgetTokens, window * 3 / 4)
    }

    /// The profile's system prompt with `{today}` filled in (Japan's date, as Confee's users live there).
    func systemPrompt(of profile: AgentProfile) -> String {
        guard profile.systemPrompt.contains("{today}") else { return profile.systemPrompt }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: clock.now())
        let weekday = ["日", "月", "火", "水", "木", "金", "土"][(parts.weekday ?? 1) - 1]
        let today = "\(parts.year ?? 0)年\(parts.month ?? 0)月\(parts.day ?? 0)日（\(weekday)）"
        return profile.systemPrompt.replacingOccurrences(of: "{today}", with: today)
    }

    public func tools(for profile: AgentProfile) -> [String: any Tool] {
        tools.filter { profile.tools.contains($0.key) }
    }

    static func title(from message: String, length: Int) -> String {
        let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
        var scalars = line.unicodeScalars[...]
        while scalars.first?.properties.isWhitespace == true { scalars.removeFirst() }
        while scalars.last?.properties.isWhitespace == true { scalars.removeLast() }
        let trimmed = String(scalars)
        // A character is at least one scalar, so few scalars means few characters (and no counting).
        if scalars.count <= length || trimmed.count <= length { return trimmed }
        return String(trimmed.prefix(length)) + "…"
    }

    /// What a client may be told about a failure: a `KaiwaError` as it is, anything else as
    /// "service unavailable" with the detail only in the log.
    public static func clientFacing(_ error: any Error, logger: Logger) -> KaiwaError {
        if let error = error as? KaiwaError { return error }
        if let error = error as? ModelError {
            logger.error("Model call failed", metadata: ["error": "\(error)"])
            return error.clientError
        }
        logger.error("Model call failed", metadata: ["error": "\(error)"])
        return KaiwaError(.serviceUnavailable, "The model is not available right now. Please try again in a moment.")
    }
}

/// An accepted user turn whose reply has not been generated yet.
public struct ChatTurn: Sendable {
    public let session: SessionRecord
    public let userMessage: MessageRecord
    public let profile: AgentProfile
    /// The model asked to write the reply (a fallback of it may answer).
    public let model: CatalogModel
    /// The session's messages when this turn opened it (so they need not be read back).
    let knownHistory: [MessageRecord]?
    /// Whether the turn writes a reply again to a question already answered.
    public var isRegeneration = false

    /// Whether this turn's reply is the conversation's first (when a model may write the title).
    public var isFirstReply: Bool { userMessage.sequence == 1 && !isRegeneration }
}

/// How a reply ended.
public struct ReplyOutcome: Sendable {
    /// The stored reply, `nil` only when storing failed.
    public var message: MessageRecord?
    public var text: String
    public var status: MessageStatus
    public var error: KaiwaError?
    /// Tokens the model used for the reply, when it said.
    public var usage: TokenUsage? = nil
    /// The catalogue model that answered.
    public var model: String? = nil
}

/// Runs `operation` so that the caller's cancellation does not reach it: in a task of its
/// own when the caller is cancelled (a stopped reply must still be stored), directly otherwise.
func withoutCancellation<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    if !Task.isCancelled {
        do {
            return try await operation()
        } catch is CancellationError {
            // Cancelled while it ran: run it again below, out of reach of the cancellation.
        }
    }
    return try await Task { try await operation() }.value
}
