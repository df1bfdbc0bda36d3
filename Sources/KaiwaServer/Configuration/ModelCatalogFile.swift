import Foundation
import KaiwaAgent
import KaiwaCore
import KaiwaModels

/// One model of the catalogue, as configured: how to reach it and what it costs.
struct ModelSpec: Sendable, Equatable {
    enum Provider: Sendable, Equatable {
        case rules
        /// `baseURL` and `apiKeyVariable` fall back to `openai.base.url` and `openai.api.key` when `nil`.
        case openAI(model: String, baseURL: String?, apiKeyVariable: String?)
        /// `region` falls back to the AWS region of the environment when `nil`.
        case bedrock(model: String, region: String?)

        var kind: String {
            switch self {
            case .rules: "rules"
            case .openAI: "openai"
            case .bedrock: "bedrock"
            }
        }
    }

    var name: String
    var provider: Provider
    var contextWindow: Int?
    var price: ModelPrice?
    var fallbacks: [String] = []
    /// The kinds of attached file it reads; `nil`: its provider's default (Bedrock images and PDFs, others neither).
    var reads: Set<CatalogModel.FileInput>?

    /// The spec of a model written the short way (`model` setting, an agent's `model`
    /// without a catalogue file): named by its spelling.
    init?(spelling: String) {
        guard let choice = ModelChoice(parsing: spelling) else { return nil }
        name = spelling
        switch choice {
        case .rules: provider = .rules
        case .openAI(let model): provider = .openAI(model: model, baseURL: nil, apiKeyVariable: nil)
        case .bedrock(let model): provider = .bedrock(model: model, region: nil)
        }
    }

    init(
        name: String, provider: Provider, contextWindow: Int? = nil, price: ModelPrice? = nil, fallbacks: [String] = [],
        reads: Set<CatalogModel.FileInput>? = nil
    ) {
        self.reads = reads
        self.name = name
        self.provider = provider
        self.contextWindow = contextWindow
        self.price = price
        self.fallbacks = fallbacks
    }

    /// Whether `name` can name a catalogue model: 1 to 128 letters, digits and `.-_:/@`, not
    /// starting with `agent:` (OpenAI-compatible clients name agents that way).
    static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && !name.hasPrefix("agent:")
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_:/@".unicodeScalars.contains($0)) }
    }
}

/// The model catalogue file (`models.path`):
/// `{"default": "fast", "models": [{"name", "provider", "model", "base_url", "api_key_env", "region", "context_window", "price": {"input_per_million", "output_per_million"}, "fallbacks", "reads": ["image", "pdf"]}]}`.
enum ModelCatalogFile {
    private struct File: Decodable {
        var `default`: String?
        var models: [Entry]
    }

    private struct Entry: Decodable {
        struct Price: Decodable {
            var input_per_million: Double
            var output_per_million: Double
        }
        var name: String
        var provider: String
        var model: String?
        var base_url: String?
        var api_key_env: String?
        var region: String?
        var context_window: Int?
        var price: Price?
        var fallbacks: [String]?
        var reads: [String]?
    }

    private static let entryKeys: Set<String> = [
        "name", "provider", "model", "base_url", "api_key_env", "region", "context_window", "price", "fallbacks", "reads",
    ]

    static func load(path: String) throws -> (models: [ModelSpec], defaultName: String) {
        guard let data = FileManager.default.contents(atPath: path) else { throw problem(path, "it cannot be read") }
        return try parse(data, path: path)
    }

    static func parse(_ data: Data, path: String) throws -> (models: [ModelSpec], defaultName: String) {
        let file: File
        let raw: JSONValue
        do {
            file = try JSONDecoder().decode(File.self, from: data)
            raw = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw problem(path, "it is not a valid model catalogue (\(error))")
        }
        guard !file.models.isEmpty else { throw problem(path, "it lists no models") }
        if case .object(let top) = raw, case .array(let entries)? = top["models"] {
            for case .object(let entry) in entries {
                if let unknown = entry.keys.sorted().first(where: { !entryKeys.contains($0) }) {
                    throw problem(path, "a model has the unknown field \"\(unknown)\" (known: \(entryKeys.sorted().joined(separator: ", ")))")
                }
            }
        }
        var seen = Set<String>()
        let models = try file.models.map { entry throws -> ModelSpec in
            guard ModelSpec.isValidName(entry.name) else {
                throw problem(path, "model name \"\(entry.name)\" must be 1 to 128 letters, digits or .-_:/@ and not start with agent:")
            }
            guard seen.insert(entry.name).inserted else { throw problem(path, "model \(entry.name) appears twice") }
            return ModelSpec(
                name: entry.name, provider: try provider(of: entry, path: path), contextWindow: try contextWindow(of: entry, path: path),
                price: try price(of: entry, path: path), fallbacks: entry.fallbacks ?? [], reads: try reads(of: entry, path: path)
            )
        }
        for model in models {
            for fallback in model.fallbacks {
                guard seen.contains(fallback) else { throw problem(path, "model \(model.name) falls back to \(fallback), which is not in the catalogue") }
                guard fallback != model.name else { throw problem(path, "model \(model.name) falls back to itself") }
            }
            guard Set(model.fallbacks).count == model.fallbacks.count else { throw problem(path, "model \(model.name) lists a fallback twice") }
        }
        let defaultName = file.default ?? models[0].name
        guard seen.contains(defaultName) else { throw problem(path, "the default model \(defaultName) is not in the catalogue") }
        return (models, defaultName)
    }

    private static func provider(of entry: Entry, path: String) throws -> ModelSpec.Provider {
        switch entry.provider {
        case "rules":
            return .rules
        case "openai":
            guard let model = entry.model, !model.isEmpty else { throw problem(path, "model \(entry.name) needs \"model\", the name its server knows") }
            if let url = entry.base_url, URL(string: url)?.scheme.map({ $0 == "http" || $0 == "https" }) != true || URL(string: url)?.host == nil {
                throw problem(path, "model \(entry.name) has base_url \"\(url)\", not an http(s) URL")
            }
            if let variable = entry.api_key_env, variable.isEmpty || !variable.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                throw problem(path, "model \(entry.name) has api_key_env \"\(variable)\", which is not an environment variable name")
            }
            return .openAI(model: model, baseURL: entry.base_url, apiKeyVariable: entry.api_key_env)
        case "bedrock":
            if let region = entry.region, region.isEmpty || !region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) {
                throw problem(path, "model \(entry.name) has region \"\(region)\", which is not an AWS region")
            }
            return .bedrock(model: entry.model ?? BedrockProvider.defaultModelID, region: entry.region)
        default:
            throw problem(path, "model \(entry.name) has provider \"\(entry.provider)\"; use rules, openai or bedrock")
        }
    }

    private static func contextWindow(of entry: Entry, path: String) throws -> Int? {
        guard let window = entry.context_window else { return nil }
        guard window > 0 else { throw problem(path, "model \(entry.name) has a context_window of \(window); it must be a positive number of tokens") }
        return window
    }

    /// `reads`: the kinds of attached file the model takes itself (`image`, `pdf`); absent: its provider's default.
    private static func reads(of entry: Entry, path: String) throws -> Set<CatalogModel.FileInput>? {
        try entry.reads.map { names in
            Set(try names.map { name in
                guard let input = CatalogModel.FileInput(rawValue: name) else {
                    throw problem(path, "model \(entry.name) reads \"\(name)\"; the kinds are image and pdf")
                }
                return input
            })
        }
    }

    private static func price(of entry: Entry, path: String) throws -> ModelPrice? {
        guard let price = entry.price else { return nil }
        for value in [price.input_per_million, price.output_per_million] where !value.isFinite || value < 0 || value > 1_000_000 {
            throw problem(path, "model \(entry.name) has a price of \(value); prices are US dollars per million tokens, 0 or more")
        }
        return ModelPrice(inputPerMillion: price.input_per_million, outputPerMillion: price.output_per_million)
    }

    private static func problem(_ path: String, _ text: String) -> ConfigurationError {
        ConfigurationError(key: "models.path", problem: "names \(path), which cannot be used: \(text)")
    }
}
