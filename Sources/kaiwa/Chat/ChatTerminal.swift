import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal `kaiwa chat` talks through: whether output is a terminal (and so gets ANSI
/// styles), its width, unbuffered writes, and the keyboard as an `AsyncStream`.
enum ChatTerminal {
    /// Whether standard output is a terminal that takes ANSI styles (`NO_COLOR` and
    /// `TERM=dumb` turn them off).
    static var stylesOutput: Bool {
        guard isatty(STDOUT_FILENO) == 1 else { return false }
        let environment = ProcessInfo.processInfo.environment
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    static var inputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Columns of the output terminal (80 when it cannot tell).
    static var width: Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    static func write(_ text: String) { write(text, to: STDOUT_FILENO) }

    static func writeError(_ text: String) { write(text, to: STDERR_FILENO) }

    /// Writes all of `text` at once, without stdio's buffering (a reply's pieces must show
    /// as they come, and stdout and stderr must stay in order).
    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }

    /// Columns `text` takes in a terminal: East Asian wide characters and most emoji take
    /// two, combining marks and zero-width characters none.
    static func displayWidth(_ text: String) -> Int {
        var width = 0
        for scalar in text.unicodeScalars {
            width += columns(of: scalar)
        }
        return width
    }

    private static func columns(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        if (0xFE00...0xFE0F).contains(value) || (0x200B...0x200F).contains(value) { return 0 }
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3, 0x25FD...0x25FE,
            0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5,
            0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C,
            0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
            0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F2FF, 0x1F300...0x1F64F, 0x1F680...0x1F6FF,
            0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// `text` cut to `columns` columns, with `…` when something was cut.
    static func truncate(_ text: String, toColumns columns: Int) -> String {
        guard displayWidth(text) > columns else { return text }
        var result = ""
        var used = 0
        for character in text {
            let width = displayWidth(String(character))
            if used + width > columns - 1 { break }
            result.append(character)
            used += width
        }
        return result + "…"
    }
}

/// What the chat loop waits for: a line typed, the end of input, Ctrl-C, or news from the
/// reply being written.
enum ChatInput: Sendable {
    case line(String)
    case endOfInput
    case interrupt
    /// The reply in progress learnt its session's id.
    case replySession(String)
    /// The reply in progress ended (`1`, `2`, … counts replies).
    case replyFinished(Int)
}

/// Turns the keyboard and Ctrl-C into one stream of `ChatInput`. Lines are read on a
/// thread of their own (a blocking `read` must not hold a thread of Swift's cooperative
/// pool); SIGINT is ignored by the process and delivered through a dispatch source, so it
/// never ends the program.
///
/// While a reply is written, the terminal's echo is off (`holdEcho`), so that what is typed
/// meanwhile does not land in the middle of the reply: such lines are shown after it. The
/// echo comes back when the reply ends, on `close()`, and on SIGTERM or SIGHUP.
final class ChatInputSource: Sendable {
    let inputs: AsyncStream<ChatInput>
    let continuation: AsyncStream<ChatInput>.Continuation
    /// The signal sources (in a mutex only because dispatch sources are not `Sendable`).
    private let signalSources: Mutex<[any DispatchSourceSignal]>
    private let echo = TerminalEcho()
    private let registered: DispatchGroup

    init() {
        let (stream, continuation) = AsyncStream<ChatInput>.makeStream(bufferingPolicy: .unbounded)
        self.inputs = stream
        self.continuation = continuation
        let queue = DispatchQueue(label: "kaiwa.chat.signals")
        let registered = DispatchGroup()
        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: queue)
        interrupts.setEventHandler { continuation.yield(.interrupt) }
        var sources: [any DispatchSourceSignal] = [interrupts]
        for ending in [SIGTERM, SIGHUP] {
            signal(ending, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: ending, queue: queue)
            source.setEventHandler { [echo] in
                echo.release()
                signal(ending, SIG_DFL)
                kill(getpid(), ending)
            }
            sources.append(source)
        }
        for source in sources {
            registered.enter()
            source.setRegistrationHandler { registered.leave() }
            source.resume()
        }
        self.registered = registered
        self.signalSources = Mutex(sources)
        let reader = Thread {
            // The signals are handled above; delivered to this thread, they could cut its
            // `read` short (libdispatch installs handlers for them), which would look like
            // the end of input.
            var blocked = sigset_t()
            sigemptyset(&blocked)
            for handled in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&blocked, handled) }
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            while let line = readLine(strippingNewline: true) {
                continuation.yield(.line(line))
            }
            continuation.yield(.endOfInput)
        }
        reader.name = "kaiwa chat input"
        reader.start()
    }

    /// Returns once the signal sources listen. Until then SIGINT is ignored and lost, so a
    /// prompt shown earlier could miss a Ctrl-C.
    func ready() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            registered.notify(queue: .global()) { done.resume() }
        }
    }

    func send(_ input: ChatInput) {
        continuation.yield(input)
    }

    /// Turns the terminal's echo off (when the input is a terminal) until `releaseEcho()`.
    func holdEcho() { echo.hold() }

    func releaseEcho() { echo.release() }

    /// Gives the terminal and the signals back as they were.
    func close() {
        releaseEcho()
        signalSources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        for handled in [SIGINT, SIGTERM, SIGHUP] { signal(handled, SIG_DFL) }
        continuation.finish()
    }
}

/// The terminal's echo, turned off and back on.
private final class TerminalEcho: Sendable {
    /// The terminal's settings from before the echo was turned off.
    private let saved = Mutex<termios?>(nil)

    func hold() {
        guard isatty(STDIN_FILENO) == 1 else { return }
        saved.withLock { saved in
            guard saved == nil else { return }
            var settings = termios()
            guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return }
            saved = settings
            settings.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &settings)
        }
    }

    func release() {
        saved.withLock { saved in
            guard var settings = saved else { return }
            tcsetattr(STDIN_FILENO, TCSANOW, &settings)
            saved = nil
        }
    }
}
