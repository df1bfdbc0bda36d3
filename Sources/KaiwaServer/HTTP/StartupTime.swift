import Foundation
import Logging

/// How long the process took from its start (as the kernel counts it: loading the binary and
/// its libraries included) to the server taking requests. On AWS Lambda this is the cold start.
enum StartupTime {
    /// The time since this process started, from `/proc` (10 ms steps); `nil` where there is no `/proc`.
    static func sinceProcessStart() -> Duration? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
            // The command name (field 2) may hold spaces: fields are counted after its ")".
            let afterName = stat.range(of: ")", options: .backwards)?.upperBound
        else { return nil }
        let fields = stat[afterName...].split(separator: " ")
        // Field 22, `starttime`, is the 20th after the name: clock ticks after boot.
        guard fields.count > 19, let ticks = Double(fields[19]), let up = uptime.split(separator: " ").first.flatMap({ Double($0) })
        else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticksPerSecond > 0 else { return nil }
        return .milliseconds(Int64(max(0, up - ticks / ticksPerSecond) * 1000))
    }

    /// Logs that the server is ready, with the startup time (and, on Lambda, as a cold start).
    static func reportReady(lambdaFunction: String?, logger: Logger) {
        var metadata: Logger.Metadata = [:]
        if let elapsed = sinceProcessStart() { metadata["startup_ms"] = "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)" }
        if let lambdaFunction {
            metadata["lambda_function"] = "\(lambdaFunction)"
            logger.info("Ready (Lambda cold start)", metadata: metadata)
        } else {
            logger.info("Ready", metadata: metadata)
        }
    }
}
