import Foundation
import Testing

/// The seed lesson's ReplicaSet (2-2), pinned to k8s-node1 by nodeSelector while its claim was
/// provisioned on k8s-node2: the pod stays Pending and the scheduler says why, as kube-scheduler does.
@Suite(.serialized) struct ReplicaSetNodeAffinity {
    @Test(arguments: Kubectl.all) func replicaSetNodeAffinityConflict(_ kubectl: Kubectl) throws {
        // k8s-node2 has more free storage, so the Immediate "fast" claim is provisioned there.
        let c = try Cluster(kubectl, extraArgs: ["--node-capacity", "k8s-node1=5Gi", "--node-capacity", "k8s-node2=20Gi"])
        defer { c.stop() }
        let pvc = try c.manifest("pvc.yaml", Seed.pvc)
        let rs = try c.manifest("replicaset.yaml", Seed.replicaSet)

        #expect(try c.ok(["apply", "-f", pvc]) == "persistentvolumeclaim/replica-pvc1 created\n")
        #expect(try c.ok(["wait", "--for=jsonpath={.status.phase}=Bound", "pvc/replica-pvc1", "--timeout=90s"], timeout: 120)
                    == "persistentvolumeclaim/replica-pvc1 condition met\n")
        #expect(c.jsonpath(["pv"], "{.items[0].spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}") == "k8s-node2")

        #expect(try c.ok(["apply", "-f", rs]) == "replicaset.apps/replica-pvc created\n")
        let message = "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict."
        try c.waitUntil("the FailedScheduling event") {
            (c.jsonpath(["events", "--field-selector", "reason=FailedScheduling"], "{.items[*].message}") ?? "").contains(message)
        }
        #expect(cells(try c.ok(["get", "pods"])) == cells("""
            NAME                READY   STATUS    RESTARTS   AGE
            replica-pvc-abcde   0/1     Pending   0          10s

            """))
        #expect(cells(try c.ok(["get", "rs"])) == cells("""
            NAME          DESIRED   CURRENT   READY   AGE
            replica-pvc   1         1         0       10s

            """))
        #expect(cells(try c.ok(["get", "pods", "-o", "wide"])) == cells("""
            NAME                READY   STATUS    RESTARTS   AGE   IP       NODE     NOMINATED NODE   READINESS GATES
            replica-pvc-abcde   0/1     Pending   0          10s   <none>   <none>   <none>           <none>

            """))
        let pod = try #require(c.jsonpath(["pods", "-l", "type=web2"], "{.items[0].metadata.name}"))
        let describe = try c.ok(["describe", "pod", pod])
        #expect(describeHas(describe, "Status", "Pending"), "\(describe)")
        #expect(describeHas(describe, "Node-Selectors", "kubernetes.io/hostname=k8s-node1"), "\(describe)")
        #expect(describeHas(describe, "Controlled By", "ReplicaSet/replica-pvc"), "\(describe)")
        #expect(describe.contains("  Warning  FailedScheduling  "), "\(describe)")
        #expect(describe.contains("default-scheduler  \(message)"), "\(describe)")
        let events = try c.ok(["get", "events", "--field-selector", "involvedObject.name=\(pod)"])
        let rows = events.split(separator: "\n").map { tableCells(String($0)) }
        #expect(rows.first == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], "\(events)")
        #expect(rows.dropFirst().contains { $0.dropFirst() == ["Warning", "FailedScheduling", "pod/\(pod)", message] }, "\(events)")

        // Point the template at the volume's node and replace the stuck pod: the new one runs there,
        // and the lesson's `touch /applog/server.log` works.
        #expect(try c.ok(["patch", "rs", "replica-pvc", "--type=merge", "-p",
                          #"{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"k8s-node2"}}}}}"#])
                    == "replicaset.apps/replica-pvc patched\n")
        #expect(try c.ok(["delete", "pod", pod]) == "pod \"\(pod)\" deleted\n")
        try c.waitUntil("a new replica") {
            let names = c.jsonpath(["pods", "-l", "type=web2"], "{.items[*].metadata.name}") ?? ""
            return !names.isEmpty && !names.contains(pod)
        }
        let running = try #require(c.jsonpath(["pods", "-l", "type=web2"], "{.items[0].metadata.name}"))
        #expect(try c.ok(["wait", "--for=condition=Ready", "pod/\(running)", "--timeout=90s"], timeout: 120) == "pod/\(running) condition met\n")
        #expect(c.jsonpath(["pod", running], "{.spec.nodeName}") == "k8s-node2")
        #expect(try c.ok(["exec", running, "--", "touch", "/applog/server.log"]) == "")
        #expect(try c.ok(["exec", running, "--", "ls", "/applog"]) == "server.log\n")
        #expect(cells(try c.ok(["get", "rs"])) == cells("""
            NAME          DESIRED   CURRENT   READY   AGE
            replica-pvc   1         1         1       10s

            """))
    }
}
