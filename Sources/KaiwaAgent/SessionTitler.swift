import Foundation
import KaiwaCore
import KaiwaStore
import Logging

/// After a conversation's first reply, asks the model that wrote it for a title of a few
/// words in the conversation's language, and stores it in place of the start of the first
/// message (the title a session gets when it is made). Nothing changes when the model is the
/// offline `rules` one, fails, takes longer than `timeout`, answers with nothing usable, or
/// the user renamed the conversation meanwhile.
struct SessionTitler: Sendable {
    let store: any ChatStore
    var timeout: Duration = .seconds(20)
    let logger: Logger

    static let instruction = """
        Write a title for the conversation below: at most six words, in the language the user wrote in. \
        Answer with the title alone, without quotes and without a full stop.
        """

    func retitle(_ session: SessionRecord, question: String, answer: String, model: CatalogModel) async {
        guard model.providerKind != "rules" else { return }
        let excerpt = "User: \(question.prefix(2000))\n\nAssistant: \(answer.prefix(2000))"
        let request = ModelRequest(system: Self.instruction, messages: [ChatMessage(role: .user, content: [.text(excerpt)])], maxTokens: 40)
        let written: String?
        do {
            written = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    var text = ""
                    for try await event in model.provider.stream(request) {
                        if case .textDelta(let delta) = event { text += delta }
                        if text.count > 400 { break }
                    }
                    return text
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        } catch {
            logger.info("No title from the model", metadata: ["session": "\(session.id)", "error": "\(error)"])
            return
        }
        guard let title = written.flatMap(Self.clean) else { return }
        do {
            // Only the title the session was made with is replaced, never one a person gave.
            guard try await store.session(session.id)?.title == session.title else { return }
            _ = try await store.renameSession(session.id, owner: session.owner, title: title)
        } catch {
            logger.warning("Could not store a title", metadata: ["session": "\(session.id)", "error": "\(error)"])
        }
    }

    /// The model's answer as a title: its first line, without surrounding quotes or a final full
    /// stop, at most 60 characters; `nil` when nothing is left.
    static func clean(_ raw: String) -> String? {
        let wrapping = CharacterSet(charactersIn: "\"'“”‘’「」『』`*#.。").union(.whitespaces)
        var title = raw.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        title = title.trimmingCharacters(in: wrapping)
        if title.lowercased().hasPrefix("title:") { title = String(title.dropFirst(6)).trimmingCharacters(in: wrapping) }
        title = String(title.unicodeScalars.filter { $0.properties.generalCategory != .control })
        if title.count > 60 { title = String(title.prefix(59)) + "…" }
        return title.isEmpty ? nil : title
    }
}
