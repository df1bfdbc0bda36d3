import Foundation
import KaiwaCore

/// How callers prove who they are (`auth.mode`): `none`, `jwt`, `api-key` or `jwt,api-key`.
public struct AuthMode: Sendable, Hashable, CustomStringConvertible {
    public var jwt: Bool
    public var apiKey: Bool

    public static let none = AuthMode(jwt: false, apiKey: false)

    public init(jwt: Bool, apiKey: Bool) {
        self.jwt = jwt
        self.apiKey = apiKey
    }

    /// Parses the setting; `nil` for anything but the four forms (in either order).
    public init?(parsing raw: String) {
        let parts = Set(raw.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if parts == ["none"] {
            self = .none
            return
        }
        guard !parts.isEmpty, parts.isSubset(of: ["jwt", "api-key"]) else { return nil }
        self.init(jwt: parts.contains("jwt"), apiKey: parts.contains("api-key"))
    }

    /// Whether every caller is the one local user (`auth.mode=none`).
    public var isOff: Bool { !jwt && !apiKey }

    public var description: String {
        switch (jwt, apiKey) {
        case (false, false): "none"
        case (true, false): "jwt"
        case (false, true): "api-key"
        case (true, true): "jwt,api-key"
        }
    }
}
