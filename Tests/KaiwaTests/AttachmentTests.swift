import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaiwaAgent
import KaiwaCore
import KaiwaServer
import KaiwaStore
import Testing

/// Files attached to messages: stored by their bytes a piece at a time, checked by content,
/// sent to models that read them and refused before any call to models that do not.
struct AttachmentTests {
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data((0..<2000).map { UInt8($0 % 251) })
    static let pdf = Data("%PDF-1.7\n".utf8) + Data(repeating: 0x41, count: 500)

    // MARK: Stores

    @Test(arguments: StoreContractTests.Kind.allCases)
    func aFileIsStoredInPiecesAndReadBackWholeByItsOwnerOnly(kind: StoreContractTests.Kind) async throws {
        let store = try await kind.make()
        let bytes = Data((0..<(700 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let file = KaiwaCore.Attachment(id: "f1", mediaType: "image/png", name: "big.png", size: bytes.count)
        try await store.saveAttachment(AttachmentRecord(attachment: file, owner: "alice", createdAt: Date()), chunks: attachmentChunks(of: bytes, size: 10_000))
        #expect(try await store.attachmentData("f1", owner: "alice") == bytes)
        #expect(try await store.attachmentRecord("f1", owner: "alice")?.attachment == file)
        #expect(try await store.attachmentData("f1", owner: "bob") == nil)
        #expect(try await store.attachmentRecord("f1", owner: nil) == nil)
        // Bytes that do not come to the declared size keep nothing.
        let short = KaiwaCore.Attachment(id: "f2", mediaType: "image/png", name: "short.png", size: 10)
        await #expect(throws: AttachmentSizeMismatch.self) {
            try await store.saveAttachment(AttachmentRecord(attachment: short, owner: "alice", createdAt: Date()), chunks: attachmentChunks(of: Data(count: 4)))
        }
        await #expect(throws: AttachmentSizeMismatch.self) {
            try await store.saveAttachment(AttachmentRecord(attachment: short, owner: "alice", createdAt: Date()), chunks: attachmentChunks(of: Data(count: 40)))
        }
        #expect(try await store.attachmentRecord("f2", owner: "alice") == nil)
    }

    /// Retention: SQLite and memory sweep old files; on DynamoDB deployments the S3 bucket's
    /// lifecycle rule does (deploy/nested/tables.yaml), so its sweep leaves them.
    @Test(arguments: StoreContractTests.Kind.allCases)
    func filesGoWithTheirConversationAndWithRetention(kind: StoreContractTests.Kind) async throws {
        let store = try await kind.make()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for (id, minute) in [("kept", 10.0), ("old", 0.0), ("named", 10.0)] {
            let file = KaiwaCore.Attachment(id: id, mediaType: "application/pdf", name: "\(id).pdf", size: Self.pdf.count)
            try await store.saveAttachment(
                AttachmentRecord(attachment: file, owner: nil, createdAt: t0.addingTimeInterval(minute * 60)), chunks: attachmentChunks(of: Self.pdf)
            )
        }
        let session = SessionRecord(id: SessionID(trusted: "s"), agent: "assistant", title: "t", createdAt: t0.addingTimeInterval(600), updatedAt: t0.addingTimeInterval(600))
        let named = KaiwaCore.Attachment(id: "named", mediaType: "application/pdf", name: "named.pdf", size: Self.pdf.count)
        _ = try await store.openSession(session, appending: [NewMessage(role: .user, content: [.text("see"), .attachment(named)], createdAt: t0.addingTimeInterval(600))])
        #expect(try await store.deleteSession(session.id, owner: nil))
        #expect(try await store.attachmentRecord("named", owner: nil) == nil)
        #expect(try await store.attachmentRecord("kept", owner: nil) != nil)
        _ = try await store.sweep(before: t0.addingTimeInterval(300))
        if kind != .dynamodb { #expect(try await store.attachmentRecord("old", owner: nil) == nil) }
        #expect(try await store.attachmentData("kept", owner: nil) == Self.pdf)
    }

    @Test func withDynamoDBAndNoBucketAnUploadIsRefusedWithTheReason() async throws {
        var harness = AppHarness()
        harness.store = try await MotoServer.makeStore()
        try await harness.run { client in
            let refused = try await upload(client, Self.png, name: "a.png")
            #expect(refused.status == .badRequest)
            #expect((refused.json["message"] as? String)?.contains("attachments.s3.bucket") == true)
        }
    }

    // MARK: Routes

    func upload(_ client: some TestClientProtocol, _ bytes: Data, name: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentLength] = String(bytes.count)
        fields[.contentType] = "application/octet-stream"
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
        return try await client.execute(uri: "/api/attachments?name=\(encoded)", method: .post, headers: fields, body: ByteBuffer(bytes: bytes))
    }

    func harness(reads: Set<CatalogModel.FileInput>, settings: (inout KaiwaConfiguration) -> Void = { _ in }) -> (AppHarness, TurnScriptedModel) {
        let model = TurnScriptedModel(scripts: [TurnScriptedModel.say("I see it.")])
        var harness = AppHarness()
        harness.models = ModelCatalog(models: [CatalogModel(name: "eyes", provider: model, providerKind: "scripted", reads: reads)], defaultName: "eyes")
        harness.configuration.titlesFromModel = false
        settings(&harness.configuration)
        return (harness, model)
    }

    @Test func anUploadedImageIsSentToTheModelWithTheMessageAndShownInTheHistory() async throws {
        let (harness, model) = harness(reads: [.image])
        try await harness.run { client in
            let uploaded = try await upload(client, Self.png, name: "京都の写真.png")
            #expect(uploaded.status == .created)
            #expect(uploaded.json["media_type"] as? String == "image/png")
            #expect(uploaded.json["kind"] as? String == "image")
            #expect(uploaded.json["name"] as? String == "京都の写真.png")
            let id = try #require(uploaded.json["id"] as? String)
            let answer = try await client.post("/chat", json: #"{"message":"What is this?","session_id":"pics","attachments":["\#(id)"]}"#)
            #expect(answer.status == .ok)
            let asked = try #require(model.requests.turns.last)
            #expect(asked.messages.last?.content.attachments.map(\.id) == [id])
            #expect(asked.attachmentData[id] == Self.png)
            let stored = try await client.get("/api/sessions/pics").json["messages"] as? [[String: Any]] ?? []
            let blocks = stored.first?["content"] as? [[String: Any]] ?? []
            #expect(blocks.map { $0["type"] as? String } == ["text", "attachment"])
            #expect((blocks.last?["attachment"] as? [String: Any])?["media_type"] as? String == "image/png")
            let download = try await client.get("/api/attachments/\(id)")
            #expect(download.status == .ok)
            #expect(download.headers[.contentType] == "image/png")
            #expect(Data(buffer: download.body) == Self.png)
            #expect(download.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
        }
    }

    @Test func filesAreJudgedByTheirBytesAndLimitsHoldBeforeAnythingIsStored() async throws {
        let (harness, model) = harness(reads: [.image]) { $0.attachmentMaxBytes = 4096; $0.attachmentsPerMessage = 2 }
        try await harness.run { client in
            // A PDF named .png is a PDF; bytes that are no kind Kaiwa takes are refused.
            let renamed = try await upload(client, Self.pdf, name: "photo.png")
            #expect(renamed.json["media_type"] as? String == "application/pdf")
            let zip = try await upload(client, Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0xFF, 0xFE]), name: "notes.txt")
            #expect(zip.status == .unsupportedMediaType)
            #expect(zip.json["error"] as? String == "unsupported_media_type")
            // Text that turns out not to be UTF-8 after its first bytes.
            let binary = try await upload(client, Data("plain text at first, then".utf8) + Data([0xC3, 0x28, 0xFF]), name: "notes.txt")
            #expect(binary.status == .unsupportedMediaType)
            let big = try await upload(client, Data(repeating: 0x61, count: 5000), name: "big.txt")
            #expect(big.status == .contentTooLarge)
            let unnamed = try await upload(client, Self.png, name: "")
            #expect(unnamed.status == .badRequest)
            let text = try await upload(client, Data("一行目\n二行目\n".utf8), name: "memo.md")
            #expect(text.json["media_type"] as? String == "text/markdown")

            // A PDF to a model that does not read PDFs: 400 before any call, nothing stored.
            let pdfID = try #require(renamed.json["id"] as? String)
            let refused = try await client.post("/chat", json: #"{"message":"Summarise","session_id":"docs","attachments":["\#(pdfID)"]}"#)
            #expect(refused.status == .badRequest)
            #expect((refused.json["message"] as? String)?.contains("does not read PDF documents") == true)
            #expect(model.requests.recorded.isEmpty)
            #expect(try await client.get("/api/sessions/docs").status == .notFound)
            // Too many files, a file named twice, and one that is not there.
            let textID = try #require(text.json["id"] as? String)
            let many = try await client.post("/chat", json: #"{"message":"x","attachments":["\#(textID)","\#(textID)","\#(textID)"]}"#)
            #expect(many.status == .badRequest)
            let missing = try await client.post("/chat", json: #"{"message":"x","attachments":["nope"]}"#)
            #expect(missing.status == .notFound)
            // A text file goes to any model (inline where there are no documents).
            let fine = try await client.post("/chat", json: #"{"message":"Read this","attachments":["\#(textID)"]}"#)
            #expect(fine.status == .ok)
        }
    }

    @Test(arguments: StoreContractTests.Kind.allCases)
    func someoneElsesFileCannotBeAttachedOrDownloaded(kind: StoreContractTests.Kind) async throws {
        try await OwnershipTests.withTwoUsers(kind) { client, users, _ in
            let uploaded = try await upload(client, Self.png, name: "a.png", headers: users.alice)
            let id = try #require(uploaded.json["id"] as? String)
            let theirs = try await client.post("/chat", json: #"{"message":"mine?","attachments":["\#(id)"]}"#, headers: users.bob)
            #expect(theirs.status == .notFound)
            #expect(try await client.get("/api/attachments/\(id)", headers: users.bob).status == .notFound)
            #expect(try await client.get("/api/attachments/\(id)", headers: users.alice).status == .ok)
        }
    }
}
