import Foundation

/// One DynamoDB attribute value as the JSON protocol spells it: `{"S": "text"}`, `{"N": "42"}`,
/// `{"BOOL": true}`, `{"NULL": true}`, `{"L": […]}`, `{"M": {…}}`. Sets and binary are not
/// needed by Kaiwa and are refused when read.
public indirect enum DynamoDBValue: Sendable, Hashable {
    case string(String)
    /// Numbers travel as decimal strings.
    case number(String)
    case bool(Bool)
    case null
    case list([DynamoDBValue])
    case map([String: DynamoDBValue])

    public static func int(_ value: some BinaryInteger) -> DynamoDBValue { .number(String(value)) }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var intValue: Int64? {
        if case .number(let value) = self { Int64(value) } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }
}

/// An item: attribute name to value.
public typealias DynamoDBItem = [String: DynamoDBValue]

extension DynamoDBValue: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .string(let value): try container.encode(value, forKey: Key("S"))
        case .number(let value): try container.encode(value, forKey: Key("N"))
        case .bool(let value): try container.encode(value, forKey: Key("BOOL"))
        case .null: try container.encode(true, forKey: Key("NULL"))
        case .list(let values): try container.encode(values, forKey: Key("L"))
        case .map(let values): try container.encode(values, forKey: Key("M"))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "An attribute value has exactly one type key."))
        }
        switch key.stringValue {
        case "S": self = .string(try container.decode(String.self, forKey: key))
        case "N": self = .number(try container.decode(String.self, forKey: key))
        case "BOOL": self = .bool(try container.decode(Bool.self, forKey: key))
        case "NULL": self = .null
        case "L": self = .list(try container.decode([DynamoDBValue].self, forKey: key))
        case "M": self = .map(try container.decode([String: DynamoDBValue].self, forKey: key))
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "Attribute type \(key.stringValue) is not used by Kaiwa.")
            )
        }
    }
}
