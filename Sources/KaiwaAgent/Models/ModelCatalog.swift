import KaiwaCore

/// A model the server offers under a name: the provider that calls it (with its fallbacks
/// already behind it) and what is known about it.
public struct CatalogModel: Sendable {
    /// The name clients and agents use, e.g. `fast`; reported as the model that answered.
    public var name: String
    /// Calls the model, trying its fallbacks when it fails before answering.
    public var provider: any ModelProvider
    /// `rules`, `openai` or `bedrock`.
    public var providerKind: String
    /// How many tokens the model reads at most; the history sent to it is kept well below.
    public var contextWindow: Int?
    public var price: ModelPrice?
    /// Names of the models tried, in order, when this one fails before answering.
    public var fallbacks: [String]
    /// The kinds of attached file the model reads itself (text files are read by every model,
    /// inline where there are no document blocks).
    public var reads: Set<FileInput>

    /// A kind of attached file a model may or may not read.
    public enum FileInput: String, Sendable, CaseIterable {
        case image, pdf
    }

    public init(
        name: String, provider: any ModelProvider, providerKind: String, contextWindow: Int? = nil, price: ModelPrice? = nil,
        fallbacks: [String] = [], reads: Set<FileInput>? = nil
    ) {
        self.reads = reads ?? (providerKind == "bedrock" ? [.image, .pdf] : [])
        self.name = name
        self.provider = provider
        self.providerKind = providerKind
        self.contextWindow = contextWindow
        self.price = price
        self.fallbacks = fallbacks
    }
}

/// Every model the server offers, and which one is used when none is named.
public struct ModelCatalog: Sendable {
    /// In the order they were configured.
    public let models: [CatalogModel]
    public let defaultName: String
    private let byName: [String: Int]

    public init(models: [CatalogModel], defaultName: String) {
        precondition(models.contains { $0.name == defaultName }, "the default model must be in the catalogue")
        self.models = models
        self.defaultName = defaultName
        self.byName = Dictionary(models.enumerated().map { ($1.name, $0) }) { first, _ in first }
    }

    /// A catalogue of one model, named by its provider's id (`rules`, `openai:llama3.2`).
    public static func single(_ provider: any ModelProvider, kind: String? = nil) -> ModelCatalog {
        let kind = kind ?? String(provider.modelID.prefix { $0 != ":" })
        return ModelCatalog(models: [CatalogModel(name: provider.modelID, provider: provider, providerKind: kind)], defaultName: provider.modelID)
    }

    public var names: [String] { models.map(\.name) }

    public var defaultModel: CatalogModel { self[defaultName]! }

    public subscript(name: String) -> CatalogModel? {
        byName[name].map { models[$0] }
    }

    /// The model named `name`, or `model_not_found` listing the known ones.
    public func model(named name: String) throws(KaiwaError) -> CatalogModel {
        guard let model = self[name] else { throw KaiwaError.modelNotFound(name, known: names) }
        return model
    }

    /// The names `profile` may use: its list (with its own model), or every model when it has none.
    public func allowedNames(for profile: AgentProfile) -> [String] {
        guard let listed = profile.models else { return names }
        return listed.contains(defaultModel(for: profile).name) ? listed : [defaultModel(for: profile).name] + listed
    }

    /// The model `profile` uses unless the request names another: its own, else the
    /// catalogue's default when the agent may use it, else the first it lists.
    public func defaultModel(for profile: AgentProfile) -> CatalogModel {
        if let own = profile.model.flatMap({ self[$0] }) { return own }
        if let listed = profile.models, !listed.contains(defaultName), let first = listed.lazy.compactMap({ self[$0] }).first {
            return first
        }
        return defaultModel
    }

    /// The model a request for `profile` gets: `requested` when it is known and allowed for
    /// the agent, the agent's default when `nil`.
    public func model(_ requested: String?, for profile: AgentProfile) throws(KaiwaError) -> CatalogModel {
        guard let requested else { return defaultModel(for: profile) }
        let model = try model(named: requested)
        guard allowedNames(for: profile).contains(requested) else {
            throw KaiwaError(
                .badRequest,
                "Agent \"\(profile.name)\" does not use model \"\(requested)\". It uses: \(allowedNames(for: profile).joined(separator: ", ")).",
                parameter: "model"
            )
        }
        return model
    }
}
