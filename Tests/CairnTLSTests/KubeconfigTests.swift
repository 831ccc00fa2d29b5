import CairnTestSupport
@testable import CairnTLS
import Foundation
import Testing

struct KubeconfigTests {
    /// 1. Quoting: plain where YAML reads the text back as the same string, else double-quoted.
    @Test(arguments: [
        ("https://127.0.0.1:6443", "https://127.0.0.1:6443"),
        ("cairn-admin", "cairn-admin"),
        ("true", "\"true\""),
        ("123", "\"123\""),
        ("a b", "\"a b\""),
        ("x\"y", "\"x\\\"y\""),
        ("", "\"\""),
    ])
    func scalars(_ input: String, _ expected: String) {
        #expect(Kubeconfig.scalar(input) == expected)
    }

    /// 2. kubectl reads the file: `config view --raw` shows the cluster, user and context, and
    /// `config current-context` is cairn. Run with every kubectl version on the machine.
    @Test(arguments: kubectlBinaries)
    func kubectlAcceptsTheFile(kubectl: String) throws {
        let dir = try temporaryDirectory("kubeconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pki = try ClusterPKI.loadOrCreate(stateDirectory: dir, servingNames: ClusterPKI.servingNames(hostname: "node-a"))
        let file = dir.appendingPathComponent("kubeconfig")
        try Kubeconfig(server: "https://127.0.0.1:6443", pki: pki, token: "s3cret-token").write(to: file)
        #expect(try ClusterPKITests.mode(file) == 0o600)

        let context = try runProgram(kubectl, ["--kubeconfig", file.path, "config", "current-context"], environment: scratchHome)
        #expect(context.status == 0, "\(context)")
        #expect(context.stdout == "cairn\n")

        let view = try runProgram(kubectl, ["config", "view", "--kubeconfig", file.path, "--raw", "-o", "json"], environment: scratchHome)
        #expect(view.status == 0, "\(view)")
        let doc = try JSONSerialization.jsonObject(with: Data(view.stdout.utf8)) as? [String: Any]
        let clusters = doc?["clusters"] as? [[String: Any]]
        let cluster = clusters?.first?["cluster"] as? [String: Any]
        #expect(clusters?.first?["name"] as? String == "cairn")
        #expect(cluster?["server"] as? String == "https://127.0.0.1:6443")
        #expect(cluster?["certificate-authority-data"] as? String == Data(pki.ca.certificatePEM.utf8).base64EncodedString())
        let user = (doc?["users"] as? [[String: Any]])?.first
        #expect(user?["name"] as? String == "cairn-admin")
        let creds = user?["user"] as? [String: Any]
        #expect(creds?["token"] as? String == "s3cret-token")
        #expect(creds?["client-certificate-data"] as? String == Data(pki.admin.certificatePEM.utf8).base64EncodedString())
        #expect(creds?["client-key-data"] as? String == Data(pki.admin.privateKeyPEM.utf8).base64EncodedString())
        let ctx = (doc?["contexts"] as? [[String: Any]])?.first
        #expect(ctx?["name"] as? String == "cairn")
        #expect((ctx?["context"] as? [String: Any])?["user"] as? String == "cairn-admin")
        #expect(doc?["current-context"] as? String == "cairn")
    }

    /// 3. A token-only kubeconfig (no client certificate) is read as well.
    @Test func tokenOnly() throws {
        let kubectl = try #require(kubectlBinaries.first, "kubectl is not installed")
        let dir = try temporaryDirectory("kubeconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("kubeconfig")
        try Kubeconfig(server: "https://localhost:7443", certificateAuthorityPEM: "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
                       userName: "ci", token: "abc").write(to: file)
        let view = try runProgram(kubectl, ["config", "view", "--kubeconfig", file.path, "--raw", "-o", "jsonpath={.users[0].user.token}"], environment: scratchHome)
        #expect(view.status == 0, "\(view)")
        #expect(view.stdout == "abc")
    }
}
