import CairnAPIScenarios
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The request table over a live daemon's socket.
struct SocketTransport: APITransport {
    let socket: String
    func send(_ method: String, _ path: String, body: String?) async throws -> (status: Int, body: String) {
        try http(socket, method, path, body: body)
    }
}

/// The control plane as a user meets it after a restart, a change of node set, a second daemon, and
/// through watch: each test fails on the daemon of before "Control plane v2".
@Suite(.serialized) struct ControlPlaneTests {
    @Test func theRequestTableOverTheSocket() async throws {
        let d = try TestDaemon()
        defer { d.stop() }
        for scenario in APIScenarios.all {
            let problems = try await scenario.run(SocketTransport(socket: d.socket))
            #expect(problems.isEmpty, "\(scenario.name):\n\(problems.joined(separator: "\n"))")
        }
    }

    /// A client that resumes from its resourceVersion after a daemon restart misses nothing and sees
    /// nothing twice; one too far behind the change log gets 410 Expired.
    @Test func watchesResumeAcrossARestartAndExpire() throws {
        let d = try TestDaemon(extraArgs: ["--change-log-retention", "20"])
        defer { d.stop() }
        let services = APIScenarios.services
        let from = APIScenarios.rv(try http(d.socket, "GET", services).body)
        _ = try http(d.socket, "POST", services, body: APIScenarios.service("before"))
        try d.restart()
        _ = try http(d.socket, "POST", services, body: APIScenarios.service("after"))
        let watch = try http(d.socket, "GET", "\(services)?watch=1&resourceVersion=\(from)&timeoutSeconds=1")
        let seen = APIScenarios.events(watch.body).map { "\($0.type) \($0.name)" }
        #expect(seen == ["ADDED before", "ADDED after"], "\(watch.body)")
        for i in 0..<40 { _ = try http(d.socket, "POST", services, body: APIScenarios.service("s\(i)")) }
        let expired = try http(d.socket, "GET", "\(services)?watch=1&resourceVersion=\(from)&timeoutSeconds=1")
        let e = APIScenarios.events(expired.body)
        #expect(e.first?.type == "ERROR" && e.first?.object["code"] == .int(410) && e.first?.object["reason"]?.stringValue == "Expired",
                "\(expired.body)")
        // `cairn get -w` lists, then prints each change, until its --request-timeout.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: cairnBinary)
        watcher.arguments = ["get", "svc", "-w", "--request-timeout", "6s"]
        watcher.environment = ["CAIRN_SOCKET": d.socket]
        let out = Pipe()
        watcher.standardOutput = out
        try watcher.run()
        try d.waitUntil("the watcher listed") { (try? http(d.socket, "GET", services).status) == 200 }
        usleep(1_500_000)
        _ = try http(d.socket, "POST", services, body: APIScenarios.service("watched"))
        watcher.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.hasPrefix("NAME"), "\(printed)")
        #expect(printed.contains("\nwatched "), "\(printed)")
    }

    /// Restarted with another --node set, the nodes nobody serves go NotReady (Unknown, tainted), their
    /// pods not ready, and nothing new is scheduled there; back with the right set, all is Ready.
    @Test func nodesNobodyServesGoNotReady() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        #expect(try d.cairn(["apply", "-f", "\(packageRoot)/examples/seed/statefulset.yaml"]).status == 0)
        #expect(try d.cairn(["scale", "statefulset", "stateful-pvc", "--replicas=3"]).status == 0)
        try d.waitUntil("three pods ready") { try readyPods(d) == 3 }
        try d.restart(nodes: ["k8s-node1"])
        try d.waitUntil("k8s-node2 NotReady") { try nodeReady(d, "k8s-node2") == "Unknown" }
        let node = try json(try http(d.socket, "GET", "/api/v1/nodes/k8s-node2").body)
        let ready = ((node["status"] as? [String: Any])?["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Ready" }
        #expect(ready?["reason"] as? String == "NodeStatusUnknown")
        #expect(ready?["message"] as? String == "Kubelet stopped posting node status.")
        let taints = ((node["spec"] as? [String: Any])?["taints"] as? [[String: Any]])?.compactMap { $0["effect"] as? String }
        #expect(taints == ["NoSchedule", "NoExecute"])
        try d.waitUntil("pods on k8s-node2 not ready") {
            try podsOn(d, "k8s-node2").allSatisfy { !$0.ready } && !(try podsOn(d, "k8s-node2").isEmpty)
        }
        #expect(d.log().contains("stored nodes that this daemon does not serve"))
        // A new pod goes to the node that is served.
        #expect(try d.cairn(["apply", "-f", "\(packageRoot)/examples/seed/pvc.yaml"]).status == 0)
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"late"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#
        #expect(try http(d.socket, "POST", "/api/v1/namespaces/default/pods", body: pod).status == 201)
        try d.waitUntil("the new pod scheduled") { try podsOn(d, "k8s-node1").contains { $0.name == "late" } }
        try d.restart(nodes: ["k8s-node1", "k8s-node2"])
        try d.waitUntil("k8s-node2 Ready again") { try nodeReady(d, "k8s-node2") == "True" }
        try d.waitUntil("every pod ready again") { try readyPods(d) == 4 }
    }

    /// A second daemon may not take a live daemon's socket, and never removes it.
    /// A stop (SIGTERM) leaves nothing mounted: pod volumes, node filesystems, and the nodev,nosuid
    /// bind mounts the daemon put on its data roots.
    @Test func aStopLeavesNothingMounted() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let manifest = "\(packageRoot)/examples/seed/statefulset.yaml"
        #expect(try d.cairn(["apply", "-f", manifest]).status == 0)
        try d.waitUntil("a pod of the seed StatefulSet Running") {
            try d.cairn(["get", "pods", "--no-headers"]).stdout.contains("Running")
        }
        func mountsUnder(_ dir: String) -> [String] {
            let table = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
            return table.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count > 1 && fields[1].hasPrefix(dir + "/") ? String(fields[1]) : nil
            }
        }
        #expect(!mountsUnder(d.dir).isEmpty, "the daemon mounted its nodes")
        d.terminate()
        #expect(mountsUnder(d.dir) == [], "mounts left after SIGTERM")
    }

    @Test func aSecondDaemonCannotTakeALiveSocket() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let other = "\(d.dir)/other-state"
        let second = try runProgram(cairnBinary, ["serve", "--state-dir", other, "--socket", d.socket, "--node", "x=\(d.dir)/x"], timeout: 60)
        #expect(second.status != 0)
        #expect(second.stderr.contains("socket \(d.socket) is in use by pid \(d.pid)"), "\(second)")
        #expect(try d.cairn(["version"]).status == 0, "the first daemon still answers on its socket")
    }

    /// Files a pod writes while it runs are its own: a restart under it is a remount, and retention
    /// still verifies.
    @Test func aRestartIsNotAPodLeaving() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        #expect(try d.cairn(["apply", "-f", "\(packageRoot)/examples/seed/statefulset.yaml"]).status == 0)
        try d.waitUntil("pod ready") { try readyPods(d) == 1 }
        #expect(try d.cairn(["scale", "statefulset", "stateful-pvc", "--replicas=0"]).status == 0)
        try d.waitUntil("pod gone") { try readyPods(d) == 0 }
        #expect(try d.cairn(["scale", "statefulset", "stateful-pvc", "--replicas=1"]).status == 0)
        try d.waitUntil("pod back") { try readyPods(d) == 1 }
        #expect(try d.cairn(["exec", "stateful-pvc-0", "--", "sh", "-c", "echo a > /applog/a; echo b > /applog/b"]).status == 0)
        try d.restart()
        try d.waitUntil("pod ready after the restart") { try readyPods(d) == 1 }
        let verify = try d.cairn(["verify", "retention", "statefulset", "stateful-pvc"])
        #expect(verify.status == 0, "\(verify)")
        let history = try d.cairn(["describe", "pvc", "volume-stateful-pvc-0"]).stdout
        #expect(history.contains("remounted"), "\(history)")
        #expect(try d.cairn(["exec", "stateful-pvc-0", "--", "cat", "/applog/b"]).stdout == "b\n")
    }

    /// `cairn apply` of the same manifests twice: the second time everything is unchanged.
    @Test func applyingTwiceIsUnchanged() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        for file in ["statefulset.yaml", "pvc.yaml", "replicaset.yaml"] {
            let path = "\(packageRoot)/examples/seed/\(file)"
            #expect(try d.cairn(["apply", "-f", path]).status == 0)
            let again = try d.cairn(["apply", "-f", path])
            #expect(again.status == 0, "\(again)")
            let words = again.stdout.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" }
            #expect(!words.isEmpty && words.allSatisfy { $0 == "unchanged" }, "\(file): \(again.stdout)")
        }
    }

    /// A pod volume of a type Cairn does not serve is refused with why, not as a typo.
    @Test func otherVolumeTypesAreExplained() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let manifest = "\(d.dir)/emptydir.yaml"
        try """
        apiVersion: v1
        kind: Pod
        metadata:
          name: scratch
        spec:
          containers:
          - name: c
            image: busybox
          volumes:
          - name: tmp
            emptyDir: {}
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        let r = try d.cairn(["apply", "-f", manifest])
        #expect(r.status == 1)
        #expect(r.stderr.contains("spec.volumes[0].emptyDir"), "\(r)")
        #expect(r.stderr.contains("Cairn serves only persistentVolumeClaim volumes"), "\(r)")
        #expect(!r.stderr.contains("unknown field"), "\(r)")
    }
}

private func items(_ d: TestDaemon, _ path: String) throws -> [[String: Any]] {
    try json(try http(d.socket, "GET", path).body)["items"] as? [[String: Any]] ?? []
}

private func podsOn(_ d: TestDaemon, _ node: String) throws -> [(name: String, ready: Bool)] {
    try items(d, "/api/v1/namespaces/default/pods").compactMap { p in
        guard (p["spec"] as? [String: Any])?["nodeName"] as? String == node else { return nil }
        let conditions = (p["status"] as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
        let ready = conditions.contains { $0["type"] as? String == "Ready" && $0["status"] as? String == "True" }
        return ((p["metadata"] as? [String: Any])?["name"] as? String ?? "", ready)
    }
}

private func readyPods(_ d: TestDaemon) throws -> Int {
    try podsOn(d, "k8s-node1").filter(\.ready).count + podsOn(d, "k8s-node2").filter(\.ready).count
}

private func nodeReady(_ d: TestDaemon, _ node: String) throws -> String? {
    let n = try json(try http(d.socket, "GET", "/api/v1/nodes/\(node)").body)
    return ((n["status"] as? [String: Any])?["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Ready" }?["status"] as? String
}
