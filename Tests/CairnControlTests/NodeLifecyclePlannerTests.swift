import CairnControl
import CairnCore
import Testing

private func unserved(_ s: ClusterSnapshot, _ node: String) -> ClusterSnapshot {
    var s = s
    s.observed.servedNodes[node] = nil
    return s
}

private func notReady(_ node: Node) -> Node {
    var n = node
    n.status?.conditions = [NodeCondition(type: "Ready", status: .unknown, reason: NodeLifecyclePlanner.unknownReason,
                                          message: NodeLifecyclePlanner.unknownMessage, lastHeartbeatTime: Fx.time(0),
                                          lastTransitionTime: Fx.time(100))]
    var spec = NodeSpec()
    spec.taints = [Taint(key: Taint.unreachableKey, effect: .noSchedule, timeAdded: Fx.time(100)),
                   Taint(key: Taint.unreachableKey, effect: .noExecute, timeAdded: Fx.time(100))]
    n.spec = spec
    return n
}

private func readyPod(_ name: String, node: String) -> Pod {
    var p = Fx.pod(name, node: node, phase: .running)
    p.status?.conditions = [PodCondition(type: "Ready", status: .true, lastTransitionTime: Fx.time(5))]
    return p
}

private func summary(_ actions: [Action]) -> [String] {
    actions.map { a in
        switch a {
        case .update(let n as Node):
            let ready = n.condition("Ready")
            let taints = (n.spec?.taints ?? []).map { "\($0.key):\($0.effect.rawValue)" }.joined(separator: ",")
            return "update Node \(n.name) Ready=\(ready?.status.rawValue ?? "-")/\(ready?.reason ?? "") taints=[\(taints)]"
        case .update(let p as Pod):
            return "update Pod \(p.name) Ready=\(p.condition("Ready")?.status.rawValue ?? "-")"
        default:
            return Fx.summary(a)
        }
    }
}

@Suite("NodeLifecyclePlanner")
struct NodeLifecyclePlannerTests {
    static let cases: [Fx.Case] = {
        var cases: [Fx.Case] = []
        func add(_ name: String, _ s: ClusterSnapshot, _ expected: [String]) {
            cases.append(Fx.Case(number: cases.count + 1, name: name, snapshot: s, expected: expected))
        }
        let nodes = [Fx.node("node1"), Fx.node("node2")]
        // 1. Served and Ready: nothing to write (an idle daemon writes nothing).
        add("served and Ready", Fx.snapshot(nodes: nodes), [])
        // 2. A node no agent serves: Unknown, tainted, its pods not ready.
        add("a node nobody serves", unserved(Fx.snapshot(nodes: nodes, pods: [readyPod("a", node: "node2"), readyPod("b", node: "node1")]), "node2"), [
            "update Node node2 Ready=Unknown/NodeStatusUnknown taints=[node.kubernetes.io/unreachable:NoSchedule,node.kubernetes.io/unreachable:NoExecute]",
            "event Normal NodeNotReady node node2: Node node2 status is now: NodeNotReady",
            "update Pod a Ready=False",
        ])
        // 3. A stored node outside this daemon's --node set.
        add("a stored node of another --node set", Fx.snapshot(nodes: nodes, localNodes: ["node1"]), [
            "update Node node2 Ready=Unknown/NodeStatusUnknown taints=[node.kubernetes.io/unreachable:NoSchedule,node.kubernetes.io/unreachable:NoExecute]",
            "event Normal NodeNotReady node node2: Node node2 status is now: NodeNotReady",
        ])
        // 4. Served again: Ready, taints gone.
        add("served again", Fx.snapshot(nodes: [Fx.node("node1"), notReady(Fx.node("node2"))]), [
            "update Node node2 Ready=True/KubeletReady taints=[]",
            "event Normal NodeReady node node2: Node node2 status is now: NodeReady",
        ])
        // 5. Still unserved and already marked: nothing.
        add("already marked", unserved(Fx.snapshot(nodes: [Fx.node("node1"), notReady(Fx.node("node2"))]), "node2"), [])
        return cases
    }()

    @Test(arguments: cases)
    func plans(_ c: Fx.Case) {
        #expect(summary(NodeLifecyclePlanner.plan(c.snapshot)) == c.expected)
    }

    @Test func theSchedulerPlacesNothingOnAnUnreachableNode() {
        let pvc = Fx.claim("data", storageClass: "local")
        let local = Fx.storageClass("local", waitForConsumer: true)
        let s = Fx.snapshot(nodes: [notReady(Fx.node("node1")), notReady(Fx.node("node2"))], classes: [local], claims: [pvc],
                            pods: [Fx.pod("web-0", claims: ["data"])])
        #expect(Fx.summaries(Scheduler.plan(s)).last ==
                "event Warning FailedScheduling pod default/web-0: 0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.")
    }
}

@Suite("NamespacePlanner")
struct NamespacePlannerTests {
    static func namespace(_ name: String, deleting: Bool, finalizer: Bool = true) -> Namespace {
        var ns = Namespace(metadata: ObjectMeta(name: name))
        ns.metadata.uid = "uid-ns-\(name)"
        if deleting { ns.metadata.deletionTimestamp = Fx.time(1) }
        ns.spec = finalizer ? .object(["finalizers": .array([.string("kubernetes")])]) : .object([:])
        ns.setTypeMeta()
        return ns
    }

    @Test func aDeletedNamespaceHasItsContentsDeletedThenItsFinalizerRemoved() {
        var s = Fx.snapshot(claims: [Fx.claim("data", namespace: "team")], pods: [Fx.pod("web", namespace: "team"), Fx.pod("other")])
        s.namespaces = [Self.namespace("team", deleting: true), Self.namespace("default", deleting: false)]
        #expect(Fx.summaries(NamespacePlanner.plan(s)) == ["delete PersistentVolumeClaim team/data", "delete Pod team/web"])
        s.claims = []
        s.pods = s.pods.filter { $0.namespace != "team" }
        guard case .update(let ns as Namespace)? = NamespacePlanner.plan(s).first else { Issue.record("no finalize"); return }
        #expect(ns.spec?["finalizers"] == nil)
        s.namespaces[0] = ns
        #expect(NamespacePlanner.plan(s).isEmpty)
    }

    @Test func aNamespaceNotBeingDeletedIsLeftAlone() {
        var s = Fx.snapshot(pods: [Fx.pod("web", namespace: "team")])
        s.namespaces = [Self.namespace("team", deleting: false)]
        #expect(NamespacePlanner.plan(s).isEmpty)
    }
}
