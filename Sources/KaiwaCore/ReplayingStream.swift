import Synchronization

extension AsyncThrowingStream where Failure == any Error, Element: Sendable {
    /// A stream that hands out `elements` one by one, in the consumer's task, and throws
    /// `CancellationError` once that task is cancelled.
    public static func replaying(_ elements: [Element]) -> Self {
        let remaining = Queue(elements)
        return AsyncThrowingStream(unfolding: {
            try Task.checkCancellation()
            return remaining.next()
        })
    }
}

private final class Queue<Element: Sendable>: Sendable {
    private let elements: Mutex<ArraySlice<Element>>

    init(_ elements: [Element]) {
        self.elements = Mutex(elements[...])
    }

    func next() -> Element? {
        elements.withLock { $0.popFirst() }
    }
}
