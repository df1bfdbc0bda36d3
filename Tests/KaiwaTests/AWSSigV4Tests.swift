import Foundation
import KaiwaAWS
import Testing

/// SigV4 signatures must equal botocore's for every committed vector
/// (regenerate with `python3 scripts/aws-fixtures/make_sigv4_vectors.py`).
struct AWSSigV4Tests {
    struct Vector: Decodable, CustomTestStringConvertible {
        var name, method, url, body, region, service, accessKeyID, secretAccessKey, date: String
        var headers: [String: String]
        var sessionToken: String?
        var expected: [String: String?]
        var testDescription: String { name }
    }

    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4-vectors.json")
        return (try? JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func fixtureFileIsPresent() {
        #expect(Self.vectors.count >= 7)
    }

    @Test(arguments: vectors)
    func signatureMatchesBotocore(vector: Vector) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let date = try #require(formatter.date(from: vector.date))
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: vector.accessKeyID, secretAccessKey: vector.secretAccessKey, sessionToken: vector.sessionToken
            ),
            region: vector.region,
            service: vector.service
        )
        let added = signer.signatureHeaders(
            method: vector.method,
            url: try #require(URL(string: vector.url)),
            headers: vector.headers.map { ($0.key, $0.value) },
            body: Array(vector.body.utf8),
            date: date
        )
        let byName = Dictionary(added.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["Authorization"] == vector.expected["Authorization"] ?? nil)
        #expect(byName["X-Amz-Date"] == vector.expected["X-Amz-Date"] ?? nil)
        #expect(byName["X-Amz-Security-Token"] == vector.expected["X-Amz-Security-Token"] ?? nil)
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "very-secret", sessionToken: "token-secret")
        #expect(!"\(credentials)".contains("very-secret"))
        #expect(!"\(credentials)".contains("token-secret"))
    }
}
