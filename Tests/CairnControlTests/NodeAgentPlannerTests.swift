import CairnControl
import CairnCore
import Testing

private let nodes = [Fx.node("node1"), Fx.node("node2")]
private let dataMount = "data=pvc-uid-data@node1:/data/node1/pvc-uid-data:1073741824"

/// A pod whose volumes the agent has mounted (an observation, as the daemon records one).
private func mounted(_ s: ClusterSnapshot, _ pod: Pod, _ mounts: [PodVolumeMount]) -> ClusterSnapshot {
    var s = s
    s.observed.mounted[NamespacedName(pod)] = NodeObservations.MountedPod(uid: pod.uid, mounts: mounts)
    return s
}

private func dataVolume(_ pair: (claim: PersistentVolumeClaim, volume: PersistentVolume)) -> PodVolumeMount {
    PodVolumeMount(volumeName: "data", claimName: "data", claimUID: pair.claim.uid, persistentVolume: pair.volume.name, node: "node1",
                   backingPath: pair.volume.spec.local?.path ?? "", capacityBytes: 1 << 30, readOnly: false)
}

private func started(_ pod: Pod) -> Pod {
    var p = pod
    p.status?.startTime = Fx.time(5)
    return p
}

private func ready(_ pod: Pod) -> Pod {
    var p = started(pod)
    p.status?.phase = .running
    p.status?.conditions = [PodCondition(type: "Ready", status: .true, lastTransitionTime: Fx.time(5)),
                            PodCondition(type: "ContainersReady", status: .true, lastTransitionTime: Fx.time(5))]
    return p
}

private let agentCases: [Fx.Case] = {
    var cases: [Fx.Case] = []
    func add(_ name: String, _ s: ClusterSnapshot, _ expected: [String], settles: Bool = true) {
        cases.append(Fx.Case(number: cases.count + 1, name: name, snapshot: s, expected: expected, settles: settles))
    }
    let data = Fx.boundPair("data", node: "node1")
    let logs = Fx.boundPair("logs", node: "node1", storage: "2Gi", modes: ["ReadOnlyMany"])
    let local: Set<String> = ["node1"]
    let web = Fx.pod("web-0", claims: ["data"], node: "node1")

    // 1. Rule 1: mount, as the pod's arrival.
    add("a scheduled pod with bound claims is mounted", Fx.snapshot(nodes: nodes, volumes: [data.volume, logs.volume], claims: [data.claim, logs.claim],
                                                                    pods: [Fx.pod("web-0", claims: ["data", "logs"], node: "node1")], localNodes: local), [
        "mountPod default/web-0 arrival \(dataMount) logs=pvc-uid-logs@node1:/data/node1/pvc-uid-logs:2147483648:ro",
    ])
    // 2.
    add("a readOnly claim source mounts read-only", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim],
                                                                pods: [Fx.pod("web-0", claims: ["data"], node: "node1", readOnlyClaims: ["data"])], localNodes: local), [
        "mountPod default/web-0 arrival \(dataMount):ro",
    ])
    // 3.
    add("a pod without volumes is mounted too (nothing to mount)", Fx.snapshot(nodes: nodes, pods: [Fx.pod("plain", node: "node1")], localNodes: local),
        ["mountPod default/plain arrival"])
    // 4.
    add("a claim not yet bound: wait", Fx.snapshot(nodes: nodes, claims: [Fx.claim("data")], pods: [web], localNodes: local), [])
    // 5.
    add("a claim bound to a missing volume: wait", Fx.snapshot(nodes: nodes, claims: [data.claim], pods: [web], localNodes: local), [])
    // 6.
    add("another host's node", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim],
                                           pods: [Fx.pod("web-0", claims: ["data"], node: "node2")], localNodes: local), [])
    // 7. Rule 2: mounted, so Running and Ready, and the history says mounted.
    add("mounted: Running and Ready, history mounted", mounted(Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [web],
                                                                          localNodes: local), web, [dataVolume(data)]), [
        "update Pod default/web-0 node=node1 PodScheduled=True phase=Running Ready=True",
        "history mounted default/data volume=pvc-uid-data node=node1 pod=web-0",
    ])
    // 8. After a restart: a pod that had started before is remounted, not arriving.
    add("a started pod not mounted is remounted, not ready meanwhile",
        Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [ready(web)], localNodes: local), [
        "update Pod default/web-0 node=node1 PodScheduled=- phase=Running Ready=False",
        "mountPod default/web-0 \(dataMount)",
    ])
    // 9.
    add("remounted: Ready again, history remounted",
        mounted(Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [started(web)], localNodes: local), web, [dataVolume(data)]), [
        "update Pod default/web-0 node=node1 PodScheduled=True phase=Running Ready=True",
        "history remounted default/data volume=pvc-uid-data node=node1 pod=web-0",
    ])
    // 10.
    add("a running, mounted pod is left alone",
        mounted(Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [ready(web)], localNodes: local), web, [dataVolume(data)]), [])
    // 11.
    add("an unscheduled pod is not the agent's", Fx.snapshot(nodes: nodes, pods: [Fx.pod("web-0")], localNodes: local), [])
    // 12. Rule 5.
    add("a deleted, mounted pod is unmounted", mounted(Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim, logs.claim], pods: [
        ready(Fx.pod("web-0", claims: ["data", "logs", "gone"], node: "node1", deleting: true)),
    ], localNodes: local), web, [dataVolume(data)]), [
        "unmountPod default/web-0 \(dataMount)",
    ])
    // 13.
    add("a deleted pod, unmounted, is removed with its history", Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [
        ready(Fx.pod("web-0", claims: ["data"], node: "node1", deleting: true)),
    ], localNodes: local), [
        "history unmounted default/data volume=pvc-uid-data node=node1 pod=web-0",
        "delete Pod default/web-0",
    ])
    // 14. Rule 6.
    add("a deleted pod that never reached a node is removed", Fx.snapshot(nodes: nodes, pods: [Fx.pod("web-0", claims: ["data"], deleting: true)],
                                                                          localNodes: local), [
        "delete Pod default/web-0",
    ])
    // 15.
    add("a deleted pod on another host's node", Fx.snapshot(nodes: nodes, pods: [Fx.pod("web-0", node: "node2", deleting: true)], localNodes: local), [])
    // 16. A node of this daemon that it does not serve right now (its filesystem session died).
    var unserved = Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [web], localNodes: local)
    unserved.observed.servedNodes = [:]
    add("a node not served: nothing is mounted there", unserved, [])
    // 17. Rule 4: a failed mount is reported once and retried after its backoff.
    var failed = Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [web], localNodes: local)
    failed.observed.failures[.mount(NamespacedName(web))] = NodeWorkFailure(message: "no such file", at: Fx.now, count: 1)
    add("a failed mount: FailedMount, retried after the backoff", failed, [
        "update Pod default/web-0 node=node1 PodScheduled=-",
        "event Warning FailedMount pod default/web-0: MountVolume.SetUp failed for volume \"pvc-uid-data\" : no such file",
        "recheck Pod default/web-0 after 0.5s",
    ], settles: false)
    // 18.
    var inFlight = Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [web], localNodes: local)
    inFlight.observed.inFlight = [.mount(NamespacedName(web))]
    add("a mount under way is not started twice", inFlight, [])
    return cases
}()

@Suite("NodeAgentPlanner")
struct NodeAgentPlannerTests {
    @Test(arguments: agentCases)
    func plans(_ c: Fx.Case) {
        #expect(Fx.summaries(NodeAgentPlanner.plan(c.snapshot)) == c.expected)
    }

    /// What a plan does, done, leaves nothing to do but the next step of the same pod's life.
    @Test(arguments: agentCases.filter(\.settles))
    func converges(_ c: Fx.Case) {
        let (_, log) = Fx.converge(c.snapshot) { NodeAgentPlanner.plan($0) }
        #expect(log.count <= 2, "\(log)")
    }

    @Test func mountCarriesClaimIdentity() throws {
        let data = Fx.boundPair("data", node: "node1", storage: "5Gi")
        let s = Fx.snapshot(nodes: nodes, volumes: [data.volume], claims: [data.claim], pods: [Fx.pod("web-0", claims: ["data"], node: "node1")])
        guard case .mountPod(_, let mounts, true)? = NodeAgentPlanner.plan(s).first else { Issue.record("no mountPod"); return }
        #expect(mounts == [PodVolumeMount(volumeName: "data", claimName: "data", claimUID: "uid-data", persistentVolume: "pvc-uid-data",
                                          node: "node1", backingPath: "/data/node1/pvc-uid-data", capacityBytes: 5 << 30, readOnly: false)])
    }
}
