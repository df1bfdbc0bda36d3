import KaiwaAgent
import KaiwaAuth
import KaiwaModels

/// Every setting of a Kaiwa server, with defaults that work on a laptop.
///
/// Each setting has a configuration key. The same key is read, in this order, from a
/// command-line flag, from the environment as `KAIWA_` + the key in upper case with `.`
/// turned into `_` (`sqlite.path` → `KAIWA_SQLITE_PATH`), and from the optional JSON config
/// file (`{"sqlite": {"path": "…"}}`). README lists them all.
public struct KaiwaConfiguration: Sendable {
    /// `host`: the address to listen on.
    public var host = "127.0.0.1"
    /// `port`: the TCP port to listen on.
    public var port = 8080
    /// `store`: `sqlite` (default), `dynamodb` (many instances sharing one history) or `memory`
    /// (nothing survives a restart).
    public var store = StoreKind.sqlite
    /// `sqlite.path`: the SQLite database file.
    public var sqlitePath = "./kaiwa.sqlite"
    /// `dynamodb.table.prefix`: put before the DynamoDB table names (`kaiwa-ChatHistory`, …).
    public var dynamoDBTablePrefix = "kaiwa-"
    /// `model`: `rules` (the offline keyword bot), `openai:<model>` (any OpenAI-compatible
    /// server) or `bedrock:<modelId>` (Amazon Bedrock; `bedrock` alone is seed 001's Nova Micro).
    public var model = "rules"
    /// `models.path`: a model catalogue file (JSON) naming several models with their
    /// providers, prices and fallbacks; when set, it replaces `model`.
    public var modelsPath: String?
    /// `openai.base.url`: the OpenAI-compatible API root (Ollama: `http://localhost:11434/v1`).
    public var openAIBaseURL = "https://api.openai.com/v1"
    /// `openai.api.key`: the bearer key for that server, if it needs one. Never logged.
    public var openAIAPIKey: String?
    /// `model.connect.timeout`: seconds to open a connection to the model server.
    public var modelConnectTimeoutSeconds = 5
    /// `model.first.token.timeout`: seconds from the request to the first piece of the answer.
    public var modelFirstTokenTimeoutSeconds = 60
    /// `model.idle.timeout`: seconds the answer may stall between two pieces.
    public var modelIdleTimeoutSeconds = 30
    /// `model.max.attempts`: tries per model call (retries on throttling and 5xx, never after the answer began).
    public var modelMaxAttempts = 3
    /// `bedrock.stream`: `true` for ConverseStream, `false` for Converse.
    public var bedrockStreaming = true
    /// `agents.path`: a JSON file of agent profiles replacing the bundled `assistant` and `confee`.
    public var agentsPath: String?
    /// `agent.default`: the agent a conversation gets when it names none, instead of the
    /// catalogue's own default (`assistant`, or the agents file's `default`).
    public var defaultAgent: String?
    /// `titles.from.model`: a new conversation's model writes its title after the first reply.
    public var titlesFromModel = true
    /// `attachments.max.bytes`: the largest file a user may attach (default 5 MB).
    public var attachmentMaxBytes = 5 * 1024 * 1024
    /// `attachments.max.per.message`: most files on one message (default 5).
    public var attachmentsPerMessage = 5
    /// `attachments.s3.bucket`: with the DynamoDB store, the S3 bucket attached files go to
    /// (none: files cannot be attached). Its endpoint follows `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`.
    public var attachmentBucket: String?
    /// `attachments.s3.prefix`: the key prefix of attached files in that bucket.
    public var attachmentPrefix = "attachments/"
    /// `agent.max.cycles`: most model calls in one reply (each tool round is one more).
    public var agentMaxCycles = 8
    /// `tool.timeout`: seconds a tool may run.
    public var toolTimeoutSeconds = 30
    /// `context.budget.tokens`: roughly how many tokens of history the model sees.
    public var contextBudgetTokens = 16_000
    /// `connpass.api.key`: the connpass API v2 key. Never logged. When unset, the key is read
    /// from AWS Secrets Manager (`connpass.secret.id`).
    public var connpassAPIKey: String?
    /// `connpass.base.url`: connpass's address (tests point it at a fake).
    public var connpassBaseURL = "https://connpass.com"
    /// `mcp.config`: an MCP config file (`{"mcpServers": {…}}`); its servers' tools join the
    /// tool set as `<server>_<tool>`.
    public var mcpConfigPath: String?
    /// `connpass.secret.id`: the Secrets Manager secret holding the key (seed 001).
    public var connpassSecretID = "confee/connpass-api-key"
    /// `rules.path`: a JSON rules file for the `rules` model; the bundled seed-000 rules when unset.
    public var rulesPath: String?
    /// `session.idle.timeout`: seconds a session may be idle and still take messages; 0 disables.
    public var sessionIdleTimeoutSeconds = 30 * 60
    /// `session.retention`: seconds history is kept after its last message (seed 002: 7 days).
    public var sessionRetentionSeconds = 7 * 24 * 60 * 60
    /// `retention.sweep.interval`: seconds between retention sweeps.
    public var retentionSweepIntervalSeconds = 10 * 60
    /// `history.limit`: how many recent messages the model sees.
    public var historyLimit = 50
    /// `max.body.bytes`: the largest request body accepted.
    public var maxBodyBytes = 1024 * 1024
    /// `max.message.bytes`: the largest chat message accepted (as API Gateway's WebSocket frames).
    public var maxMessageBytes = 32 * 1024
    /// `ws.max.frame.bytes`: the largest WebSocket frame accepted (API Gateway's 32 KiB); larger ones close with 1009.
    public var webSocketMaxFrameBytes = 32 * 1024
    /// `ws.connection.ttl`: seconds a WebSocket connection record is kept (seed 002: a day).
    public var webSocketConnectionTTLSeconds = 24 * 60 * 60
    /// `http.idle.timeout`: seconds an HTTP/1 connection may wait for its first request head,
    /// or sit idle between requests (a body that stops arriving counts too), before it is closed.
    /// A response being written (a reply streaming) is never idle. Longer than load balancers'
    /// own idle timeouts (an ALB's is 60 s), so that they, not Kaiwa, close kept-alive connections.
    public var httpIdleTimeoutSeconds = 90
    /// `http.max.connections`: the most connections (HTTP and WebSocket) open at once; more are
    /// closed as they arrive, with a warning in the log at most once a second.
    public var httpMaxConnections = 10_000
    /// `reply.max.seconds`: the longest a reply may be generated before it is stopped.
    public var replyMaxSeconds = 300
    /// `reply.cancel.on.disconnect`: `true` stops a reply when its last client disconnects
    /// (for deployments that pay per second); by default it runs on and can be resumed.
    public var replyCancelOnDisconnect = false
    /// `reply.resume.grace`: seconds a finished reply's events can still be resumed.
    public var replyResumeGraceSeconds = 300
    /// `reply.session.lease`: seconds a reply's claim on its session lasts in a store shared by
    /// instances (renewed while it runs): how long a session stays busy after its instance died.
    public var replySessionLeaseSeconds = 30
    /// `shutdown.drain.seconds`: on SIGTERM, how long running replies may finish before they are stopped.
    public var shutdownDrainSeconds = 10
    /// `cors.allowed.origins`: comma-separated origins allowed to call the API from a browser
    /// besides the page's own; `*` for any. None by default: other sites' pages cannot read or
    /// change a Kaiwa's history from a visitor's browser.
    public var corsAllowedOrigins: [String] = []
    /// Sign-in, limits and the browser-facing defaults.
    public var auth = AuthConfiguration()
    /// `log.format`: `text` or `json` (one JSON object per line, for CloudWatch).
    public var logFormat = LogFormat.text
    /// `apigw.websocket.path`: where API Gateway WebSocket events arrive (the Lambda Web
    /// Adapter's `AWS_LWA_PASS_THROUGH_PATH`); off when unset.
    public var apiGatewayWebSocketPath: String?
    /// `apigw.management.endpoint`: the Management API endpoint to use instead of the one each
    /// event names (`https://{domainName}/{stage}`), e.g. behind a custom domain.
    public var apiGatewayManagementEndpoint: String?
    /// `metrics.enabled`: serve `GET /metrics` (Prometheus text format).
    public var metricsEnabled = false
    /// `metrics.token`: when set, `/metrics` needs `Authorization: Bearer <token>` (never logged).
    public var metricsToken: String?
    /// `otel.endpoint`: where OTLP/HTTP traces go (`http://collector:4318`); else the standard
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`. Tracing is off
    /// when none is set.
    public var otelEndpoint: String?
    /// Whether spans are made and sent (an endpoint is known).
    public var tracingEnabled: Bool { otelEndpoint != nil }
    /// The AWS Lambda function Kaiwa runs as (`AWS_LAMBDA_FUNCTION_NAME`), `nil` elsewhere.
    /// On Lambda, SQLite is refused and logs default to JSON.
    public var lambdaFunctionName: String?
    /// `log.level`: `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    public var logLevel = "info"
    /// `web.root`: the folder holding the web UI; found next to the binary or in the working directory when unset.
    public var webRoot: String?

    public enum StoreKind: String, Sendable, CaseIterable {
        case sqlite
        case dynamodb
        case memory
    }

    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    public init() {}

    /// The model server settings these options make.
    public var upstreamSettings: UpstreamSettings {
        UpstreamSettings(
            connectTimeout: .seconds(modelConnectTimeoutSeconds),
            firstTokenTimeout: .seconds(modelFirstTokenTimeoutSeconds),
            idleTimeout: .seconds(modelIdleTimeoutSeconds),
            maxAttempts: modelMaxAttempts
        )
    }

    /// The reply settings these options make.
    public var replySettings: ReplySettings {
        ReplySettings(
            maxReplyTime: .seconds(replyMaxSeconds),
            cancelOnDisconnect: replyCancelOnDisconnect,
            resumeGrace: .seconds(replyResumeGraceSeconds),
            drainPeriod: .seconds(shutdownDrainSeconds),
            sessionLease: .seconds(replySessionLeaseSeconds)
        )
    }

    /// The chat settings these options make.
    public var chatSettings: ChatSettings {
        var settings = ChatSettings(
            idleTimeout: sessionIdleTimeoutSeconds > 0 ? .seconds(sessionIdleTimeoutSeconds) : nil,
            maxMessageBytes: maxMessageBytes,
            historyLimit: historyLimit,
            contextBudgetTokens: contextBudgetTokens,
            maxCycles: agentMaxCycles,
            toolTimeout: .seconds(toolTimeoutSeconds)
        )
        settings.modelTitles = titlesFromModel
        settings.maxAttachmentBytes = attachmentMaxBytes
        settings.maxAttachmentsPerMessage = attachmentsPerMessage
        return settings
    }
}
