import Foundation
import Instrumentation
import KaiwaServer
import Testing
import Tracing

/// A trace whose first span the tracer does not record costs nothing below it.
struct HeadSampledTracerTests {
    @Test func spansUnderAnUnrecordedFirstSpanNeverReachTheTracerButKeepItsContext() {
        let fake = RecordingDecider { !$0.hasPrefix("quiet") }
        let tracer = HeadSampledTracer(fake)
        tracer.withSpan("quiet request") { root in
            #expect(!root.isRecording)
            tracer.withSpan("invoke_agent") { child in
                tracer.withSpan("sqlite append") { grandchild in
                    #expect(!grandchild.isRecording)
                    #expect(grandchild.context[TraceName.self] == "quiet request")
                }
                #expect(!child.isRecording)
                #expect(child.context[TraceName.self] == "quiet request")
            }
        }
        #expect(fake.started == ["quiet request"])
    }

    @Test func spansUnderARecordedFirstSpanAreTheTracersOwn() {
        let fake = RecordingDecider { !$0.hasPrefix("quiet") }
        let tracer = HeadSampledTracer(fake)
        tracer.withSpan("loud request") { root in
            #expect(root.isRecording)
            tracer.withSpan("invoke_agent") { child in
                #expect(child.isRecording)
                #expect(child.context[TraceName.self] == "invoke_agent")
            }
        }
        tracer.withSpan("quiet one") { _ in tracer.withSpan("under it") { _ in } }
        tracer.withSpan("loud again") { _ in }
        #expect(fake.started == ["loud request", "invoke_agent", "quiet one", "loud again"])
    }
}

private enum TraceName: InstrumentationContextKey {
    typealias Value = String
}

/// A tracer that records the spans `records` says yes to, and notes every span asked of it.
private final class RecordingDecider: Tracer, @unchecked Sendable {
    let records: @Sendable (String) -> Bool
    private let lock = NSLock()
    private var names: [String] = []
    var started: [String] { lock.withLock { names } }

    init(records: @escaping @Sendable (String) -> Bool) {
        self.records = records
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
        function: String, file fileID: String, line: UInt
    ) -> FakeSpan {
        lock.withLock { names.append(operationName) }
        var context = context()
        context[TraceName.self] = operationName
        return FakeSpan(context: context, isRecording: records(operationName))
    }

    func activeSpan(identifiedBy context: InstrumentationContext) -> FakeSpan? { nil }
    func forceFlush() {}
    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {}
    func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {}
}

private struct FakeSpan: Tracing.Span {
    let context: InstrumentationContext
    let isRecording: Bool
    var operationName: String {
        get { "" }
        nonmutating set {}
    }
    var attributes: SpanAttributes {
        get { [:] }
        nonmutating set {}
    }
    func setStatus(_ status: SpanStatus) {}
    func addEvent(_ event: SpanEvent) {}
    func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {}
    func addLink(_ link: SpanLink) {}
    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}
