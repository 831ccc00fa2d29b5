import SwiftASN1
import X509

/// Who a verified client certificate says the caller is, as kube-apiserver's x509 authenticator
/// reads it: the subject's CommonName is the user name, each Organization a group.
///
/// The TLS layer has already checked the chain against the cluster CA (NIOSSL with
/// `certificateVerification: .optionalVerification` and the CA as trust root, kube-apiserver's
/// VerifyClientCertIfGiven); this only reads the names, from the leaf's DER bytes
/// (`NIOSSLCertificate.toDERBytes()`).
public struct ClientIdentity: Sendable, Hashable {
    public var user: String
    public var groups: [String]

    public init(user: String, groups: [String]) {
        self.user = user
        self.groups = groups
    }

    public init(certificateDER der: [UInt8]) throws {
        let cert = try Certificate(derEncoded: der)
        var user = ""
        var groups: [String] = []
        for rdn in cert.subject {
            for attribute in rdn {
                let text = String(describing: attribute.value)
                switch attribute.type {
                case .RDNAttributeType.commonName: user = text
                case .RDNAttributeType.organizationName: groups.append(text)
                default: break
                }
            }
        }
        guard !user.isEmpty else {
            throw ClientIdentityError(problem: "the client certificate's subject has no CommonName (the user name)")
        }
        self.init(user: user, groups: groups)
    }

    /// Members of system:masters may do anything, as on a kubeadm cluster.
    public var isClusterAdmin: Bool { groups.contains(ClusterPKI.adminGroup) }
}

public struct ClientIdentityError: Error, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }
}
