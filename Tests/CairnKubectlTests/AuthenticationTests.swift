import Foundation
import Testing

/// The HTTPS listener as kube-apiserver's authenticators answer: the kubeconfig's client certificate,
/// a bearer token from --token-file, and 401 for a wrong one.
@Suite(.serialized) struct Authentication {
    @Test(arguments: Kubectl.all) func clientCertificateAndToken(_ kubectl: Kubectl) throws {
        let token = "cairn-test-\(UUID().uuidString)"
        let c = try Cluster(kubectl) { dir in
            try "\(token)\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
            return ["--token-file", "\(dir)/token"]
        }
        defer { c.stop() }
        // The written kubeconfig: cluster, user and context all named cairn, the client certificate.
        #expect(try c.ok(["config", "current-context"]) == "cairn\n")
        #expect(try c.ok(["get", "ns", "default", "-o", "name"]) == "namespace/default\n")

        let view = try c.ok(["config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}"])
        let ca = try #require(Data(base64Encoded: view))
        let caFile = "\(c.dir)/ca.crt"
        try ca.write(to: URL(fileURLWithPath: caFile))
        let empty = try c.file("empty-kubeconfig", "")
        let server = "https://127.0.0.1:\(c.port)"
        let base = ["--kubeconfig", empty, "--server", server, "--certificate-authority", caFile]

        // A bearer token from --token-file.
        let withToken = try c.kubectlRun(base + ["--token", token, "get", "pvc"])
        #expect(withToken.status == 0 && withToken.stderr == "No resources found in default namespace.\n", "\(withToken)")
        // A wrong token: 401, which kubectl reports as it does for a real cluster. (With no credentials
        // at all kubectl asks for a username and password before it sends anything.)
        let refused = try c.kubectlRun(base + ["--token", "wrong", "get", "pvc"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.hasSuffix("error: You must be logged in to the server (the server has asked for the client to provide credentials)\n")
                || refused.stderr.hasSuffix("error: You must be logged in to the server (Unauthorized)\n"), "\(refused)")
    }
}
