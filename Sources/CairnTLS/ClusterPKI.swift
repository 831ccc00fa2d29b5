import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate and its private key, as PEM text (what NIOSSL, curl and kubectl read).
public struct CertifiedKey: Sendable {
    public var certificate: Certificate
    public var privateKey: Certificate.PrivateKey

    public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
    public var privateKeyPEM: String { (try? privateKey.serializeAsPEM().pemString) ?? "" }
}

/// The cluster's certificates, kept in `<state-dir>/tls/` as k3s and kind keep theirs:
///
/// | file | what |
/// |---|---|
/// | `ca.crt`, `ca.key` | the cluster CA (ECDSA P-256, 10 years), made once |
/// | `server.crt`, `server.key` | the serving certificate, for 127.0.0.1, ::1, localhost, the host name and any extra SANs |
/// | `admin.crt`, `admin.key` | a client certificate for `CN=cairn-admin, O=system:masters` |
///
/// Every file is mode 0600 in a 0700 directory. On a later start the files are loaded again; a
/// leaf certificate is issued anew (by the same CA, so kubeconfigs stay valid) when it no longer
/// covers the SANs asked for, was not issued by this CA, or has less than 90 days left.
public struct ClusterPKI: Sendable {
    public var directory: URL
    public var ca: CertifiedKey
    public var server: CertifiedKey
    public var admin: CertifiedKey

    public var caCertificatePath: URL { directory.appendingPathComponent("ca.crt") }
    public var serverCertificatePath: URL { directory.appendingPathComponent("server.crt") }
    public var serverKeyPath: URL { directory.appendingPathComponent("server.key") }
    public var adminCertificatePath: URL { directory.appendingPathComponent("admin.crt") }
    public var adminKeyPath: URL { directory.appendingPathComponent("admin.key") }

    public static let adminUser = "cairn-admin"
    public static let adminGroup = "system:masters"
    static let caLifetime: TimeInterval = 10 * 365 * 86_400
    static let leafLifetime: TimeInterval = 365 * 86_400
    static let renewBefore: TimeInterval = 90 * 86_400

    /// The subject alternative names of a serving certificate: loopback, localhost, the host name,
    /// then `extra` (IP addresses and DNS names alike; each is told apart by parsing it).
    public static func servingNames(hostname: String, extra: [String] = []) -> [String] {
        var names = ["127.0.0.1", "::1", "localhost"]
        for n in [hostname] + extra where !n.isEmpty && !names.contains(n) { names.append(n) }
        return names
    }

    /// Loads the certificates from `stateDirectory/tls`, creating what is missing or stale.
    public static func loadOrCreate(stateDirectory: URL, servingNames names: [String], now: Date = Date()) throws -> ClusterPKI {
        let dir = stateDirectory.appendingPathComponent("tls")
        try PrivateFiles.makeDirectory(dir)
        let ca: CertifiedKey
        if let existing = try load(dir, "ca") {
            ca = existing
        } else {
            ca = try issueCA(now: now)
            try store(ca, dir, "ca")
        }
        let caName = ca.certificate.subject

        var server = try load(dir, "server")
        if server == nil || !isCurrent(server!, issuer: caName, now: now) || !covers(server!.certificate, names) {
            server = try issueServing(names: names, ca: ca, now: now)
            try store(server!, dir, "server")
        }
        var admin = try load(dir, "admin")
        if admin == nil || !isCurrent(admin!, issuer: caName, now: now) {
            admin = try issueClient(commonName: adminUser, organizations: [adminGroup], ca: ca, now: now)
            try store(admin!, dir, "admin")
        }
        return ClusterPKI(directory: dir, ca: ca, server: server!, admin: admin!)
    }

    // MARK: issuing

    static func validity(_ now: Date, _ lifetime: TimeInterval) -> (Date, Date) {
        // Backdated an hour so a client whose clock is slightly behind accepts it at once.
        (now.addingTimeInterval(-3600), now.addingTimeInterval(lifetime))
    }

    static func issueCA(now: Date) throws -> CertifiedKey {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("cairn-ca")
            OrganizationName("cairn")
        }
        let (from, to) = validity(now, caLifetime)
        let publicKey = Certificate.PublicKey(key.publicKey)
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: from, notValidAfter: to, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return CertifiedKey(certificate: cert, privateKey: Certificate.PrivateKey(key))
    }

    static func generalNames(_ names: [String]) -> [GeneralName] {
        names.map { n in
            if let bytes = IPAddressBytes.parse(n) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))) }
            return .dnsName(n)
        }
    }

    static func issueServing(names: [String], ca: CertifiedKey, now: Date) throws -> CertifiedKey {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("cairn") }
        return try issueLeaf(key: key, subject: subject, ca: ca, now: now, usage: .serverAuth, sans: generalNames(names))
    }

    /// A client certificate as kube-apiserver reads one: CN is the user, each O a group.
    public static func issueClient(commonName: String, organizations: [String], ca: CertifiedKey, now: Date = Date()) throws -> CertifiedKey {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            for o in organizations { OrganizationName(o) }
            CommonName(commonName)
        }
        return try issueLeaf(key: key, subject: subject, ca: ca, now: now, usage: .clientAuth, sans: [])
    }

    static func issueLeaf(key: P256.Signing.PrivateKey, subject: DistinguishedName, ca: CertifiedKey, now: Date,
                          usage: ExtendedKeyUsage.Usage, sans: [GeneralName]) throws -> CertifiedKey {
        let (from, to) = validity(now, leafLifetime)
        let publicKey = Certificate.PublicKey(key.publicKey)
        let caKeyID = try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: from, notValidAfter: to, issuer: ca.certificate.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([usage])
                SubjectKeyIdentifier(hash: publicKey)
                if let caKeyID { AuthorityKeyIdentifier(keyIdentifier: caKeyID) }
                if !sans.isEmpty { SubjectAlternativeNames(sans) }
            },
            issuerPrivateKey: ca.privateKey)
        return CertifiedKey(certificate: cert, privateKey: Certificate.PrivateKey(key))
    }

    // MARK: checking what is on disk

    static func isCurrent(_ leaf: CertifiedKey, issuer: DistinguishedName, now: Date) -> Bool {
        leaf.certificate.issuer == issuer && leaf.certificate.notValidAfter.timeIntervalSince(now) > renewBefore
            && leaf.certificate.publicKey == leaf.privateKey.publicKey
    }

    static func covers(_ cert: Certificate, _ names: [String]) -> Bool {
        guard let sans = try? cert.extensions.subjectAlternativeNames else { return names.isEmpty }
        let have = Set(sans)
        return generalNames(names).allSatisfy { have.contains($0) }
    }

    static func load(_ dir: URL, _ name: String) throws -> CertifiedKey? {
        let certURL = dir.appendingPathComponent("\(name).crt"), keyURL = dir.appendingPathComponent("\(name).key")
        let fm = FileManager.default
        guard fm.fileExists(atPath: certURL.path), fm.fileExists(atPath: keyURL.path) else { return nil }
        do {
            let cert = try Certificate(pemEncoded: String(contentsOf: certURL, encoding: .utf8))
            let key = try Certificate.PrivateKey(pemEncoded: String(contentsOf: keyURL, encoding: .utf8))
            return CertifiedKey(certificate: cert, privateKey: key)
        } catch {
            throw TLSFileError(path: certURL.deletingLastPathComponent().path, file: name,
                               problem: "cannot be read as a PEM certificate and P-256 key (\(error)); move \(name).crt and \(name).key aside to have new ones made")
        }
    }

    static func store(_ pair: CertifiedKey, _ dir: URL, _ name: String) throws {
        try PrivateFiles.write(pair.privateKeyPEM, to: dir.appendingPathComponent("\(name).key"))
        try PrivateFiles.write(pair.certificatePEM, to: dir.appendingPathComponent("\(name).crt"))
    }
}

/// A certificate file that exists but cannot be used.
public struct TLSFileError: Error, CustomStringConvertible {
    public var path: String
    public var file: String
    public var problem: String
    public var description: String { "\(path)/\(file): \(problem)" }
}

/// IPv4 and IPv6 literals to their network-order bytes (for IP subject alternative names).
enum IPAddressBytes {
    static func parse(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// Files only the daemon's user may read: written whole to a temporary name, fsync'ed, mode 0600,
/// then renamed, so a crash never leaves half a key.
enum PrivateFiles {
    static func makeDirectory(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(url.path, 0o700) == 0 else { throw posixError("chmod", url.path) }
    }

    static func write(_ text: String, to url: URL) throws {
        let tmp = url.path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw posixError("open", tmp) }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw posixError("fchmod", tmp) }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw posixError("write", tmp) }
            done += n
        }
        guard fsync(fd) == 0 else { throw posixError("fsync", tmp) }
        guard rename(tmp, url.path) == 0 else { throw posixError("rename", url.path) }
    }

    static func posixError(_ call: String, _ path: String) -> TLSFileError {
        TLSFileError(path: (path as NSString).deletingLastPathComponent, file: (path as NSString).lastPathComponent,
                     problem: "\(call) failed: \(String(cString: strerror(errno)))")
    }
}
