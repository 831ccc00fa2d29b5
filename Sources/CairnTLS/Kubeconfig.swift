import Foundation

/// A kubeconfig with one cluster, one user and one context, all named so `kubectl --kubeconfig F`
/// works with no other set-up: cluster and context `cairn`, current-context `cairn`.
public struct Kubeconfig: Sendable, Hashable {
    public var server: String
    public var certificateAuthorityPEM: String
    public var userName: String
    /// The client certificate and its key (PEM); both or neither.
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    public var token: String?
    public var namespace: String?

    public static let clusterName = "cairn"
    public static let contextName = "cairn"

    public init(server: String, certificateAuthorityPEM: String, userName: String = "cairn-admin",
                clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil, token: String? = nil, namespace: String? = nil) {
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.userName = userName
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.token = token
        self.namespace = namespace
    }

    /// The admin kubeconfig for a cluster's certificates: client certificate, and the bearer token too
    /// when one is given (kubectl then sends both; either authenticates).
    public init(server: String, pki: ClusterPKI, token: String? = nil) {
        self.init(server: server, certificateAuthorityPEM: pki.ca.certificatePEM, userName: ClusterPKI.adminUser,
                  clientCertificatePEM: pki.admin.certificatePEM, clientKeyPEM: pki.admin.privateKeyPEM, token: token)
    }

    /// The file's text, in the layout `kubectl config view --raw` prints.
    public var yaml: String {
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        var lines = [
            "apiVersion: v1",
            "clusters:",
            "- cluster:",
            "    certificate-authority-data: \(b64(certificateAuthorityPEM))",
            "    server: \(Self.scalar(server))",
            "  name: \(Self.clusterName)",
            "contexts:",
            "- context:",
            "    cluster: \(Self.clusterName)",
        ]
        if let namespace { lines.append("    namespace: \(Self.scalar(namespace))") }
        lines += [
            "    user: \(Self.scalar(userName))",
            "  name: \(Self.contextName)",
            "current-context: \(Self.contextName)",
            "kind: Config",
            "preferences: {}",
            "users:",
            "- name: \(Self.scalar(userName))",
            "  user:",
        ]
        if let clientCertificatePEM, let clientKeyPEM {
            lines.append("    client-certificate-data: \(b64(clientCertificatePEM))")
            lines.append("    client-key-data: \(b64(clientKeyPEM))")
        }
        if let token { lines.append("    token: \(Self.scalar(token))") }
        if clientCertificatePEM == nil && token == nil { lines[lines.count - 1] = "  user: {}" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar: plain when it cannot be read as anything but this string, else double-quoted.
    static func scalar(_ s: String) -> String {
        let plainSafe = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "-_./:@".contains($0) }
            && !s.hasPrefix("-") && !s.hasPrefix(":") && !s.hasPrefix("@") && !s.contains(": ")
            && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(s.lowercased())
            && Double(s) == nil
        if plainSafe { return s }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\x%02X", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Writes the file mode 0600 (it holds a private key or a token).
    public func write(to url: URL) throws {
        try PrivateFiles.write(yaml, to: url)
    }
}
