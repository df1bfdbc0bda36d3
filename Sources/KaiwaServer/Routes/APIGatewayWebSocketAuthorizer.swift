import Foundation
import KaiwaAuth
import KaiwaCore

/// The `$connect` authorizer of an API Gateway WebSocket API, answered by Kaiwa itself: a
/// browser cannot put a token on a WebSocket, so it asks `POST /api/auth/ticket` first and
/// connects with `?ticket=`. API Gateway calls the authorizer (the same function, through the
/// Lambda Web Adapter's pass-through path) with a `REQUEST` event; a redeemed ticket allows the
/// connection as its subject, and API Gateway then puts that subject (`principalId`, `name`,
/// `method`) on every later event of the connection. Anything else is denied (403 to the client).
struct APIGatewayWebSocketAuthorizer {
    let tickets: WebSocketTickets
    let requiresSignIn: Bool

    /// The authorizer's answer: an IAM policy for the connection's `methodArn`.
    func authorize(methodArn: String, ticket: String?) async -> [UInt8] {
        let subject: Subject?
        if !requiresSignIn {
            subject = .local
        } else if let ticket, !ticket.isEmpty {
            subject = try? await tickets.redeem(ticket)
        } else {
            subject = nil
        }
        return Self.policy(allowing: subject, methodArn: methodArn)
    }

    static func policy(allowing subject: Subject?, methodArn: String) -> [UInt8] {
        struct Statement: Encodable {
            var Action = "execute-api:Invoke"
            var Effect: String
            var Resource: String
        }
        struct PolicyDocument: Encodable {
            var Version = "2012-10-17"
            var Statement: [Statement]
        }
        struct Answer: Encodable {
            var principalId: String
            var policyDocument: PolicyDocument
            var context: [String: String]?
        }
        let answer = Answer(
            principalId: subject?.id ?? "anonymous",
            policyDocument: PolicyDocument(Statement: [Statement(Effect: subject == nil ? "Deny" : "Allow", Resource: methodArn)]),
            context: subject.map { ["name": $0.name, "method": $0.method.rawValue] }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array((try? encoder.encode(answer)) ?? Data())
    }
}
