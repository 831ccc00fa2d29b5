import CairnControl
import CairnCore
import Testing

private let nodes = [Fx.node("node1"), Fx.node("node2")]

private let agentCases: [Fx.Case] = {
    var cases: [Fx.Case] = []
    func add(_ name: String, _ s: ClusterSnapshot, _ expected: [String], settles: Bool = true) {
        cases.append(Fx.Case(number: cases.count + 1, name: name, snapshot: s, expected: expected, settles: settles))
    }
    let data = Fx.boundPair("data", node: "node1")
    let logs = Fx.boundPair("logs", node: "node1", storage: "2Gi", modes: ["ReadOnlyMany"])
    let local: Set<String> = ["node1"]

    add("a scheduled pod with bound claims starts", Fx.snapshot(nodes: nodes, volumes: [data.volume, logs.volume], claims: [data.claim, logs.claim],
                                                                pods: [Fx.pod("web-0", claims: ["data", "logs"], node: "node1")], localNodes: local), [
        "startPod default/web-0 data=pvc-uid-data@node1:/data/node1/pvc-uid-data:1073741824 logs=pvc-uid-logs@node1:/data/node1/pvc-uid-logs:2147483648:ro",
    ])
    add("a readOnly claim source mounts read-only", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim],
                                                                pods: [Fx.pod("web-0", claims: ["data"], node: "node1", readOnlyClaims: ["data"])], localNodes: local), [
        "startPod default/web-0 data=pvc-uid-data@node1:/data/node1/pvc-uid-data:1073741824:ro",
    ])
    add("a pod without volumes starts", Fx.snapshot(nodes: nodes, pods: [Fx.pod("plain", node: "node1")], localNodes: local), ["startPod default/plain "])
    add("a claim not yet bound: wait", Fx.snapshot(nodes: nodes, claims: [Fx.claim("data")], pods: [Fx.pod("web-0", claims: ["data"], node: "node1")],
                                                   localNodes: local), [])
    add("a claim bound to a missing volume: wait", Fx.snapshot(nodes: nodes, claims: [data.claim], pods: [Fx.pod("web-0", claims: ["data"], node: "node1")],
                                                               localNodes: local), [])
    add("another host's node", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim],
                                           pods: [Fx.pod("web-0", claims: ["data"], node: "node2")], localNodes: local), [])
    add("a running pod is left alone", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim],
                                                   pods: [Fx.pod("web-0", claims: ["data"], node: "node1", phase: "Running")], localNodes: local), [])
    add("an unscheduled pod is not the agent's", Fx.snapshot(nodes: nodes, pods: [Fx.pod("web-0")], localNodes: local), [])
    add("a deleted pod is stopped, skipping what is gone", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim, logs.claim], pods: [
        Fx.pod("web-0", claims: ["data", "logs", "gone"], node: "node1", phase: "Running", deleting: true),
    ], localNodes: local), [
        "stopPod default/web-0 data=pvc-uid-data@node1:/data/node1/pvc-uid-data:1073741824",
    ])
    add("a deleted pod that never reached a node is removed", Fx.snapshot(nodes: nodes, pods: [Fx.pod("web-0", claims: ["data"], deleting: true)],
                                                                          localNodes: local), [
        "delete Pod default/web-0",
    ])
    add("a deleted pod on another host's node", Fx.snapshot(nodes: nodes, pods: [Fx.pod("web-0", node: "node2", deleting: true)], localNodes: local), [])
    return cases
}()

@Suite("NodeAgentPlanner")
struct NodeAgentPlannerTests {
    @Test(arguments: agentCases)
    func plans(_ c: Fx.Case) {
        #expect(Fx.summaries(NodeAgentPlanner.plan(c.snapshot)) == c.expected)
    }

    @Test(arguments: agentCases)
    func idempotent(_ c: Fx.Case) {
        let after = Fx.apply(NodeAgentPlanner.plan(c.snapshot), to: c.snapshot)
        #expect(Fx.summaries(NodeAgentPlanner.plan(after)) == [])
    }

    @Test func mountCarriesClaimIdentity() throws {
        let data = Fx.boundPair("data", node: "node1", storage: "5Gi")
        let s = Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [Fx.pod("web-0", claims: ["data"], node: "node1")])
        guard case .startPod(_, let mounts)? = NodeAgentPlanner.plan(s).first else { Issue.record("no startPod"); return }
        #expect(mounts == [PodVolumeMount(volumeName: "data", claimName: "data", claimUID: "uid-data", persistentVolume: "pvc-uid-data",
                                          node: "node1", backingPath: "/data/node1/pvc-uid-data", capacityBytes: 5 << 30, readOnly: false)])
    }
}
