import Foundation
import KaiwaCore
import Testing

@testable import KaiwaModels

/// Attached files reach each provider in its own wire form: Bedrock Converse `image` and
/// `document` blocks, OpenAI image parts with text files written inline.
struct AttachmentWireTests {
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
    static let pdf = Data("%PDF-1.7 fake".utf8)
    static let csv = Data("city,visitors\nKyoto,3\n".utf8)
    static let image = KaiwaCore.Attachment(id: "a1", mediaType: "image/png", name: "photo.png", size: png.count)
    static let document = KaiwaCore.Attachment(id: "a2", mediaType: "application/pdf", name: "report (final) v2.pdf", size: pdf.count)
    static let table = KaiwaCore.Attachment(id: "a3", mediaType: "text/csv", name: "visits.csv", size: csv.count)

    static func request(_ files: [KaiwaCore.Attachment]) -> ModelRequest {
        var request = ModelRequest(messages: [ChatMessage(role: .user, content: [.text("Look at these")] + files.map(ContentBlock.attachment))])
        request.attachmentData = ["a1": png, "a2": pdf, "a3": csv]
        return request
    }

    @Test func bedrockGetsImageAndDocumentBlocksWithTheBytes() throws {
        let body = BedrockWire.body(for: Self.request([Self.image, Self.document, Self.table]))
        guard case .object(let top) = body, case .array(let messages)? = top["messages"], case .object(let first) = messages[0],
            case .array(let content)? = first["content"]
        else { Issue.record("no content"); return }
        #expect(JSONText.encode(content[0]) == #"{"text":"Look at these"}"#)
        #expect(JSONText.encode(content[1]) == #"{"image":{"format":"png","source":{"bytes":"\#(Self.png.base64EncodedString())"}}}"#)
        #expect(
            JSONText.encode(content[2])
                == #"{"document":{"format":"pdf","name":"report (final) v2","source":{"bytes":"\#(Self.pdf.base64EncodedString())"}}}"#
        )
        guard case .object(let csv) = content[3], case .object(let document)? = csv["document"] else { Issue.record("no csv document"); return }
        #expect(document["format"] == .string("csv"))
        #expect(document["name"] == .string("visits"))
    }

    @Test func openAIGetsImagePartsAndTextFilesInline() throws {
        let body = OpenAIWire.body(for: Self.request([Self.image, Self.table]), model: "m", stream: true)
        guard case .object(let top) = body, case .array(let messages)? = top["messages"], case .object(let user) = messages[0],
            case .array(let parts)? = user["content"]
        else { Issue.record("no parts"); return }
        #expect(parts.count == 2)
        guard case .object(let text) = parts[0], case .string(let words)? = text["text"] else { Issue.record("no text part"); return }
        #expect(words.hasPrefix("Look at these"))
        #expect(words.contains("visits.csv:\n```\ncity,visitors\nKyoto,3\n\n```"))
        #expect(JSONText.encode(parts[1]) == #"{"image_url":{"url":"data:image/png;base64,\#(Self.png.base64EncodedString())"},"type":"image_url"}"#)
        // Without images a message stays a plain string.
        let plain = OpenAIWire.body(for: Self.request([Self.table]), model: "m", stream: false)
        guard case .object(let top2) = plain, case .array(let messages2)? = top2["messages"], case .object(let user2) = messages2[0] else { return }
        #expect(user2["content"].map { if case .string = $0 { true } else { false } } == true)
    }

    @Test func aFileWhoseBytesAreGoneIsSaidToBeGone() {
        var request = Self.request([Self.image])
        request.attachmentData = [:]
        let body = BedrockWire.body(for: request)
        #expect(JSONText.encode(body).contains("photo.png: the attached file is no longer available"))
    }

    @Test func theKindOfAFileComesFromItsBytesNotItsName() {
        #expect(KaiwaCore.Attachment.mediaType(sniffing: Self.png, name: "notes.txt") == "image/png")
        #expect(KaiwaCore.Attachment.mediaType(sniffing: Self.pdf, name: "photo.png") == "application/pdf")
        #expect(KaiwaCore.Attachment.mediaType(sniffing: Data([0xFF, 0xD8, 0xFF, 0xE0]), name: "x") == "image/jpeg")
        #expect(KaiwaCore.Attachment.mediaType(sniffing: Data("GIF89a......".utf8), name: "x") == "image/gif")
        #expect(KaiwaCore.Attachment.mediaType(sniffing: Data("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8), name: "x") == "image/webp")
        #expect(KaiwaCore.Attachment.mediaType(sniffing: Data("PK\u{3}\u{4}".utf8), name: "photo.png") == nil)
        #expect(KaiwaCore.Attachment.textMediaType(name: "README.MD") == "text/markdown")
        #expect(KaiwaCore.Attachment.textMediaType(name: "data.csv") == "text/csv")
        #expect(KaiwaCore.Attachment.textMediaType(name: "notes") == "text/plain")
    }
}
