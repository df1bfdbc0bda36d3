import Foundation
import Logging

/// The web UI's files (HTML, CSS, JavaScript from the repository's `web/` folder), read once
/// at start-up and served from memory. No build step, nothing from a CDN.
public struct WebAssets: Sendable {
    public struct File: Sendable {
        public var contentType: String
        public var bytes: [UInt8]
    }

    /// Files by name relative to the web root, e.g. `index.html`.
    public let files: [String: File]
    /// Where the files were found; `nil` when no web root was found.
    public let root: String?

    /// Reads the files under the first of these folders that exists: the configured one, then
    /// `web/` in the working directory, then `web/` beside the executable, then the source tree's.
    public static func locate(configuredRoot: String?, logger: Logger) -> WebAssets {
        let executableFolder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent().path
        let sourceTreeWeb = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("web").path
        let candidates = configuredRoot.map { [$0] } ?? ["web", executableFolder + "/web", executableFolder + "/../share/kaiwa/web", sourceTreeWeb]
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                return load(root: candidate)
            }
        }
        logger.warning("The web UI was not found; GET / will answer 404. Set KAIWA_WEB_ROOT to the web folder.")
        return WebAssets(files: [:], root: nil)
    }

    static func load(root: String) -> WebAssets {
        var files: [String: File] = [:]
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        let enumerator = FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                let data = FileManager.default.contents(atPath: url.path)
            else { continue }
            let name = String(url.standardizedFileURL.path.dropFirst(rootURL.path.count + 1))
            files[name] = File(contentType: contentType(of: url.pathExtension), bytes: Array(data))
        }
        return WebAssets(files: files, root: root)
    }

    static func contentType(of pathExtension: String) -> String {
        switch pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json": "application/json; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        default: "application/octet-stream"
        }
    }
}
