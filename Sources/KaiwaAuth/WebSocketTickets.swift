import Crypto
import Foundation
import KaiwaCore
import KaiwaStore

/// Single-use tickets that let a browser open a WebSocket as the subject that asked for one
/// (browsers cannot put an `Authorization` header on a WebSocket, and tokens must not travel
/// in URLs). The store keeps the ticket's hash, so any instance can redeem it, once.
public struct WebSocketTickets: Sendable {
    let store: any ChatStore
    let clock: any WallClock
    public let lifetime: TimeInterval

    public init(store: any ChatStore, clock: any WallClock = SystemWallClock(), lifetime: TimeInterval = 30) {
        self.store = store
        self.clock = clock
        self.lifetime = lifetime
    }

    public func issue(for subject: Subject) async throws -> String {
        let ticket = APIKeys.secret(prefix: "kt_")
        try await store.saveTicket(TicketRecord(hash: APIKeys.hash(ticket), subject: subject, expiresAt: clock.now().addingTimeInterval(lifetime)))
        return ticket
    }

    /// The subject the ticket was issued to, or `unauthorized` when it is unknown, used or expired.
    public func redeem(_ ticket: String) async throws -> Subject {
        guard ticket.utf8.count <= 64, let record = try await store.redeemTicket(hash: APIKeys.hash(ticket), now: clock.now()) else {
            throw KaiwaError(.unauthorized, "The WebSocket ticket is not valid (tickets work once, for \(Int(lifetime)) seconds).")
        }
        return record.subject
    }
}
