import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The API and CLI against a live daemon: shapes, errors, and bad input that must never half-apply or
/// take the daemon down.
@Suite(.serialized) struct APITests {
    @Test func restPathsListsAndStatusErrors() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        // Nodes and classes exist from the start.
        let nodes = try http(d.socket, "GET", "/api/v1/nodes")
        #expect(nodes.status == 200)
        let nodeList = try json(nodes.body)
        #expect(nodeList["kind"] as? String == "NodeList")
        let names = (nodeList["items"] as? [[String: Any]])?.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
        #expect(names == ["k8s-node1", "k8s-node2"])
        let node = try json(try http(d.socket, "GET", "/api/v1/nodes/k8s-node1").body)
        #expect(((node["metadata"] as? [String: Any])?["labels"] as? [String: String])?["kubernetes.io/hostname"] == "k8s-node1")
        #expect(((node["status"] as? [String: Any])?["allocatable"] as? [String: String])?["ephemeral-storage"] != nil)

        let classes = try d.cairn(["get", "sc"])
        #expect(classes.stdout.contains("standard (default)   cairn.io/local-path"))

        // A missing object is a Status, with Kubernetes' wording.
        let missing = try http(d.socket, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/nope")
        #expect(missing.status == 404)
        let status = try json(missing.body)
        #expect(status["kind"] as? String == "Status")
        #expect(status["message"] as? String == "persistentvolumeclaims \"nope\" not found")
        #expect(status["reason"] as? String == "NotFound")
        #expect(try http(d.socket, "GET", "/api/v1/widgets").status == 404)

        // Create, then a stale update gets 409 Conflict.
        let body = #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#
        let created = try http(d.socket, "POST", "/api/v1/namespaces/default/persistentvolumeclaims", body: body)
        #expect(created.status == 201, "\(created.body)")
        let obj = try json(created.body)
        let meta = try #require(obj["metadata"] as? [String: Any])
        #expect(meta["uid"] as? String != nil)
        #expect((obj["spec"] as? [String: Any])?["storageClassName"] as? String == "standard", "default class applied")
        #expect((meta["finalizers"] as? [String]) == ["kubernetes.io/pvc-protection"])
        // The volume controller annotates a waiting claim once (Cairn's record of its Pending reason);
        // let it settle so the updates below race only with each other.
        try d.waitUntil("the WaitForFirstConsumer event") {
            try d.cairn(["get", "events"]).stdout.contains("WaitForFirstConsumer")
        }
        let current = try json(try http(d.socket, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/data").body)
        _ = try #require((current["metadata"] as? [String: Any])?["resourceVersion"] as? String)
        let again = try http(d.socket, "POST", "/api/v1/namespaces/default/persistentvolumeclaims", body: body)
        #expect(again.status == 409)
        #expect(try json(again.body)["reason"] as? String == "AlreadyExists")
        // Someone else changes it (a read-modify-write of the whole object, as `kubectl replace` does)...
        var edited = current
        var editedMeta = try #require(edited["metadata"] as? [String: Any])
        editedMeta["labels"] = ["a": "b"]
        edited["metadata"] = editedMeta
        let labelled = String(decoding: try JSONSerialization.data(withJSONObject: edited), as: UTF8.self)
        let replaced = try http(d.socket, "PUT", "/api/v1/namespaces/default/persistentvolumeclaims/data", body: labelled)
        #expect(replaced.status == 200, "\(replaced.body)")
        // A replacement that drops a defaulted field changes an immutable spec, as Kubernetes answers.
        let partial = #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#
        let forbidden = try http(d.socket, "PUT", "/api/v1/namespaces/default/persistentvolumeclaims/data", body: partial)
        #expect(forbidden.status == 422)
        #expect((try json(forbidden.body)["message"] as? String)?.contains("spec is immutable after creation") == true)
        // ...so the same resourceVersion is now stale.
        let stale = try http(d.socket, "PUT", "/api/v1/namespaces/default/persistentvolumeclaims/data", body: labelled)
        #expect(stale.status == 409)
        #expect(try json(stale.body)["message"] as? String ==
                "Operation cannot be fulfilled on persistentvolumeclaims \"data\": the object has been modified; please apply your changes to the latest version and try again")

        // An invalid object is 422 with every cause.
        let invalid = try http(d.socket, "POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                               body: #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"Bad_Name"},"spec":{"resources":{"requests":{"storage":"-1"}}}}"#)
        #expect(invalid.status == 422)
        let inv = try json(invalid.body)
        #expect(inv["reason"] as? String == "Invalid")
        #expect(((inv["details"] as? [String: Any])?["causes"] as? [Any])?.count == 3)
        // Malformed JSON and wrong types.
        #expect(try http(d.socket, "POST", "/api/v1/namespaces/default/persistentvolumeclaims", body: "{not json").status == 400)
        let wrongType = try http(d.socket, "POST", "/apis/apps/v1/namespaces/default/statefulsets",
                                 body: #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"x"},"spec":{"replicas":"many","selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c"}]}}}}"#)
        #expect(wrongType.status == 422)
        #expect((try json(wrongType.body)["message"] as? String)?.contains("spec.replicas") == true)
        // A huge body is refused and the daemon keeps serving.
        let huge = "{\"a\":\"" + String(repeating: "x", count: 4 * 1024 * 1024) + "\"}"
        let tooBig = try http(d.socket, "POST", "/api/v1/namespaces/default/persistentvolumeclaims", body: huge)
        #expect(tooBig.status == 413)
        #expect(try http(d.socket, "GET", "/version").status == 200)

        // Nothing partial was stored: only "data" exists.
        let pvcs = try d.cairn(["get", "pvc", "-o", "name"])
        #expect(pvcs.stdout == "persistentvolumeclaim/data\n")
    }

    @Test func applyValidatesEverythingFirstAndAppliesNothingOnError() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let good = """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: good
        spec:
          accessModes: [ReadWriteOnce]
          resources:
            requests:
              storage: 1Gi
        """
        let bad = """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: bad
        spec:
          accessModes: [ReadWriteOnce]
          resources:
            requests:
              storage: lots
          colour: blue
        """
        let file = try manifestFile(good + "\n---\n" + bad + "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n", in: d.dir)
        let r = try d.cairn(["apply", "-f", file])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        #expect(r.stderr.contains("m.yaml:19:7: PersistentVolumeClaim \"bad\": spec.resources.requests.storage: Invalid value: \"lots\""), "\(r.stderr)")
        #expect(r.stderr.contains("m.yaml:20:3: PersistentVolumeClaim \"bad\": unknown field \"spec.colour\""), "\(r.stderr)")
        #expect(r.stderr.contains("no matches for kind \"Deployment\" in version \"apps/v1\""), "\(r.stderr)")
        #expect(try d.cairn(["get", "pvc", "-o", "name"]).stdout == "", "nothing applied")

        // Malformed YAML names the file and line.
        let broken = try manifestFile("apiVersion: v1\nkind: [PersistentVolumeClaim\n", in: d.dir, name: "broken.yaml")
        let b = try d.cairn(["apply", "-f", broken])
        #expect(b.status == 1)
        #expect(b.stderr.contains("broken.yaml:"), "\(b.stderr)")

        // The good one alone applies; applying it again is "unchanged", a change is "configured".
        let goodFile = try manifestFile(good, in: d.dir, name: "good.yaml")
        #expect(try d.cairn(["apply", "-f", goodFile]).stdout == "persistentvolumeclaim/good created\n")
        #expect(try d.cairn(["apply", "-f", goodFile]).stdout == "persistentvolumeclaim/good unchanged\n")
        let labelled = try manifestFile(good.replacingOccurrences(of: "  name: good", with: "  name: good\n  labels:\n    tier: db"), in: d.dir, name: "good2.yaml")
        #expect(try d.cairn(["apply", "-f", labelled]).stdout == "persistentvolumeclaim/good configured\n")
        // Immutable fields are refused by the server's dry run: nothing changes.
        let grown = try manifestFile(good.replacingOccurrences(of: "[ReadWriteOnce]", with: "[ReadWriteOncePod]"), in: d.dir, name: "good3.yaml")
        let g = try d.cairn(["apply", "-f", grown])
        #expect(g.status == 1)
        #expect(g.stderr.contains("Forbidden"), "\(g.stderr)")

        // Reading from stdin works, and the daemon still serves.
        let ns = try d.cairn(["apply", "-f", "-"], stdin: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n")
        #expect(ns.stdout == "namespace/team-a created\n")
    }

    @Test func getPrintsKubectlColumns() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let file = try manifestFile(SeedManifests.pvc, in: d.dir)
        _ = try d.cairn(["apply", "-f", file])
        try d.waitUntil("claim bound") { try claimPhase(d, "replica-pvc1")?.phase == "Bound" }
        let out = try d.cairn(["get", "pvc"]).stdout
        let header = out.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") == "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS AGE")
        let row = try #require(tableRows(out).first)
        #expect(row[0] == "replica-pvc1")
        #expect(row[1] == "Bound")
        #expect(row[2].hasPrefix("pvc-"))
        #expect(row[3] == "1G")
        #expect(row[4] == "RWO")
        #expect(row[5] == "fast")
        // Several types, -A, and -o json List shape.
        let multi = try d.cairn(["get", "pvc,pv", "-A"]).stdout
        #expect(multi.contains("NAMESPACE"))
        #expect(multi.contains("persistentvolumeclaim/replica-pvc1"))
        #expect(multi.contains("persistentvolume/pvc-"))
        let list = try json(try d.cairn(["get", "pvc", "-o", "json"]).stdout)
        #expect(list["kind"] as? String == "List")
        #expect((list["items"] as? [Any])?.count == 1)
        let yaml = try d.cairn(["get", "pvc", "replica-pvc1", "-o", "yaml"]).stdout
        #expect(yaml.hasPrefix("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n"))
        let describe = try d.cairn(["describe", "pvc", "replica-pvc1"]).stdout
        #expect(describe.contains("Binding History:"))
        #expect(describe.contains("ProvisioningSucceeded"))
        // Unknown types and missing objects: one line on stderr, non-zero exit.
        let unknown = try d.cairn(["get", "widgets"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: the server doesn't have a resource type \"widgets\"\n")
        let nf = try d.cairn(["get", "pvc", "nope"])
        #expect(nf.status == 1)
        #expect(nf.stderr == "Error from server (NotFound): persistentvolumeclaims \"nope\" not found\n")
    }

    /// `--listen` serves the same API over HTTPS with the CA and serving certificate made in
    /// <state-dir>/tls; a request authenticates with the bearer token or the admin client
    /// certificate, and an anonymous one gets kube-apiserver's 401.
    @Test func httpsListenerAuthenticatesTokenAndCertificate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-e2e-token-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokenFile = "\(dir)/token"
        try "s3cret-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let port = try freeTCPPort()
        let d = try TestDaemon(extraArgs: ["--listen", "127.0.0.1:\(port)", "--token-file", tokenFile])
        defer { d.stop() }
        let tls = "\(d.stateDir)/tls"
        func curl(_ extra: [String], scheme: String = "https") throws -> (status: Int, body: String) {
            let r = try runProgram("/usr/bin/curl", ["-sS", "--max-time", "20", "--cacert", "\(tls)/ca.crt", "-w", "\n%{http_code}"] + extra
                            + ["\(scheme)://127.0.0.1:\(port)/api/v1/nodes"])
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }
        var anonymous = try curl([])
        for _ in 0..<50 where anonymous.status == 0 {
            usleep(100_000)
            anonymous = try curl([])
        }
        #expect(anonymous.status == 401)
        #expect(try json(anonymous.body)["reason"] as? String == "Unauthorized")
        #expect(try curl(["-H", "Authorization: Bearer wrong"]).status == 401)
        let byToken = try curl(["-H", "Authorization: Bearer s3cret-token"])
        #expect(byToken.status == 200)
        #expect(try json(byToken.body)["kind"] as? String == "NodeList")
        let byCertificate = try curl(["--cert", "\(tls)/admin.crt", "--key", "\(tls)/admin.key"])
        #expect(byCertificate.status == 200, "\(byCertificate)")
        // Plain HTTP on the TLS port gets no API answer.
        #expect(try curl([], scheme: "http").status != 200)
        // The Unix socket needs no token (its mode, 0600, is the access control).
        #expect(try http(d.socket, "GET", "/api/v1/nodes").status == 200)
        var st = stat()
        #expect(stat(d.socket, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat("\(tls)/admin.key", &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test func clientReportsAMissingDaemonQuickly() throws {
        let start = Date()
        let r = try runProgram(cairnBinary, ["get", "pods", "--socket", "/tmp/cairn-no-such-dir/cairn.sock"], timeout: 10)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(r.status == 1)
        #expect(r.stderr.contains("/tmp/cairn-no-such-dir/cairn.sock"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func secondDaemonOnSameStateDirIsRefused() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let r = try runProgram(cairnBinary, d.serveArguments, timeout: 30)
        #expect(r.status != 0)
        #expect(r.stderr.contains("another cairn serve"), "\(r.stderr)")
        #expect(try d.cairn(["version"]).status == 0)
    }
}
