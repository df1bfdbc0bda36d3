import Foundation

/// Runs `process` to its end and returns its exit status and output. The blocking reads and
/// the wait happen on a thread of their own: on the cooperative pool (two threads on a
/// two-core machine) they stalled every other test for as long as the child ran.
func runToExit(_ process: Process) async throws -> (status: Int32, output: String, errors: String) {
    let output = Pipe()
    let errors = Pipe()
    // Close-on-exec: a child another test starts meanwhile (an MCP server that outlives its
    // test) must not inherit these write ends, or this read waits for that child's end, not ours.
    for handle in [output.fileHandleForReading, output.fileHandleForWriting, errors.fileHandleForReading, errors.fileHandleForWriting] {
        _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
    }
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    return await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let errorsRead = Thread.detachedRead(errors.fileHandleForReading)
            let outputData = output.fileHandleForReading.readDataToEndOfFile()
            let errorData = errorsRead.wait()
            process.waitUntilExit()
            continuation.resume(
                returning: (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
            )
        }
    }
}

extension Thread {
    /// Reads `handle` to its end on another thread (so that a child filling one pipe while
    /// its other one is read cannot block both).
    fileprivate static func detachedRead(_ handle: FileHandle) -> PendingRead {
        let pending = PendingRead()
        Thread.detachNewThread { pending.finish(handle.readDataToEndOfFile()) }
        return pending
    }
}

/// Data another thread is reading.
private final class PendingRead: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?

    func finish(_ data: Data) {
        condition.lock()
        self.data = data
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data ?? Data()
    }
}
