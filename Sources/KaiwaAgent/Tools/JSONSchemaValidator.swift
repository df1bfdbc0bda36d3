import KaiwaCore

/// Checks tool input against the part of JSON Schema that tool specs use: `type`,
/// `properties`, `required`, `enum`, `items`, `minimum`/`maximum`, `additionalProperties: false`.
/// Returns problems as sentences the model can act on; an empty list means valid.
enum JSONSchemaValidator {
    static func problems(in value: JSONValue, against schema: JSONValue, at path: String = "input") -> [String] {
        guard case .object(let rules) = schema else { return [] }
        var problems: [String] = []
        if case .string(let type)? = rules["type"], !matches(value, type: type) {
            return ["\(path) must be \(article(type)) \(type)"]
        }
        if case .array(let allowed)? = rules["enum"], !allowed.contains(value) {
            let options = allowed.map { JSONText.encode($0) }.joined(separator: ", ")
            problems.append("\(path) must be one of \(options)")
        }
        if case .number(let number) = value {
            if case .number(let minimum)? = rules["minimum"], number < minimum { problems.append("\(path) must be at least \(format(minimum))") }
            if case .number(let maximum)? = rules["maximum"], number > maximum { problems.append("\(path) must be at most \(format(maximum))") }
        }
        if case .object(let fields) = value {
            let properties: [String: JSONValue]
            if case .object(let declared)? = rules["properties"] { properties = declared } else { properties = [:] }
            if case .array(let required)? = rules["required"] {
                for case .string(let name) in required where fields[name] == nil || fields[name] == .null {
                    problems.append("\(path).\(name) is required")
                }
            }
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                if let fieldSchema = properties[name] {
                    problems += self.problems(in: field, against: fieldSchema, at: "\(path).\(name)")
                } else if rules["additionalProperties"] == .bool(false) {
                    problems.append("\(path).\(name) is not a known parameter")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = rules["items"] {
            for (index, item) in items.enumerated() {
                problems += self.problems(in: item, against: itemSchema, at: "\(path)[\(index)]")
            }
        }
        return problems
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number):
            true
        case ("integer", .number(let number)):
            number == number.rounded()
        default:
            false
        }
    }

    private static func article(_ type: String) -> String {
        ["object", "array", "integer"].contains(type) ? "an" : "a"
    }

    private static func format(_ number: Double) -> String {
        // Schemas come from MCP servers too: a bound too large for Int64 must not trap.
        Int64(exactly: number).map(String.init) ?? String(number)
    }
}
