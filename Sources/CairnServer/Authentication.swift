import CairnCore
import CairnTLS
import Foundation

/// kube-apiserver's authenticators for the TCP listener, in its order: a client certificate (already
/// verified against the cluster CA in the TLS handshake) names the user by its CN and groups by its
/// O; else a bearer token equal to `--token-file`'s; anything else is 401 Unauthorized, anonymous
/// requests included (kube-apiserver with --anonymous-auth=false). The Unix socket needs none: its
/// mode (0600, root) is its authentication.
public struct Authenticator: Sendable {
    public let token: String?

    public init(token: String?) { self.token = token }

    /// The user `token` authenticates as (a token-file user of kube-apiserver's).
    public static let tokenUser = RequestUser(name: "cairn-token", groups: ["system:masters", "system:authenticated"])

    public func authenticate(authorization: String?, peerCertificateDER: [UInt8]?) -> Result<RequestUser, Status> {
        if let der = peerCertificateDER {
            guard let identity = try? ClientIdentity(certificateDER: der) else { return .failure(.unauthorized()) }
            return .success(RequestUser(name: identity.user, groups: identity.groups + ["system:authenticated"]))
        }
        if let token, let given = Self.bearer(authorization), Self.constantTimeEqual(given, token) {
            return .success(Self.tokenUser)
        }
        return .failure(.unauthorized())
    }

    /// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive, as Go's is).
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Compares without leaking, through timing, how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}
