/// Light Markdown for a terminal: headings, **bold**, *italic*, `code`, ~~strike~~, code
/// blocks, lists, quotes, rules and links (`text (url)`), as ANSI-styled text or as plain text
/// without the markers.
///
/// It is fed one whole line at a time (a reply streams in and is rendered per line), so the
/// only state between lines is whether a fenced code block is open. Anything it does not
/// recognise, including half-written markup such as an unclosed `**`, stays as it was.
/// Control characters in the input (escape sequences a model or a tool might emit) never
/// reach the output: only the styles the renderer adds itself do.
public struct TerminalMarkdown: Sendable {
    public enum Style: Sendable {
        /// Bold, italic, colour and dim with ANSI SGR sequences.
        case ansi
        /// The same layout without any escape sequence.
        case plain
    }

    public var style: Style
    /// How many columns a horizontal rule takes.
    public var ruleWidth: Int
    /// The open code block's fence (its character and length), if one is open.
    private var fence: (character: Character, count: Int)?

    public init(style: Style = .ansi, ruleWidth: Int = 40) {
        self.style = style
        self.ruleWidth = max(3, ruleWidth)
    }

    /// Whether the lines fed so far left a fenced code block open.
    public var isInCodeBlock: Bool { fence != nil }

    /// Renders a whole text (lines separated by `\n`); the result has as many lines.
    public static func render(_ text: String, style: Style = .ansi, ruleWidth: Int = 40) -> String {
        var renderer = TerminalMarkdown(style: style, ruleWidth: ruleWidth)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { renderer.renderLine(String($0)) }
            .joined(separator: "\n")
    }

    /// Renders one line (without its line break) and remembers whether it opened or closed a
    /// code block.
    public mutating func renderLine(_ rawLine: String) -> String {
        let line = Self.sanitize(rawLine)
        if let open = fence {
            if let closing = Self.fenceMarker(in: line), closing.character == open.character, closing.count >= open.count,
                closing.info.isEmpty
            {
                fence = nil
                return style == .ansi ? dim("╰─") : line
            }
            return style == .ansi ? dim("│ ") + color(line, code: "36", reset: "39") : line
        }
        if let opening = Self.fenceMarker(in: line), !(opening.character == "`" && opening.info.contains("`")) {
            fence = (opening.character, opening.count)
            guard style == .ansi else { return line }
            return dim(opening.info.isEmpty ? "╭─" : "╭─ " + opening.info)
        }
        return renderBlock(line)
    }

    // MARK: - Blocks

    private func renderBlock(_ line: String) -> String {
        let characters = Array(line)
        var index = 0
        while index < characters.count, characters[index] == " " { index += 1 }
        let indent = String(repeating: " ", count: index)
        let rest = Array(characters[index...])

        if index < 4, let level = Self.headingLevel(rest) {
            var text = String(rest.dropFirst(level)).trimmingSpaces()
            // A closing run of #s (`## Title ##`) is not part of the heading.
            let withoutClosing = String(text.reversed().drop(while: { $0 == "#" }).reversed())
            if withoutClosing.isEmpty || withoutClosing.last == " " { text = withoutClosing.trimmingSpaces() }
            let inner = renderInline(text)
            switch style {
            case .ansi: return level == 1 ? "\u{1B}[1;4m" + inner + "\u{1B}[22;24m" : bold(inner)
            case .plain: return inner
            }
        }
        if index < 4, Self.isRule(rest) {
            return dim(String(repeating: "─", count: ruleWidth))
        }
        if index < 4, rest.first == ">" {
            var body = rest.dropFirst()
            if body.first == " " { body = body.dropFirst() }
            let inner = renderBlock(String(body))
            return indent + dim("│ ") + inner
        }
        if rest.count >= 2, "-*+".contains(rest[0]), rest[1] == " " {
            var body = String(rest.dropFirst(2))
            var marker = "•"
            if body.hasPrefix("[ ] ") {
                marker = "☐"
                body.removeFirst(4)
            } else if body.hasPrefix("[x] ") || body.hasPrefix("[X] ") {
                marker = "☑"
                body.removeFirst(4)
            }
            return indent + color(marker, code: "33", reset: "39") + " " + renderInline(body)
        }
        if let (number, body) = Self.orderedItem(rest) {
            return indent + color(number, code: "33", reset: "39") + " " + renderInline(body)
        }
        if Self.isTableSeparator(line) {
            return dim(line)
        }
        return indent + renderInline(String(rest))
    }

    private static func headingLevel(_ characters: [Character]) -> Int? {
        var level = 0
        while level < characters.count, characters[level] == "#" { level += 1 }
        guard (1...6).contains(level) else { return nil }
        return level == characters.count || characters[level] == " " || characters[level] == "\t" ? level : nil
    }

    private static func isRule(_ characters: [Character]) -> Bool {
        let marks = characters.filter { $0 != " " && $0 != "\t" }
        guard marks.count >= 3, let first = marks.first, "-*_".contains(first) else { return false }
        return marks.allSatisfy { $0 == first }
    }

    /// `12. text` or `3) text`: the number with its punctuation, and the text.
    private static func orderedItem(_ characters: [Character]) -> (String, String)? {
        var digits = 0
        while digits < characters.count, characters[digits].isASCII, characters[digits].isNumber { digits += 1 }
        guard (1...9).contains(digits), digits + 1 < characters.count, characters[digits] == "." || characters[digits] == ")",
            characters[digits + 1] == " "
        else { return nil }
        return (String(characters[...digits]), String(characters[(digits + 2)...]))
    }

    private static func isTableSeparator(_ line: String) -> Bool {
        let trimmed = line.trimmingSpaces()
        guard trimmed.contains("|"), trimmed.contains("-") else { return false }
        return trimmed.allSatisfy { "|-: \t".contains($0) }
    }

    /// A code fence (three or more backticks or tildes, indented less than four spaces).
    private static func fenceMarker(in line: String) -> (character: Character, count: Int, info: String)? {
        let characters = Array(line)
        var index = 0
        while index < characters.count, characters[index] == " " { index += 1 }
        guard index < 4, index < characters.count, characters[index] == "`" || characters[index] == "~" else { return nil }
        let character = characters[index]
        var count = 0
        while index + count < characters.count, characters[index + count] == character { count += 1 }
        guard count >= 3 else { return nil }
        return (character, count, String(characters[(index + count)...]).trimmingSpaces())
    }

    // MARK: - Inline

    /// Emphasis, code spans, strikethrough, links and backslash escapes; anything unmatched
    /// is kept as written.
    public func renderInline(_ text: String) -> String {
        renderInline(Array(text), bolded: false)
    }

    private func renderInline(_ characters: [Character], bolded: Bool) -> String {
        var output = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let previous: Character? = index > 0 ? characters[index - 1] : nil

            if character == "\\", index + 1 < characters.count, characters[index + 1].isASCII,
                characters[index + 1].isPunctuation || characters[index + 1].isSymbol
            {
                output.append(characters[index + 1])
                index += 2
                continue
            }
            if character == "`" {
                let run = Self.runLength(of: "`", in: characters, from: index)
                if let close = Self.findRun(of: "`", length: run, in: characters, from: index + run) {
                    var code = String(characters[(index + run)..<close])
                    if code.count >= 2, code.first == " ", code.last == " ", code.contains(where: { $0 != " " }) {
                        code = String(code.dropFirst().dropLast())
                    }
                    output += color(code, code: "36", reset: "39")
                    index = close + run
                    continue
                }
                output += String(repeating: "`", count: run)
                index += run
                continue
            }
            if (character == "*" || character == "_"), index + 1 < characters.count, characters[index + 1] == character,
                character == "*" || !Self.isWordCharacter(previous)
            {
                let marker: [Character] = [character, character]
                if let close = Self.findClosing(marker, in: characters, from: index + 2) {
                    let inner = renderInline(Array(characters[(index + 2)..<close]), bolded: true)
                    output += bolded ? inner : bold(inner)
                    index = close + 2
                    continue
                }
                // An unclosed `**` is text, not two italic markers.
                output += String(marker)
                index += 2
                continue
            }
            if character == "~", index + 1 < characters.count, characters[index + 1] == "~",
                let close = Self.findClosing(["~", "~"], in: characters, from: index + 2)
            {
                let inner = renderInline(Array(characters[(index + 2)..<close]), bolded: bolded)
                output += style == .ansi ? "\u{1B}[9m" + inner + "\u{1B}[29m" : inner
                index = close + 2
                continue
            }
            if character == "*" || character == "_", character == "*" || !Self.isWordCharacter(previous),
                let close = Self.findClosing([character], in: characters, from: index + 1),
                character == "*" || !Self.isWordCharacter(close + 1 < characters.count ? characters[close + 1] : nil)
            {
                let inner = renderInline(Array(characters[(index + 1)..<close]), bolded: bolded)
                output += style == .ansi ? "\u{1B}[3m" + inner + "\u{1B}[23m" : inner
                index = close + 1
                continue
            }
            if character == "[" || (character == "!" && index + 1 < characters.count && characters[index + 1] == "["),
                let link = Self.link(in: characters, from: character == "!" ? index + 1 : index)
            {
                let label = renderInline(Array(characters[link.label]), bolded: bolded)
                let url = String(characters[link.url])
                if character == "!" {
                    output += dim("[image: ", bolded: bolded) + label + dim("] ", bolded: bolded) + underline(url)
                } else if String(characters[link.label]) == url {
                    output += underline(url)
                } else {
                    output += underline(label) + dim(" (" + url + ")", bolded: bolded)
                }
                index = link.end
                continue
            }
            if character == "<", let end = characters[(index + 1)...].firstIndex(of: ">") {
                let inside = String(characters[(index + 1)..<end])
                if (inside.hasPrefix("http://") || inside.hasPrefix("https://") || inside.hasPrefix("mailto:")),
                    !inside.contains(" ")
                {
                    output += underline(inside)
                    index = end + 1
                    continue
                }
            }
            output.append(character)
            index += 1
        }
        return output
    }

    private static func isWordCharacter(_ character: Character?) -> Bool {
        guard let character else { return false }
        return character.isLetter || character.isNumber
    }

    private static func runLength(of character: Character, in characters: [Character], from start: Int) -> Int {
        var end = start
        while end < characters.count, characters[end] == character { end += 1 }
        return end - start
    }

    /// The start of the next run of exactly `length` `character`s.
    private static func findRun(of character: Character, length: Int, in characters: [Character], from start: Int) -> Int? {
        var index = start
        while index < characters.count {
            if characters[index] == character {
                let run = runLength(of: character, in: characters, from: index)
                if run == length { return index }
                index += run
            } else {
                index += 1
            }
        }
        return nil
    }

    /// Where `marker` closes emphasis opened just before `start`: the text between is not
    /// empty, starts and ends with something other than a space.
    private static func findClosing(_ marker: [Character], in characters: [Character], from start: Int) -> Int? {
        guard start < characters.count, characters[start] != " " else { return nil }
        var index = start + 1
        while index + marker.count <= characters.count {
            if characters[index] == "`" {
                // Markers inside a code span do not count.
                let run = runLength(of: "`", in: characters, from: index)
                if let close = findRun(of: "`", length: run, in: characters, from: index + run) {
                    index = close + run
                    continue
                }
            }
            if Array(characters[index..<(index + marker.count)]) == marker, characters[index - 1] != " ",
                characters[index - 1] != "\\"
            {
                let after = index + marker.count
                // `**` is not the closing of `*`.
                if marker.count == 1, after < characters.count, characters[after] == marker[0] {
                    index = after + 1
                    continue
                }
                return index
            }
            index += 1
        }
        return nil
    }

    /// `[label](url)` starting at `start` (the `[`): the label's and the url's ranges and the
    /// index after the `)`. Nested brackets in the label are allowed; a title is dropped.
    private static func link(in characters: [Character], from start: Int) -> (label: Range<Int>, url: Range<Int>, end: Int)? {
        var depth = 0
        var index = start
        var labelEnd: Int?
        while index < characters.count {
            switch characters[index] {
            case "\\": index += 1
            case "[": depth += 1
            case "]":
                depth -= 1
                if depth == 0 { labelEnd = index }
            default: break
            }
            if labelEnd != nil { break }
            index += 1
        }
        guard let labelEnd, labelEnd + 1 < characters.count, characters[labelEnd + 1] == "(" else { return nil }
        let urlStart = labelEnd + 2
        guard let close = characters[urlStart...].firstIndex(of: ")") else { return nil }
        var urlEnd = close
        if let space = characters[urlStart..<close].firstIndex(of: " ") { urlEnd = space }
        guard urlEnd > urlStart else { return nil }
        return (start + 1..<labelEnd, urlStart..<urlEnd, close + 1)
    }

    // MARK: - Styles

    private func bold(_ text: String) -> String {
        style == .ansi ? "\u{1B}[1m" + text + "\u{1B}[22m" : text
    }

    /// Dim text; SGR 22 ends bold too, so bold is turned back on inside bold text.
    private func dim(_ text: String, bolded: Bool = false) -> String {
        style == .ansi ? "\u{1B}[2m" + text + "\u{1B}[22m" + (bolded ? "\u{1B}[1m" : "") : text
    }

    private func underline(_ text: String) -> String {
        style == .ansi ? "\u{1B}[4m" + text + "\u{1B}[24m" : text
    }

    private func color(_ text: String, code: String, reset: String) -> String {
        style == .ansi ? "\u{1B}[\(code)m" + text + "\u{1B}[\(reset)m" : text
    }

    /// The line with control characters (ESC, C1 controls, carriage returns, …) removed and
    /// tabs turned into spaces, so that nothing in it can move the cursor or restyle the
    /// terminal.
    public static func sanitize(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09: result += "    "
            case 0x0A: result.unicodeScalars.append(scalar)
            case 0x00...0x1F, 0x7F...0x9F: continue
            // Bidirectional overrides and isolates could make text read differently than it is.
            case 0x202A...0x202E, 0x2066...0x2069: continue
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        let characters = Array(self)
        var start = 0
        var end = characters.count
        while start < end, characters[start] == " " || characters[start] == "\t" { start += 1 }
        while end > start, characters[end - 1] == " " || characters[end - 1] == "\t" { end -= 1 }
        return String(characters[start..<end])
    }
}
