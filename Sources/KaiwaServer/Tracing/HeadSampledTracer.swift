import Instrumentation
import Tracing

/// A tracer that lets a trace's first span decide for the whole trace. When the wrapped tracer
/// (swift-otel, with `OTEL_TRACES_SAMPLER=parentbased_traceidratio`) does not record a request's
/// first span, every span under it is a no-op span carrying the same context: no ids to make, no
/// attributes to keep. The wrapped tracer would otherwise make each of a `/chat`'s eight spans,
/// sampled out or not, and that cost was most of what tracing took from throughput.
///
/// The first span's context still goes out: upstream requests of a sampled-out trace carry
/// `traceparent` with the "not sampled" flag, and log lines its trace id.
public struct HeadSampledTracer<Wrapped: Tracer>: Tracer {
    public typealias Span = HeadSampledSpan<Wrapped.Span>

    let wrapped: Wrapped

    public init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> Span {
        let parent = context()
        if parent[SampledOutKey.self] == true { return .sampledOut(NoOpTracer.NoOpSpan(context: parent)) }
        let span = wrapped.startSpan(operationName, context: parent, ofKind: kind, at: instant(), function: function, file: fileID, line: line)
        guard !span.isRecording else { return .recorded(span) }
        // Not recorded: its children need not be either. (The span itself is dropped unended:
        // an unrecorded span has nothing to export.)
        var sampledOut = span.context
        sampledOut[SampledOutKey.self] = true
        return .sampledOut(NoOpTracer.NoOpSpan(context: sampledOut))
    }

    public func activeSpan(identifiedBy context: InstrumentationContext) -> Span? {
        wrapped.activeSpan(identifiedBy: context).map { .recorded($0) }
    }

    public func forceFlush() {
        wrapped.forceFlush()
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        wrapped.extract(carrier, into: &context, using: extractor)
    }

    public func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        wrapped.inject(context, into: &carrier, using: injector)
    }
}

/// Marks the context of a trace whose first span was not recorded.
private enum SampledOutKey: InstrumentationContextKey {
    typealias Value = Bool
}

/// A span of a `HeadSampledTracer`: the wrapped tracer's, or a no-op one in a sampled-out trace.
public enum HeadSampledSpan<Recorded: Tracing.Span>: Tracing.Span {
    case recorded(Recorded)
    case sampledOut(NoOpTracer.NoOpSpan)

    private var span: any Tracing.Span {
        switch self {
        case .recorded(let span): span
        case .sampledOut(let span): span
        }
    }

    public var context: InstrumentationContext { span.context }

    public var operationName: String {
        get { span.operationName }
        nonmutating set { span.operationName = newValue }
    }

    public func setStatus(_ status: SpanStatus) { span.setStatus(status) }

    public func addEvent(_ event: SpanEvent) { span.addEvent(event) }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        span.recordError(error, attributes: attributes, at: instant())
    }

    public var attributes: SpanAttributes {
        get { span.attributes }
        nonmutating set { span.attributes = newValue }
    }

    public var isRecording: Bool { span.isRecording }

    public func addLink(_ link: SpanLink) { span.addLink(link) }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) { span.end(at: instant()) }
}
