import CairnTestSupport
import CairnTLS
import Foundation
import Hummingbird
import HummingbirdTLS
import NIOCore
import NIOSSL
import Logging
import ServiceLifecycle
import Testing

/// A request context that keeps the connection, so a handler can read the client's certificate.
struct PeerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The PKI's files served over HTTPS by Hummingbird's TLS support (NIOSSL), as `cairn serve` will:
/// curl trusts the server with `--cacert`, and kubectl with the written kubeconfig authenticates by
/// its client certificate (or its token) and reaches the server.
@Suite(.serialized) struct TLSServerTests {
    static func tlsConfiguration(_ pki: ClusterPKI) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCertificatePath.path).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKeyPath.path, format: .pem)))
        // kube-apiserver's VerifyClientCertIfGiven: a certificate, when sent, must chain to the CA;
        // requests without one go on to token authentication.
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .file(pki.caCertificatePath.path)
        return tls
    }

    /// Serves until `body` returns. The handler answers who the caller is: the client certificate's
    /// user and groups, or the bearer token, or 401 as kube-apiserver answers anonymous requests.
    static func serve(_ pki: ClusterPKI, token: String, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router(context: PeerContext.self)
        router.get("/version") { request, context -> Response in
            let handler = try? await context.channel.pipeline.handler(type: NIOSSLHandler.self).get()
            if let peer = handler?.peerCertificate, let identity = try? ClientIdentity(certificateDER: peer.toDERBytes()) {
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"user":"\#(identity.user)","groups":"\#(identity.groups.joined(separator: ","))","major":"1","minor":"32","gitVersion":"v1.32.0"}"#)))
            }
            if request.headers[.authorization] == "Bearer \(token)" {
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"user":"token","major":"1","minor":"32","gitVersion":"v1.32.0"}"#)))
            }
            return Response(status: .unauthorized, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#)))
        }
        let port = PortBox()
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tlsConfiguration(pki)),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
        let services = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test-server")))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let deadline = Date().addingTimeInterval(30)
            while port.value == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(port.value != 0, "the test server did not start")
            // Shut down gracefully whatever the body does; cancelling a running server aborts NIO.
            var failure: (any Error)?
            do { try await body(port.value) } catch { failure = error }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            if let failure { throw failure }
        }
    }

    final class PortBox: @unchecked Sendable {
        private let lock = NSLock()
        private var port = 0
        func set(_ p: Int) { lock.lock(); port = p; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return port }
    }

    @Test func curlAndKubectlTalkToTheServer() async throws {
        let dir = try temporaryDirectory("tls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pki = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: ClusterPKI.servingNames(hostname: "node-a"))
        try await Self.serve(pki, token: "t0ken") { port in
            // 1. curl trusts the serving certificate through the CA alone, by IP and by name.
            for host in ["127.0.0.1", "localhost"] {
                let anonymous = try await runDetached("/usr/bin/curl", ["-sS", "--max-time", "20", "--cacert", pki.caCertificatePath.path,
                                                          "--resolve", "localhost:\(port):127.0.0.1", "https://\(host):\(port)/version"])
                #expect(anonymous.status == 0, "\(anonymous)")
                #expect(anonymous.stdout.contains(#""reason":"Unauthorized""#), "\(anonymous)")
            }
            // 2. curl with the admin client certificate is cairn-admin in system:masters.
            let withCert = try await runDetached("/usr/bin/curl", ["-sS", "--max-time", "20", "--cacert", pki.caCertificatePath.path,
                                                     "--cert", pki.adminCertificatePath.path, "--key", pki.adminKeyPath.path,
                                                     "https://127.0.0.1:\(port)/version"])
            #expect(withCert.stdout.contains(#""user":"cairn-admin","groups":"system:masters""#), "\(withCert)")
            // 3. Without the CA, curl refuses the server.
            let untrusted = try await runDetached("/usr/bin/curl", ["-sS", "--max-time", "20", "https://127.0.0.1:\(port)/version"])
            #expect(untrusted.status != 0)

            // 4. kubectl with the written kubeconfig: client certificate, then token only.
            let kubectl = try #require(kubectlBinaries.first, "kubectl is not installed")
            let certConfig = dir.appendingPathComponent("admin.kubeconfig")
            try Kubeconfig(server: "https://127.0.0.1:\(port)", pki: pki).write(to: certConfig)
            let raw = try await runDetached(kubectl, ["--kubeconfig", certConfig.path, "get", "--raw", "/version"])
            #expect(raw.status == 0, "\(raw)")
            #expect(raw.stdout.contains(#""user":"cairn-admin""#), "\(raw)")

            let tokenConfig = dir.appendingPathComponent("token.kubeconfig")
            try Kubeconfig(server: "https://localhost:\(port)", certificateAuthorityPEM: pki.ca.certificatePEM, userName: "ci", token: "t0ken")
                .write(to: tokenConfig)
            let byToken = try await runDetached(kubectl, ["--kubeconfig", tokenConfig.path, "get", "--raw", "/version"])
            #expect(byToken.status == 0, "\(byToken)")
            #expect(byToken.stdout.contains(#""user":"token""#), "\(byToken)")

            // 5. A client certificate from another CA is refused in the handshake.
            let other = try ClusterPKI.loadOrCreate(stateDirectory: dir.appendingPathComponent("other"), servingNames: ["127.0.0.1"])
            let foreign = try await runDetached("/usr/bin/curl", ["-sS", "--max-time", "20", "--cacert", pki.caCertificatePath.path,
                                                    "--cert", other.adminCertificatePath.path, "--key", other.adminKeyPath.path,
                                                    "https://127.0.0.1:\(port)/version"])
            #expect(foreign.status != 0, "\(foreign)")
        }
    }
}
