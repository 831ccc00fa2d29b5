import Foundation
import Testing

/// The seed's StatefulSet under another name, one replica.
let watchedStatefulSet = Seed.statefulSet
    .replacingOccurrences(of: "stateful-pvc", with: "web")
    .replacingOccurrences(of: "stateful-headless", with: "web-headless")

/// get -w, wait, rollout status, and cordon / uncordon / drain against one daemon per kubectl version.
@Suite(.serialized) struct WatchWaitAndNodes {
    @Test(arguments: Kubectl.all) func watchWaitCordonDrain(_ kubectl: Kubectl) throws {
        let c = try Cluster(kubectl)
        defer { c.stop() }

        // kubectl get -w: the rows a watch prints as the pod is created, scheduled and becomes Ready.
        // A pod that exists first shows when kubectl has listed and is watching: from then on the watch
        // sees every change from the change log, however fast the StatefulSet's pod becomes Ready.
        let marker = try c.manifest("marker.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: marker
            spec:
              containers:
              - name: c
                image: kubetm/init

            """)
        #expect(try c.ok(["apply", "-f", marker]) == "pod/marker created\n")
        let watch = try RunningKubectl(c, ["get", "pods", "-w"])
        defer { watch.stop() }
        #expect(watch.waitForOutput { $0.split(separator: "\n").contains { tableCells(String($0)).first == "marker" } },
                "get -w printed:\n\(watch.stdout)\(watch.stderr)")
        let manifest = try c.manifest("web.yaml", watchedStatefulSet)
        #expect(try c.ok(["apply", "-f", manifest]) == "service/web-headless created\nstatefulset.apps/web created\n")
        let sawRunning = watch.waitForOutput { out in
            out.split(separator: "\n").contains { tableCells(String($0)).prefix(4) == ["web-0", "1/1", "Running", "0"] }
        }
        #expect(sawRunning, "get -w printed:\n\(watch.stdout)\(watch.stderr)")
        let lines = watch.stdout.split(separator: "\n").map { tableCells(String($0)) }
        #expect(lines.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], "\(watch.stdout)")
        let web = lines.filter { $0.first == "web-0" }
        #expect(web.allSatisfy { $0.count == 5 }, "\(watch.stdout)")
        #expect(web.first?.prefix(3) == ["web-0", "0/1", "Pending"], "\(watch.stdout)")
        watch.stop()
        try c.ok(["delete", "pod", "marker"], timeout: 90)

        // kubectl wait, for a condition and for a JSONPath value; rollout status.
        #expect(try c.ok(["wait", "--for=condition=Ready", "pod/web-0", "--timeout=90s"], timeout: 120) == "pod/web-0 condition met\n")
        #expect(try c.ok(["wait", "--for=jsonpath={.status.phase}=Running", "pod/web-0", "--timeout=60s"], timeout: 90) == "pod/web-0 condition met\n")
        #expect(try c.ok(["wait", "--for=jsonpath={.status.phase}=Bound", "pvc", "--all", "--timeout=60s"], timeout: 90)
                    == "persistentvolumeclaim/volume-web-0 condition met\n")
        #expect(try c.ok(["rollout", "status", "statefulset/web", "--timeout=60s"], timeout: 90)
                    == "partitioned roll out complete: 1 new pods have been updated...\n")
        let timedOut = try c.fails(["wait", "--for=condition=Ready=False", "pod/web-0", "--timeout=2s"], timeout: 30)
        #expect(timedOut.stderr == "error: timed out waiting for the condition on pods/web-0\n", "\(timedOut)")

        // cordon / uncordon: SchedulingDisabled in the node table, as kubectl shows it.
        let node = try #require(c.jsonpath(["pod", "web-0"], "{.spec.nodeName}"))
        let other = node == "k8s-node1" ? "k8s-node2" : "k8s-node1"
        let version = c.jsonpath(["node", node], "{.status.nodeInfo.kubeletVersion}") ?? "?"
        #expect(try c.ok(["cordon", node]) == "node/\(node) cordoned\n")
        #expect(try c.ok(["cordon", node]) == "node/\(node) already cordoned\n")
        let status = [node: "Ready,SchedulingDisabled", other: "Ready"]
        #expect(cells(try c.ok(["get", "nodes"])) == cells("""
            NAME        STATUS                            ROLES    AGE   VERSION
            k8s-node1   \(status["k8s-node1"]!)   <none>   10s   \(version)
            k8s-node2   \(status["k8s-node2"]!)   <none>   10s   \(version)

            """))
        #expect(c.jsonpath(["node", node], "{.spec.unschedulable}") == "true")
        #expect(try c.ok(["uncordon", node]) == "node/\(node) uncordoned\n")
        #expect(c.jsonpath(["node", node], "{.spec.unschedulable}") == "")

        // drain: cordoned, the pod evicted through the Eviction subresource; the StatefulSet makes it
        // again and it waits, since its volume lives on the cordoned node; uncordon and it runs there.
        let uid = c.jsonpath(["pod", "web-0"], "{.metadata.uid}")
        let drain = try c.kubectlRun(["drain", node, "--timeout=90s"], timeout: 120)
        #expect(drain.status == 0, "\(drain)")
        #expect(drain.stdout == "node/\(node) cordoned\nevicting pod default/web-0\npod/web-0 evicted\nnode/\(node) drained\n", "\(drain)")
        try c.waitUntil("web-0 made again") {
            let now = c.jsonpath(["pod", "web-0"], "{.metadata.uid}")
            return now != nil && now != uid
        }
        try c.waitUntil("the FailedScheduling event for the new web-0") {
            (c.jsonpath(["events", "--field-selector", "involvedObject.name=web-0,reason=FailedScheduling"], "{.items[*].message}") ?? "")
                .contains("node(s) were unschedulable")
        }
        #expect(c.jsonpath(["pod", "web-0"], "{.status.phase}") == "Pending")
        #expect(try c.ok(["uncordon", node]) == "node/\(node) uncordoned\n")
        #expect(try c.ok(["wait", "--for=condition=Ready", "pod/web-0", "--timeout=120s"], timeout: 150) == "pod/web-0 condition met\n")
        #expect(c.jsonpath(["pod", "web-0"], "{.spec.nodeName}") == node)

        // A bare pod (no controller) is refused by drain, as kubectl refuses it.
        let bare = try c.manifest("bare.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: bare
            spec:
              nodeName: \(node)
              containers:
              - name: c
                image: kubetm/init

            """)
        #expect(try c.ok(["apply", "-f", bare]) == "pod/bare created\n")
        let refused = try c.fails(["drain", node, "--timeout=30s"], timeout: 60)
        // (kubectl 1.27 words it "Pods declare no controller".)
        #expect(refused.stderr.contains("no controller (use --force to override): default/bare"), "\(refused)")
        #expect(c.jsonpath(["pod", "bare"], "{.metadata.name}") == "bare")
        #expect(try c.ok(["uncordon", node]) == "node/\(node) uncordoned\n")

        try execStdinAndExitCode(c)
        try cascadeDeletion(c)
        try logsExplainAndRaw(c)

        // kubectl api-resources from discovery.
        let resources = try c.ok(["api-resources", "--api-group=apps"])
        let rows = resources.split(separator: "\n").map { tableCells(String($0)) }
        #expect(rows.first == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], "\(resources)")
        #expect(rows.contains(["statefulsets", "sts", "apps/v1", "true", "StatefulSet"]), "\(resources)")
        #expect(rows.contains(["replicasets", "rs", "apps/v1", "true", "ReplicaSet"]), "\(resources)")
    }

    /// kubectl exec -i: stdin reaches the command, its exit code comes back as kubectl's.
    func execStdinAndExitCode(_ c: Cluster) throws {
        let r = try c.kubectlRun(["exec", "-i", "web-0", "--", "sh", "-c", "cat > /applog/in.txt; echo to-stderr >&2; exit 3"], stdin: "hello\n")
        #expect(r.status == 3, "\(r)")
        #expect(r.stderr.contains("to-stderr\n"), "\(r)")
        #expect(r.stderr.hasSuffix("command terminated with exit code 3\n"), "\(r)")
        #expect(try c.ok(["exec", "web-0", "--", "cat", "/applog/in.txt"]) == "hello\n")
        // kubectl cp: tar through exec, both ways.
        let local = try c.file("copied.txt", "copied by kubectl cp\n")
        #expect(try c.ok(["cp", local, "web-0:/applog/copied.txt"]) == "")
        #expect(try c.ok(["exec", "web-0", "--", "cat", "/applog/copied.txt"]) == "copied by kubectl cp\n")
        try c.ok(["cp", "web-0:/applog/copied.txt", "\(c.dir)/back.txt"])
        #expect((try? String(contentsOfFile: "\(c.dir)/back.txt", encoding: .utf8)) == "copied by kubectl cp\n")
        // kubectl run: a Pod with no volumes.
        #expect(try c.ok(["run", "runner", "--image=busybox"]) == "pod/runner created\n")
        #expect(try c.ok(["wait", "--for=condition=Ready", "pod/runner", "--timeout=60s"], timeout: 90) == "pod/runner condition met\n")
        #expect(try c.ok(["delete", "pod", "runner"], timeout: 90) == "pod \"runner\" deleted\n")
        // Without -i the command reads end of file, as with kubectl on a real cluster.
        #expect(try c.ok(["exec", "web-0", "--", "cat"], stdin: "ignored") == "")
    }

    /// kubectl delete --cascade=orphan leaves the pods (their ownerReferences gone); foreground waits
    /// for them.
    func cascadeDeletion(_ c: Cluster) throws {
        func replicaSet(_ name: String) -> String {
            """
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata:
              name: \(name)
            spec:
              replicas: 2
              selector:
                matchLabels:
                  app: \(name)
              template:
                metadata:
                  labels:
                    app: \(name)
                spec:
                  containers:
                  - name: c
                    image: kubetm/init

            """
        }
        for name in ["orphans", "foreground"] {
            let f = try c.manifest("\(name).yaml", replicaSet(name))
            #expect(try c.ok(["apply", "-f", f]) == "replicaset.apps/\(name) created\n")
            try c.waitFor(["rs", name], "{.status.readyReplicas}", toBe: "2")
        }
        #expect(try c.ok(["delete", "rs", "orphans", "--cascade=orphan"]) == "replicaset.apps \"orphans\" deleted\n")
        let orphans = c.jsonpath(["pods", "-l", "app=orphans"], "{range .items[*]}{.metadata.name}:{.metadata.ownerReferences}{\"\\n\"}{end}") ?? ""
        #expect(orphans.split(separator: "\n").count == 2 && orphans.split(separator: "\n").allSatisfy { $0.hasSuffix(":") }, "\(orphans)")
        #expect(try c.ok(["delete", "rs", "foreground", "--cascade=foreground"], timeout: 120) == "replicaset.apps \"foreground\" deleted\n")
        #expect(c.jsonpath(["pods", "-l", "app=foreground"], "{.items[*].metadata.name}") == "")
        #expect(try c.fails(["get", "rs", "foreground"]).stderr == "Error from server (NotFound): replicasets.apps \"foreground\" not found\n")
        try c.ok(["delete", "pods", "-l", "app=orphans"], timeout: 120)
    }

    func logsExplainAndRaw(_ c: Cluster) throws {
        // Cairn's pods run no containers: kubectl logs gets a clear error, not an empty log.
        let logs = try c.fails(["logs", "web-0"])
        #expect(logs.stderr.hasPrefix("Error from server"), "\(logs)")
        #expect(logs.stdout == "")
        let explain = try c.ok(["explain", "statefulset.spec.volumeClaimTemplates"])
        #expect(explain.contains("KIND:") && explain.contains("StatefulSet"), "\(explain)")
        #expect(explain.contains("volumeClaimTemplates") && explain.contains("PersistentVolumeClaim"), "\(explain)")
        #expect(try c.ok(["get", "--raw", "/readyz"]) == "ok")
        let version = try jsonObject(try c.ok(["get", "--raw", "/version"]))
        #expect(version["major"] as? String == "1" && version["minor"] as? String == "32", "\(version)")
        let pvcs = try jsonObject(try c.ok(["get", "--raw", "/api/v1/namespaces/default/persistentvolumeclaims?limit=1"]))
        #expect((pvcs["items"] as? [Any])?.count == 1)
    }
}
