import CairnAPI
import CairnCore
import CairnTLS
import Foundation

/// What a kubeconfig for this daemon holds: its CA and admin client certificate, and the URL of its
/// HTTPS listener.
public struct ClusterAccess: Sendable {
    public var pki: ClusterPKI
    /// `https://HOST:PORT` of `--listen` (a wildcard address is given as 127.0.0.1).
    public var server: String

    public init(pki: ClusterPKI, server: String) {
        self.pki = pki
        self.server = server
    }

    /// The URL clients on this host use for `--listen HOST:PORT`.
    public static func serverURL(host: String, port: Int) -> String {
        let reachable = ["", "0.0.0.0", "::", "[::]", "*"].contains(host) ? "127.0.0.1" : host
        let bracketed = reachable.contains(":") && !reachable.hasPrefix("[") ? "[\(reachable)]" : reachable
        return "https://\(bracketed):\(port)"
    }

    /// The admin kubeconfig, pointing at `server` (default: the listener's URL).
    public func kubeconfig(server override: String? = nil) -> Kubeconfig {
        Kubeconfig(server: override ?? server, pki: pki)
    }
}

/// GET /cairn/v1/kubeconfig on the socket (root only): the admin kubeconfig as YAML, which
/// `cairn kubeconfig` prints or writes. Over TCP it is refused, so a token never buys a certificate.
enum KubeconfigView {
    static func answer(_ request: APIRequest, access: ClusterAccess?) throws -> APIResponse {
        guard request.method == "GET" else { throw Status.methodNotAllowed("the kubeconfig view is read-only") }
        guard request.user == .socketOwner else {
            throw Status(code: 403, reason: .forbidden, message: "the kubeconfig is handed out on the daemon's Unix socket only")
        }
        guard let access else {
            throw Status.badRequest("""
                this daemon serves no HTTPS listener, so there is nothing for kubectl to connect to: \
                start cairn serve with --listen HOST:PORT (for example --listen 127.0.0.1:6443)
                """)
        }
        let server = request.query["server"].flatMap { $0.isEmpty ? nil : $0 }
        if let server {
            guard let url = URL(string: server), url.scheme == "https", url.host != nil else {
                throw Status.badRequest("--server \(server): expected an https:// URL, for example https://127.0.0.1:6443")
            }
        }
        return APIResponse(status: 200, body: access.kubeconfig(server: server).yaml, contentType: "application/yaml")
    }
}
