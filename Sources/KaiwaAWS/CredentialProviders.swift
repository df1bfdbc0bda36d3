import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Where signing keys come from.
public protocol AWSCredentialProvider: Sendable {
    /// Current credentials; `nil` when this source has none to offer.
    func credentials() async throws -> AWSCredentials?
}

/// Credentials that cannot be found or read. The description says which source failed.
public struct AWSCredentialError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which is also how
/// Lambda hands a function its role's credentials.
public struct EnvironmentCredentialProvider: AWSCredentialProvider {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func credentials() async throws -> AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }
}

/// The shared `credentials` and `config` files (`~/.aws/…`, or `AWS_SHARED_CREDENTIALS_FILE`
/// and `AWS_CONFIG_FILE`), for the profile `AWS_PROFILE` (default `default`).
public struct SharedFileCredentialProvider: AWSCredentialProvider {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func credentials() async throws -> AWSCredentials? {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let files = [
            (environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials", profile),
            (environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config", profile == "default" ? "default" : "profile " + profile),
        ]
        for (path, section) in files {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let values = Self.section(section, of: text)
            if let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] {
                return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"])
            }
        }
        return nil
    }

    /// The `key = value` pairs of `[name]` in an INI file.
    static func section(_ name: String, of text: String) -> [String: String] {
        var current: String?
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard current == name, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }
}

/// The ECS/Fargate container credentials endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
/// (on `169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the token from
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
public struct ContainerCredentialProvider: AWSCredentialProvider {
    let environment: [String: String]
    let client: HTTPClient

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, client: HTTPClient) {
        self.environment = environment
        self.client = client
    }

    struct Answer: Decodable {
        var AccessKeyId: String
        var SecretAccessKey: String
        var Token: String?
        var Expiration: String?
    }

    public func credentials() async throws -> AWSCredentials? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2" + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            url = full
        } else {
            return nil
        }
        var request = HTTPClientRequest(url: url)
        if let token = try authorizationToken() { request.headers.add(name: "Authorization", value: token) }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(5))
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw AWSCredentialError(description: "The container credentials endpoint could not be reached: \(error)")
        }
        guard response.status.code == 200 else {
            throw AWSCredentialError(description: "The container credentials endpoint answered HTTP \(response.status.code).")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)) else {
            throw AWSCredentialError(description: "The container credentials endpoint answered something that is not credentials.")
        }
        return AWSCredentials(
            accessKeyID: answer.AccessKeyId,
            secretAccessKey: answer.SecretAccessKey,
            sessionToken: answer.Token,
            expiration: answer.Expiration.flatMap { try? Date($0, strategy: .iso8601) }
        )
    }

    private func authorizationToken() throws -> String? {
        if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty { return token }
        guard let path = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !path.isEmpty else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw AWSCredentialError(description: "The container authorization token file \(path) cannot be read.")
        }
    }
}

/// The standard chain: environment (and Lambda), shared files, then the container endpoint.
/// The first source with credentials wins; temporary credentials are fetched again shortly
/// before they expire.
public final class AWSCredentialChain: AWSCredentialProvider {
    let sources: [any AWSCredentialProvider]
    let refreshMargin: TimeInterval
    let now: @Sendable () -> Date
    private let cached = Mutex<AWSCredentials?>(nil)

    public init(sources: [any AWSCredentialProvider], refreshMargin: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() }) {
        self.sources = sources
        self.refreshMargin = refreshMargin
        self.now = now
    }

    /// The standard chain for this process's environment.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment, client: HTTPClient) -> AWSCredentialChain {
        AWSCredentialChain(sources: [
            EnvironmentCredentialProvider(environment: environment),
            SharedFileCredentialProvider(environment: environment),
            ContainerCredentialProvider(environment: environment, client: client),
        ])
    }

    public func credentials() async throws -> AWSCredentials? {
        if let current = cached.withLock({ $0 }), !needsRefresh(current) { return current }
        for source in sources {
            if let found = try await source.credentials() {
                cached.withLock { $0 = found }
                return found
            }
        }
        throw AWSCredentialError(
            description: "No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, use a profile in ~/.aws/credentials, or run with a task role."
        )
    }

    private func needsRefresh(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(now()) < refreshMargin
    }
}

/// The endpoint for an AWS service, overridable as the AWS SDKs allow:
/// `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`), then `AWS_ENDPOINT_URL`.
public enum AWSEndpoint {
    public static func url(service: String, hostPrefix: String, region: String, environment: [String: String]) -> String {
        let specific = "AWS_ENDPOINT_URL_" + service.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        for name in [specific, "AWS_ENDPOINT_URL"] {
            if let value = environment[name], !value.isEmpty {
                return value.hasSuffix("/") ? String(value.dropLast()) : value
            }
        }
        return "https://\(hostPrefix).\(region).amazonaws.com"
    }
}
