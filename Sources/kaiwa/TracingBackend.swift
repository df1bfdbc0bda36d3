import KaiwaCore
import KaiwaServer
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces for `kaiwa serve`: when an OTLP endpoint is configured, spans (a
/// request, its reply, model calls, tool calls, store calls) go to it over OTLP/HTTP, W3C
/// `traceparent` is read from clients and sent to model servers, and every log line carries
/// `trace_id` and `span_id`. Metrics and logs stay Kaiwa's own (`/metrics`, stdout).
enum TracingBackend {
    /// Bootstraps the process's tracer and returns the service that exports its spans (run it
    /// alongside the server, and stop it after, so the last spans are sent); `nil` when off.
    static func bootstrap(_ configuration: KaiwaConfiguration, environment: [String: String]) throws -> (any Service)? {
        guard let endpoint = configuration.otelEndpoint else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = "kaiwa"
        otel.resourceAttributes["service.version"] = KaiwaVersion.current
        otel.diagnosticLogLevel = .warning
        otel.metrics.enabled = false
        otel.logs.enabled = false
        otel.traces.otlpExporter.protocol = .httpProtobuf
        // `otel.endpoint` is a base URL like OTEL_EXPORTER_OTLP_ENDPOINT; the OTEL_ variables
        // themselves are read by swift-otel as the specification says.
        if environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == nil, environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != endpoint {
            otel.traces.otlpExporter.endpoint = endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
        }
        let (tracer, service) = try OTel.makeTracingBackend(configuration: otel)
        // A sampled-out trace (OTEL_TRACES_SAMPLER=parentbased_traceidratio) costs one span, not eight.
        InstrumentationSystem.bootstrap(HeadSampledTracer(tracer))
        return service
    }

    /// Adds the current span's ids to every log line (nothing when tracing is off).
    static var logMetadata: Logger.MetadataProvider { OTel.makeLoggingMetadataProvider() }
}
