import Foundation
import Hummingbird
import KaiwaAWS
import Testing

/// Each source of the standard credential chain, and refreshing before expiry.
struct AWSCredentialTests {
    @Test func environmentVariablesAreTheFirstSource() async throws {
        let chain = AWSCredentialChain.standard(
            environment: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token", "HOME": "/nonexistent"],
            client: testHTTPClient
        )
        let credentials = try await chain.credentials()
        #expect(credentials == AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "secret", sessionToken: "token"))
    }

    @Test func sharedFilesHonourTheProfile() async throws {
        let folder = try makeTemporaryDirectory()
        try """
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = default-secret

        [work]
        aws_access_key_id=AKIDWORK
        aws_secret_access_key=work-secret
        aws_session_token = work-token
        """.write(to: folder.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        try """
        [profile other]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = config-secret
        """.write(to: folder.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let base = ["AWS_SHARED_CREDENTIALS_FILE": folder.appendingPathComponent("credentials").path, "AWS_CONFIG_FILE": folder.appendingPathComponent("config").path]
        #expect(try await SharedFileCredentialProvider(environment: base).credentials()?.accessKeyID == "AKIDDEFAULT")
        let work = try await SharedFileCredentialProvider(environment: base.merging(["AWS_PROFILE": "work"]) { $1 }).credentials()
        #expect(work == AWSCredentials(accessKeyID: "AKIDWORK", secretAccessKey: "work-secret", sessionToken: "work-token"))
        #expect(try await SharedFileCredentialProvider(environment: base.merging(["AWS_PROFILE": "other"]) { $1 }).credentials()?.accessKeyID == "AKIDCONFIG")
        #expect(try await SharedFileCredentialProvider(environment: base.merging(["AWS_PROFILE": "missing"]) { $1 }).credentials() == nil)
    }

    @Test func containerEndpointWithTokenFileAndRefreshBeforeExpiry() async throws {
        let folder = try makeTemporaryDirectory()
        let tokenFile = folder.appendingPathComponent("token")
        try "container-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let calls = CallCounter()
        let now = Shared(Date(timeIntervalSince1970: 1_800_000_000))
        try await withFakeUpstream({ router in
            router.get("/creds") { request, _ in
                guard request.headers[.authorization] == "container-token" else { return Response(status: .unauthorized) }
                let call = calls.next()
                let expiration = Date(timeIntervalSince1970: 1_800_000_000 + 600).formatted(.iso8601)
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"AccessKeyId":"ASIA\#(call)","SecretAccessKey":"s","Token":"t","Expiration":"\#(expiration)"}"#))
                )
            }
        }) { base in
            try await Self.checkRefresh(base: base, tokenFile: tokenFile.path, now: now, calls: calls)
        }
    }

    static func checkRefresh(base: String, tokenFile: String, now: Shared<Date>, calls: CallCounter) async throws {
        let environment = [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
            "HOME": "/nonexistent",
        ]
        let chain = AWSCredentialChain(
            sources: [
                EnvironmentCredentialProvider(environment: environment), SharedFileCredentialProvider(environment: environment),
                ContainerCredentialProvider(environment: environment, client: testHTTPClient),
            ],
            refreshMargin: 300,
            now: { now.get() }
        )
        let first = try await chain.credentials()
        #expect(first?.accessKeyID == "ASIA1")
        now.set(now.get().addingTimeInterval(200))
        let cached = try await chain.credentials()
        #expect(cached?.accessKeyID == "ASIA1")
        now.set(now.get().addingTimeInterval(150))
        let refreshed = try await chain.credentials()
        #expect(refreshed?.accessKeyID == "ASIA2")
        #expect(calls.value == 2)
    }

    @Test func noCredentialsAnywhereSaysWhereToPutThem() async throws {
        let chain = AWSCredentialChain.standard(environment: ["HOME": "/nonexistent"], client: testHTTPClient)
        let error = await #expect(throws: AWSCredentialError.self) { try await chain.credentials() }
        #expect(error?.description.contains("AWS_ACCESS_KEY_ID") == true)
    }

    @Test func endpointOverridesFollowTheSDKOrder() {
        #expect(AWSEndpoint.url(service: "bedrock runtime", hostPrefix: "bedrock-runtime", region: "ap-northeast-1", environment: [:])
            == "https://bedrock-runtime.ap-northeast-1.amazonaws.com")
        #expect(AWSEndpoint.url(service: "bedrock runtime", hostPrefix: "bedrock-runtime", region: "x", environment: ["AWS_ENDPOINT_URL": "http://a/"]) == "http://a")
        #expect(AWSEndpoint.url(
            service: "bedrock runtime", hostPrefix: "bedrock-runtime", region: "x",
            environment: ["AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://b"]
        ) == "http://b")
    }
}
