/// What a tool gives back: text for the model to read, a short summary for people, and
/// whether it failed. A failure is still an answer the model reads, never an HTTP error.
public struct ToolOutput: Sendable, Hashable {
    public var content: String
    public var summary: String
    public var isError: Bool

    public init(content: String, summary: String, isError: Bool = false) {
        self.content = content
        self.summary = summary
        self.isError = isError
    }

    public static func failure(_ message: String) -> ToolOutput {
        ToolOutput(content: message, summary: message, isError: true)
    }
}

/// Something the agent can do for the model: search events, call an MCP server's tool, …
public protocol Tool: Sendable {
    /// Name, description and JSON schema of the input, as the model sees them.
    var spec: ToolSpec { get }
    /// Runs the tool with input already checked against `spec.inputSchema`. Throwing is
    /// allowed; the agent turns the error into an error result for the model.
    func call(_ input: JSONValue) async throws -> ToolOutput
}
