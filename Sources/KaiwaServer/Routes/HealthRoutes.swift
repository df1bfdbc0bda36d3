import Foundation
import Hummingbird
import KaiwaAgent
import KaiwaCore
import KaiwaStore
import Logging

/// `GET /health` for load balancers and people, `GET /ping` for AgentCore Runtime.
struct HealthRoutes<Context: RequestContext> {
    let store: any ChatStore
    let models: ModelCatalog
    let activity: ActivityTracker

    struct Model: Encodable {
        var name: String
        var provider: String
        var fallbacks: [String]
    }

    struct Health: Encodable {
        var status: String
        var version: String
        /// The default model.
        var model: String
        var models: [Model]
        var store: String
        var error: String?
        var message: String?
    }

    /// AgentCore's fields (`status`, `time_of_last_update`) plus seed 003's.
    struct Ping: Encodable {
        var status: String
        var timeOfLastUpdate: Int
        var timestamp: Date
        var service: String
        var version: String
    }

    func add(to router: Router<Context>) {
        router.get("/health") { _, context in
            var health = Health(
                status: "ok", version: KaiwaVersion.current, model: models.defaultName,
                models: models.models.map { Model(name: $0.name, provider: $0.providerKind, fallbacks: $0.fallbacks) }, store: store.kind
            )
            do {
                try await store.checkHealth()
                return try JSONResponse.make(health)
            } catch {
                context.logger.error("Store health check failed", metadata: ["error": "\(error)"])
                health.status = "unavailable"
                health.error = KaiwaError.Code.serviceUnavailable.rawValue
                health.message = "The \(store.kind) store cannot be used right now."
                return try JSONResponse.make(health, status: .serviceUnavailable)
            }
        }
        router.get("/ping") { _, _ in
            let status = activity.status
            return try JSONResponse.make(
                Ping(
                    status: status.isBusy ? "HealthyBusy" : "Healthy",
                    timeOfLastUpdate: Int(status.lastChange.timeIntervalSince1970),
                    timestamp: Date(),
                    service: "kaiwa",
                    version: KaiwaVersion.current
                )
            )
        }
    }
}
