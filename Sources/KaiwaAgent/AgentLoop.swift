import Foundation
import KaiwaCore
import Logging
import Tracing

/// The messages a reply adds to the conversation: the model's turns (text and tool calls)
/// and the tool results between them.
struct AgentTranscript: Sendable {
    var messages: [ChatMessage] = []
    var usage: TokenUsage?
    /// The catalogue model that answered last, when the model named it (one with fallbacks does).
    var answeredBy: String?

    /// Everything the model wrote, as people read it.
    var text: String { messages.filter { $0.role == .assistant }.map(\.content.plainText).joined() }

    mutating func add(_ usage: TokenUsage) {
        self.usage = TokenUsage(
            inputTokens: (self.usage?.inputTokens ?? 0) + usage.inputTokens,
            outputTokens: (self.usage?.outputTokens ?? 0) + usage.outputTokens
        )
    }
}

/// One agent turn (strands-agents' event loop, in Swift): stream the model; when it asks for
/// tools, check their input against their schemas, run them concurrently (each with its own
/// timeout), hand the results back and call the model again; stop when the model ends its
/// turn or after `maxCycles`, and then say so.
struct AgentLoop: Sendable {
    let model: any ModelProvider
    let tools: [String: any Tool]
    let maxCycles: Int
    let toolTimeout: Duration
    let logger: Logger

    func run(_ request: ModelRequest, into transcript: inout AgentTranscript, send: (ChatEvent) async -> Void) async throws {
        var request = request
        request.tools = tools.values.map(\.spec).sorted { $0.name < $1.name }
        for cycle in 1...maxCycles {
            var assembler = ReplyAssembler()
            do {
                try await GenAISpans.chat(model: model.modelID) { span in
                    for try await event in model.stream(request) {
                        switch event {
                        case .textDelta(let delta):
                            assembler.append(text: delta)
                            await send(.delta(text: delta))
                        case .toolUseStart(let id, let name):
                            assembler.startToolUse(id: id, name: name)
                        case .toolUseInputDelta(let id, let fragment):
                            assembler.appendToolInput(id: id, fragment: fragment)
                        case .toolUseEnd(let id):
                            if let call = try assembler.endToolUse(id: id) {
                                await send(.toolCall(id: call.id, name: call.name, input: call.input))
                            }
                        case .usage(let usage):
                            GenAISpans.record(usage, on: span)
                            transcript.add(usage)
                            await send(.usage(transcript.usage!))
                        case .stop(let reason):
                            span.attributes["gen_ai.response.finish_reasons"] = [reason.rawValue]
                        case .answeredBy(let name):
                            transcript.answeredBy = name
                            span.attributes["gen_ai.response.model"] = name
                        }
                    }
                    try Task.checkCancellation()
                }
            } catch {
                // What the model wrote before it stopped or failed is kept; unfinished tool
                // calls are dropped so that the history stays valid for the next turn.
                let written = assembler.blocks.filter { if case .text = $0 { true } else { false } }
                if !written.isEmpty { transcript.messages.append(ChatMessage(role: .assistant, content: written)) }
                throw error
            }
            let calls = assembler.toolCalls
            if !assembler.blocks.isEmpty { transcript.messages.append(ChatMessage(role: .assistant, content: assembler.blocks)) }
            guard !calls.isEmpty else { return }

            let outputs: [ToolOutput] =
                cycle == maxCycles
                ? calls.map { _ in .failure("Not run: the tool round limit was reached.") }
                : await runTools(calls)
            for (call, output) in zip(calls, outputs) {
                await send(.toolResult(id: call.id, ok: !output.isError, summary: Self.summary(of: output.summary)))
            }
            let results = zip(calls, outputs).map { call, output in
                ContentBlock.toolResult(toolUseID: call.id, isError: output.isError, content: output.content)
            }
            transcript.messages.append(ChatMessage(role: .user, content: results))
            request.messages += transcript.messages.suffix(2)
            if cycle == maxCycles {
                let note = "\n\n(I stopped after \(maxCycles) rounds of tool calls without finishing. Please ask again, perhaps more specifically.)"
                transcript.messages.append(ChatMessage(role: .assistant, content: [.text(note)]))
                await send(.delta(text: note))
            }
        }
    }

    /// Runs the calls concurrently; every call gets an output, in the order of the calls.
    private func runTools(_ calls: [(id: String, name: String, input: JSONValue)]) async -> [ToolOutput] {
        let outputs = await withTaskGroup(of: (Int, ToolOutput).self) { group in
            for (index, call) in calls.enumerated() {
                group.addTask {
                    let output = await GenAISpans.executeTool(name: call.name, callID: call.id) { span in
                        let output = await runTool(name: call.name, input: call.input)
                        if output.isError { span.attributes["error.type"] = "tool_error" }
                        return output
                    }
                    return (index, output)
                }
            }
            var outputs = [ToolOutput?](repeating: nil, count: calls.count)
            for await (index, output) in group { outputs[index] = output }
            return outputs
        }
        return outputs.map { $0 ?? .failure("The tool did not run.") }
    }

    private func runTool(name: String, input: JSONValue) async -> ToolOutput {
        guard let tool = tools[name] else {
            return .failure("There is no tool named \(name). Available tools: \(tools.keys.sorted().joined(separator: ", ")).")
        }
        let problems = JSONSchemaValidator.problems(in: input, against: tool.spec.inputSchema)
        guard problems.isEmpty else {
            return .failure("Invalid input for \(name): \(problems.joined(separator: "; ")). Fix the input and call the tool again.")
        }
        let timeout = toolTimeout
        do {
            return Self.bounded(try await withThrowingTaskGroup(of: ToolOutput?.self) { group in
                group.addTask { try await tool.call(input) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first ?? .failure("\(name) did not answer within \(Int(timeout.seconds)) seconds. Tell the user to try again later.")
            })
        } catch is CancellationError {
            return .failure("\(name) was cancelled.")
        } catch {
            logger.warning("Tool failed", metadata: ["tool": "\(name)", "error": "\(error)"])
            return .failure("\(name) failed: \(error)")
        }
    }

    /// The most of a tool's output kept (and shown to the model): enough for any useful answer,
    /// small enough that a message fits a DynamoDB item and a model's context.
    static let maxToolOutputBytes = 64 * 1024

    /// `output`, cut at `maxToolOutputBytes` (on a character boundary) with a note saying so.
    static func bounded(_ output: ToolOutput) -> ToolOutput {
        guard output.content.utf8.count > maxToolOutputBytes else { return output }
        var kept = ""
        var bytes = 0
        for character in output.content {
            bytes += character.utf8.count
            if bytes > maxToolOutputBytes { break }
            kept.append(character)
        }
        var bounded = output
        bounded.content = kept + "\n…(output cut at \(maxToolOutputBytes / 1024) KiB)"
        return bounded
    }

    /// A one-line summary of a tool result for people.
    static func summary(of content: String) -> String {
        let line = content.split(whereSeparator: \.isNewline).first.map(String.init) ?? content
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }
}
