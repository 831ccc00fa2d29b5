import CairnTestSupport
@testable import CairnTLS
import Foundation
import Testing
import X509

struct ClusterPKITests {
    static func mode(_ url: URL) throws -> Int {
        let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attrs[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// 1. First start makes the CA, serving and admin certificates, each file 0600 in a 0700 directory.
    @Test func firstStartCreatesEverythingPrivate() throws {
        let dir = try temporaryDirectory("pki")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pki = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: ClusterPKI.servingNames(hostname: "node-a"))
        #expect(try Self.mode(pki.directory) == 0o700)
        for f in ["ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key"] {
            #expect(try Self.mode(pki.directory.appendingPathComponent(f)) == 0o600, "\(f)")
        }
        let sans = try #require(try pki.server.certificate.extensions.subjectAlternativeNames)
        #expect(sans.contains(.dnsName("localhost")))
        #expect(sans.contains(.dnsName("node-a")))
        #expect(sans.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
        #expect(sans.contains(.ipAddress(.init(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        #expect(try pki.ca.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(pki.server.certificate.issuer == pki.ca.certificate.subject)
        let identity = try ClientIdentity(certificateDER: pki.admin.certificate.serializeAsPEM().derBytes)
        #expect(identity == ClientIdentity(user: "cairn-admin", groups: ["system:masters"]))
        #expect(identity.isClusterAdmin)
    }

    /// 2. A later start loads the same certificates; a new SAN re-issues only the serving certificate,
    /// from the same CA, so kubeconfigs already written stay valid.
    @Test func laterStartsReuseAndReissueOnlyWhatChanged() throws {
        let dir = try temporaryDirectory("pki")
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ClusterPKI.servingNames(hostname: "node-a")
        let first = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names)
        let second = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names)
        #expect(second.ca.certificate == first.ca.certificate)
        #expect(second.server.certificate == first.server.certificate)
        #expect(second.admin.certificate == first.admin.certificate)

        let third = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names + ["10.1.2.3", "cairn.example"])
        #expect(third.ca.certificate == first.ca.certificate)
        #expect(third.admin.certificate == first.admin.certificate)
        #expect(third.server.certificate != first.server.certificate)
        let sans = try #require(try third.server.certificate.extensions.subjectAlternativeNames)
        #expect(sans.contains(.dnsName("cairn.example")))
        #expect(sans.contains(.ipAddress(.init(contentBytes: [10, 1, 2, 3]))))
    }

    /// 3. A leaf close to expiry is renewed at start; the CA is kept.
    @Test func leafNearExpiryIsRenewed() throws {
        let dir = try temporaryDirectory("pki")
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ClusterPKI.servingNames(hostname: "node-a")
        let past = Date().addingTimeInterval(-300 * 86_400)
        let old = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names, now: past)
        let now = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names)
        #expect(now.ca.certificate == old.ca.certificate)
        #expect(now.server.certificate != old.server.certificate)
        #expect(now.admin.certificate != old.admin.certificate)
        #expect(now.server.certificate.notValidAfter > Date().addingTimeInterval(300 * 86_400))
    }

    /// 4. A damaged file is an error naming the file and what to do, never silently replaced.
    @Test func damagedFileIsAClearError() throws {
        let dir = try temporaryDirectory("pki")
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ClusterPKI.servingNames(hostname: "node-a")
        let pki = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names)
        try "not a certificate".write(to: pki.directory.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        do {
            _ = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: names)
            Issue.record("a damaged ca.crt was accepted")
        } catch let e as TLSFileError {
            #expect(e.file == "ca")
            #expect(e.description.contains("move ca.crt and ca.key aside"))
        }
    }
}
