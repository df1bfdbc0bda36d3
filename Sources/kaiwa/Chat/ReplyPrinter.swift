import Foundation
import Synchronization

/// Whether the reply being written should still be shown: Ctrl-C mutes it at once, while
/// the stream is kept open until the server confirms the stop.
final class ReplyControl: Sendable {
    private let muted = Mutex(false)

    var isMuted: Bool { muted.withLock { $0 } }

    func mute() { muted.withLock { $0 = true } }
}

/// Writes one reply to the terminal as it streams.
///
/// On a terminal, each piece is written as it arrives; when a line is complete it is
/// replaced by its Markdown rendering (the raw line is erased: up as many rows as it
/// wrapped, then to the end of the screen). Elsewhere (a pipe, a file) the text is written
/// as it comes, without any escape sequence.
final class ReplyPrinter {
    let styled: Bool
    let control: ReplyControl
    private var markdown: TerminalMarkdown
    /// The unfinished line as it was written raw.
    private var pending = ""
    private var endsWithNewline = true
    /// Tool names by call id, to name a result's tool.
    private var toolNames: [String: String] = [:]

    init(styled: Bool, control: ReplyControl) {
        self.styled = styled
        self.control = control
        self.markdown = TerminalMarkdown(style: styled ? .ansi : .plain, ruleWidth: min(60, max(10, ChatTerminal.width - 1)))
    }

    func delta(_ text: String) {
        guard !control.isMuted, !text.isEmpty else { return }
        let clean = TerminalMarkdown.sanitize(text)
        guard styled else {
            output(clean)
            return
        }
        let parts = clean.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if index < parts.count - 1 {
                eraseRawLine()
                output(markdown.renderLine(pending + part) + "\n")
                pending = ""
            } else if !part.isEmpty {
                output(String(part))
                pending += part
            }
        }
    }

    func toolCall(id: String, name: String, input: String) {
        toolNames[id] = TerminalMarkdown.sanitize(name)
        guard !control.isMuted else { return }
        completeLine()
        let compact = TerminalMarkdown.sanitize(input).replacingOccurrences(of: "\n", with: " ")
        let line = TerminalMarkdown.sanitize(name) + (compact.isEmpty ? "" : " " + compact)
        output(styled ? dim("⚙ " + ChatTerminal.truncate(line, toColumns: ChatTerminal.width - 3)) + "\n" : "[tool] \(line)\n")
    }

    func toolResult(id: String, ok: Bool, summary: String) {
        guard !control.isMuted else { return }
        completeLine()
        let text = (toolNames[id].map { $0 + ": " } ?? "") + (ok ? "" : "failed: ") + TerminalMarkdown.sanitize(summary).replacingOccurrences(of: "\n", with: " ")
        output(styled ? dim("  ↳ " + ChatTerminal.truncate(text, toColumns: ChatTerminal.width - 5)) + "\n" : "[tool result] \(text)\n")
    }

    /// The reply ended (`stopped`: by Ctrl-C or on the server).
    func finish(stopped: Bool) {
        if control.isMuted {
            // The raw line stays as it is (the terminal may have echoed ^C into it).
            if !endsWithNewline { output("\n") }
            pending = ""
        } else {
            completeLine()
        }
        if stopped { output(styled ? dim("[stopped]") + "\n" : "[stopped]\n") }
    }

    func fail(_ message: String) {
        if control.isMuted {
            if !endsWithNewline { output("\n") }
            pending = ""
        } else {
            completeLine()
        }
        let text = "Error: " + TerminalMarkdown.sanitize(message)
        ChatTerminal.writeError(styled ? "\u{1B}[31m" + text + "\u{1B}[39m\n" : text + "\n")
    }

    /// Ends the unfinished line: rendered on a terminal, a line break elsewhere.
    private func completeLine() {
        if styled, !pending.isEmpty {
            eraseRawLine()
            output(markdown.renderLine(pending) + "\n")
            pending = ""
        } else if !endsWithNewline {
            output("\n")
        }
    }

    private func eraseRawLine() {
        guard !pending.isEmpty else { return }
        let columns = ChatTerminal.displayWidth(pending)
        let rows = (columns - 1) / max(1, ChatTerminal.width)
        output((rows > 0 ? "\u{1B}[\(rows)A" : "") + "\r\u{1B}[J")
    }

    private func output(_ text: String) {
        guard !text.isEmpty else { return }
        ChatTerminal.write(text)
        endsWithNewline = text.hasSuffix("\n")
    }

    private func dim(_ text: String) -> String {
        "\u{1B}[2m" + text + "\u{1B}[22m"
    }
}
