import Foundation
import KaiwaCore
import KaiwaStore
import Testing

struct IdentifierTests {
    @Test func newIdentifiersAreVersion7UUIDsCarryingTheirCreationTime() throws {
        // The identifier holds the millisecond it was made in, so compare whole milliseconds
        // (Date.millis rounds to the nearest one, which may be the next).
        func wholeMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
        let before = wholeMillis()
        let id = UUIDString.random()
        let after = wholeMillis()
        let characters = Array(id)
        #expect(characters.count == 36)
        #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" })
        #expect(id.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase })
        #expect(characters[14] == "7")
        #expect("89ab".contains(characters[19]))
        let hex = id.replacingOccurrences(of: "-", with: "")
        let millis = try #require(Int64(hex.prefix(12), radix: 16))
        #expect(millis >= before && millis <= after)
    }

    @Test func identifiersMadeLaterSortLaterAndNeverRepeat() async throws {
        var made: [String] = []
        for _ in 0..<5 {
            made.append(UUIDString.random())
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(made == made.sorted())
        let many = (0..<10_000).map { _ in UUIDString.random() }
        #expect(Set(many).count == many.count)
    }
}
