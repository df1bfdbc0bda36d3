import Foundation

/// Sends bytes exactly as given to a loopback port and returns what comes back (until the
/// server closes, or the head of an answer arrived unless `untilClosed`, or `timeout` passes):
/// for requests no HTTP client would send as they are. The blocking socket calls run on a
/// thread of their own, off the cooperative pool that the server under test needs.
func rawHTTPExchange(port: Int, _ request: String, timeout: TimeInterval = 5, untilClosed: Bool = false) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingExchange(port: port, request, timeout: timeout, untilClosed: untilClosed) })
        }
    }
}

private func blockingExchange(port: Int, _ request: String, timeout: TimeInterval, untilClosed: Bool) throws -> String {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw NoFreePort() }
    defer { close(descriptor) }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else { throw NoFreePort() }
    var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        received += buffer[0..<count]
        // An upgrade or a complete small answer: enough to read the status and headers.
        if !untilClosed && String(decoding: received, as: UTF8.self).contains("\r\n\r\n") && received.count < 4096 { break }
    }
    return String(decoding: received, as: UTF8.self)
}

/// A WebSocket upgrade request for `path` with these extra header lines.
func webSocketUpgrade(_ path: String, port: Int, headers: [String] = []) -> String {
    (["GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="] + headers).joined(separator: "\r\n") + "\r\n\r\n"
}
