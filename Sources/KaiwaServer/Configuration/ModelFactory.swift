import AsyncHTTPClient
import KaiwaAWS
import KaiwaAgent
import KaiwaCore
import KaiwaModels
import Logging

/// Makes the providers of the model catalogue from their specs, and puts each model's
/// fallbacks behind it. A model that has somewhere to fall back to is tried once: retrying
/// it (with back-off) would only delay the fallback; the last one keeps `model.max.attempts`.
struct ModelFactory {
    let configuration: KaiwaConfiguration
    let environment: [String: String]
    let credentials: any AWSCredentialProvider
    let client: HTTPClient
    let logger: Logger

    func catalog(_ specs: [ModelSpec], defaultName: String) throws -> ModelCatalog {
        let specsByName = Dictionary(specs.map { ($0.name, $0) }) { first, _ in first }
        let models = try specs.map { spec in
            let names = [spec.name] + spec.fallbacks
            let provider: any ModelProvider =
                spec.fallbacks.isEmpty
                ? try self.provider(for: spec)
                : FallbackModel(
                    try names.enumerated().map { index, name in
                        let isLast = index == names.count - 1
                        return FallbackModel.Candidate(name: name, provider: try self.provider(for: specsByName[name]!, triedOnce: !isLast))
                    },
                    logger: logger
                )
            return CatalogModel(
                name: spec.name, provider: provider, providerKind: spec.provider.kind, contextWindow: spec.contextWindow,
                price: spec.price, fallbacks: spec.fallbacks, reads: spec.reads
            )
        }
        return ModelCatalog(models: models, defaultName: defaultName)
    }

    func provider(for spec: ModelSpec, triedOnce: Bool = false) throws -> any ModelProvider {
        var settings = configuration.upstreamSettings
        if triedOnce { settings.maxAttempts = 1 }
        switch spec.provider {
        case .rules:
            let book = try configuration.rulesPath.map { path throws(RuleBookError) in try RuleBook.load(path: path) } ?? .bundled
            return RulesModel(book: book)
        case .openAI(let model, let baseURL, let variable):
            let apiKey: String?
            if let variable {
                guard let value = environment[variable], !value.isEmpty else {
                    throw ConfigurationError(
                        key: "models.path", problem: "says the key of model \(spec.name) is in the environment variable \(variable), which is not set."
                    )
                }
                apiKey = value
            } else {
                apiKey = baseURL == nil ? configuration.openAIAPIKey : nil
            }
            return OpenAIProvider(
                model: model, baseURL: baseURL ?? configuration.openAIBaseURL, apiKey: apiKey, client: client,
                settings: settings, logger: logger
            )
        case .bedrock(let model, let configuredRegion):
            let region = configuredRegion ?? StoreFactory.awsRegion(environment)
            let authorization: BedrockProvider.Authorization =
                environment["AWS_BEARER_TOKEN_BEDROCK"].flatMap { $0.isEmpty ? nil : .bearer($0) } ?? .sigV4(credentials)
            return BedrockProvider(
                model: model, region: region,
                endpoint: AWSEndpoint.url(service: "bedrock runtime", hostPrefix: "bedrock-runtime", region: region, environment: environment),
                authorization: authorization, streaming: configuration.bedrockStreaming, client: client,
                settings: settings, logger: logger
            )
        }
    }
}
