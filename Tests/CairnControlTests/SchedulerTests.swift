import CairnControl
import CairnCore
import Foundation
import Testing

private let two = [Fx.node("node1"), Fx.node("node2")]
private let fast = Fx.storageClass()
private let local = Fx.storageClass("local", waitForConsumer: true)

private func failed(_ pod: String, _ message: String) -> [String] {
    ["update Pod default/\(pod) node=- PodScheduled=False/Unschedulable",
     "event Warning FailedScheduling pod default/\(pod): \(message)"]
}

private func scheduled(_ pod: String, _ node: String) -> [String] {
    ["update Pod default/\(pod) node=\(node) PodScheduled=True",
     "event Normal Scheduled pod default/\(pod): Successfully assigned default/\(pod) to \(node)"]
}

private func selected(_ claim: String, _ node: String) -> String {
    "update PersistentVolumeClaim default/\(claim) phase=Pending volume=- selected-node=\(node)"
}

private func unschedulablePod(_ name: String, claims: [String] = [], message: String) -> Pod {
    var pod = Fx.pod(name, claims: claims)
    pod.status?.conditions = [PodCondition(type: "PodScheduled", status: .false, reason: "Unschedulable", message: message,
                                           lastTransitionTime: Fx.time(0))]
    return pod
}

private let schedulerCases: [Fx.Case] = {
    var cases: [Fx.Case] = []
    func add(_ name: String, _ s: ClusterSnapshot, _ expected: [String], settles: Bool = true) {
        cases.append(Fx.Case(number: cases.count + 1, name: name, snapshot: s, expected: expected, settles: settles))
    }
    let bound1 = Fx.boundPair("data", node: "node1")

    // 1-3: PreFilter.
    add("claim not found", Fx.snapshot(nodes: two, classes: [fast], pods: [Fx.pod("web-0", claims: ["data"])]),
        failed("web-0", "0/2 nodes are available: persistentvolumeclaim \"data\" not found."))
    add("claim being deleted", Fx.snapshot(nodes: two, classes: [fast], claims: [Fx.claim("data", deleting: true)], pods: [Fx.pod("web-0", claims: ["data"])]),
        failed("web-0", "0/2 nodes are available: persistentvolumeclaim \"data\" is being deleted."))
    add("unbound immediate claim", Fx.snapshot(nodes: two, classes: [fast], claims: [Fx.claim("data")], pods: [Fx.pod("web-0", claims: ["data"])]),
        failed("web-0", "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."))

    // 4-7: NodeUnschedulable and NodeAffinity.
    add("unschedulable node is skipped", Fx.snapshot(nodes: [Fx.node("node1", storage: "50Gi", unschedulable: true), Fx.node("node2")],
                                                     pods: [Fx.pod("web-0")]), scheduled("web-0", "node2"))
    add("all nodes unschedulable", Fx.snapshot(nodes: [Fx.node("node1", unschedulable: true), Fx.node("node2", unschedulable: true)],
                                               pods: [Fx.pod("web-0")]),
        failed("web-0", "0/2 nodes are available: 2 node(s) were unschedulable."))
    var tolerant = Fx.pod("web-0")
    tolerant.spec.tolerations = .array([.object(["key": .string("node.kubernetes.io/unschedulable"), "operator": .string("Exists"),
                                                 "effect": .string("NoSchedule")])])
    add("a pod tolerating unschedulable may go there", Fx.snapshot(nodes: [Fx.node("node1", unschedulable: true)], pods: [tolerant]),
        scheduled("web-0", "node1"))
    add("nodeSelector matches no node", Fx.snapshot(nodes: two, pods: [Fx.pod("web-0", nodeSelector: ["disk": "ssd"])]),
        failed("web-0", "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."))

    // 8: the seed case.
    add("volume on node1, selector only node2", Fx.snapshot(nodes: [Fx.node("node1"), Fx.node("node2", labels: ["disk": "ssd"])], classes: [fast],
                                                            volumes: [bound1.volume], claims: [bound1.claim],
                                                            pods: [Fx.pod("web-0", claims: ["data"], nodeSelector: ["disk": "ssd"])]),
        failed("web-0", "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict."))

    // 9-10: VolumeBinding for bound claims.
    add("a bound volume takes the pod to its node", Fx.snapshot(nodes: [Fx.node("node1", storage: "2Gi"), Fx.node("node2", storage: "50Gi")], classes: [fast],
                                                                volumes: [bound1.volume], claims: [bound1.claim], pods: [Fx.pod("web-0", claims: ["data"])]),
        scheduled("web-0", "node1"))
    add("bound volume missing", Fx.snapshot(nodes: [Fx.node("node1")], classes: [fast], claims: [bound1.claim], pods: [Fx.pod("web-0", claims: ["data"])]),
        failed("web-0", "0/1 nodes are available: 1 node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)."))

    // 11-12: VolumeRestrictions.
    let rwop = Fx.boundPair("data", node: "node1", modes: ["ReadWriteOncePod"])
    add("ReadWriteOncePod claim in use", Fx.snapshot(nodes: two, classes: [fast], volumes: [rwop.volume], claims: [rwop.claim], pods: [
        Fx.pod("first", claims: ["data"], node: "node1", phase: .running), Fx.pod("second", claims: ["data"], created: 5),
    ]), failed("second", "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode."))
    add("ReadWriteOncePod claim whose user finished", Fx.snapshot(nodes: two, classes: [fast], volumes: [rwop.volume], claims: [rwop.claim], pods: [
        Fx.pod("first", claims: ["data"], node: "node1", phase: .succeeded), Fx.pod("second", claims: ["data"], created: 5),
    ]), scheduled("second", "node1"))

    // 13-17: WaitForFirstConsumer claims.
    add("provisioning goes where the storage is", Fx.snapshot(nodes: [Fx.node("node1", storage: "4Gi"), Fx.node("node2")], classes: [local],
                                                              claims: [Fx.claim("data", storage: "5Gi", storageClass: "local")],
                                                              pods: [Fx.pod("web-0", claims: ["data"])]),
        [selected("data", "node2")] + scheduled("web-0", "node2"))
    add("no node has the storage", Fx.snapshot(nodes: [Fx.node("node1", storage: "4Gi"), Fx.node("node2", storage: "4Gi")], classes: [local],
                                               claims: [Fx.claim("data", storage: "5Gi", storageClass: "local")],
                                               pods: [Fx.pod("web-0", claims: ["data"])]),
        failed("web-0", "0/2 nodes are available: 2 node(s) did not have enough free storage."))
    add("pods of one sync are counted against each other", Fx.snapshot(nodes: [Fx.node("node1", storage: "10Gi"), Fx.node("node2", storage: "8Gi")], classes: [local],
                                                                       claims: ["a", "b", "c"].map { Fx.claim($0, storage: "6Gi", storageClass: "local") },
                                                                       pods: [Fx.pod("pa", claims: ["a"], created: 1), Fx.pod("pb", claims: ["b"], created: 2),
                                                                              Fx.pod("pc", claims: ["c"], created: 3)]),
        [selected("a", "node1")] + scheduled("pa", "node1") + [selected("b", "node2")] + scheduled("pb", "node2")
            + failed("pc", "0/2 nodes are available: 2 node(s) did not have enough free storage."))
    add("a matching local volume is assumed for the claim", Fx.snapshot(nodes: [Fx.node("node1", storage: "2Gi"), Fx.node("node2", storage: "50Gi", dataRoot: nil)],
                                                                        classes: [local], volumes: [Fx.volume("pv-local", node: "node1", storageClass: "local")],
                                                                        claims: [Fx.claim("data", storageClass: "local")], pods: [Fx.pod("web-0", claims: ["data"])]),
        ["update PersistentVolume pv-local phase=Available claim=default/data"] + scheduled("web-0", "node1"))
    add("a claim already promised to a node takes its pods there",
        Fx.snapshot(nodes: [Fx.node("node1", storage: "2Gi"), Fx.node("node2", storage: "50Gi")], classes: [local],
                    claims: [Fx.claim("shared", storageClass: "local", selectedNode: "node1")],
                    pods: [Fx.pod("first", claims: ["shared"], node: "node1"), Fx.pod("second", claims: ["shared"], created: 5)]),
        scheduled("second", "node1"))

    // 18-19: mixed reasons and ordering.
    let fullPair = Fx.boundPair("full", node: "node-c", storage: "9Gi", storageClass: "local")
    add("reasons are counted and sorted as strings", Fx.snapshot(nodes: [
        Fx.node("node-a", unschedulable: true), Fx.node("node-b", labels: ["zone": "b"]), Fx.node("node-c", labels: ["zone": "a"]),
        Fx.node("node-d", labels: ["zone": "a"]),
    ], classes: [local], volumes: [fullPair.volume], claims: [fullPair.claim, Fx.claim("data", storage: "2Gi", storageClass: "local")], pods: [
        {
            var p = Fx.pod("web-0", claims: ["data"])
            p.spec.affinity = Fx.requiredAffinity([
                NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["a"])]),
            ])
            return p
        }(),
    ]), [selected("data", "node-d")] + scheduled("web-0", "node-d"))
    add("three reasons", Fx.snapshot(nodes: [
        Fx.node("node-a", unschedulable: true), Fx.node("node-b"), Fx.node("node-c", storage: "1Gi", labels: ["disk": "ssd"]),
    ], classes: [local], claims: [Fx.claim("data", storage: "2Gi", storageClass: "local")],
       pods: [Fx.pod("web-0", claims: ["data"], nodeSelector: ["disk": "ssd"])]),
        failed("web-0", "0/3 nodes are available: 1 node(s) did not have enough free storage, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable."))

    // 20-24: when nothing or something else should happen.
    add("the same failure is not reported twice", Fx.snapshot(nodes: two, pods: [
        unschedulablePod("web-0", claims: ["data"], message: "0/2 nodes are available: persistentvolumeclaim \"data\" not found."),
    ]), [])
    add("a pod is placed once its obstacle is gone", Fx.snapshot(nodes: two, classes: [fast], volumes: [bound1.volume], claims: [bound1.claim], pods: [
        unschedulablePod("web-0", claims: ["data"], message: "0/2 nodes are available: persistentvolumeclaim \"data\" not found."),
    ]), scheduled("web-0", "node1"))
    add("no nodes", Fx.snapshot(pods: [Fx.pod("web-0")]), failed("web-0", "no nodes available to schedule pods"))
    var foreign = Fx.pod("web-0")
    foreign.spec.schedulerName = "other-scheduler"
    add("another scheduler's pod", Fx.snapshot(nodes: two, pods: [foreign]), [])
    add("a scheduled pod's claim without its node is repaired", Fx.snapshot(nodes: two, classes: [local], claims: [Fx.claim("data", storageClass: "local")],
                                                                           pods: [Fx.pod("web-0", claims: ["data"], node: "node2")]),
        [selected("data", "node2")])
    return cases
}()

@Suite("Scheduler")
struct SchedulerTests {
    @Test(arguments: schedulerCases)
    func plans(_ c: Fx.Case) {
        #expect(Fx.summaries(Scheduler.plan(c.snapshot)) == c.expected)
    }

    @Test(arguments: schedulerCases)
    func idempotent(_ c: Fx.Case) {
        let after = Fx.apply(Scheduler.plan(c.snapshot), to: c.snapshot)
        #expect(Fx.summaries(Scheduler.plan(after)) == [])
    }

    @Test func conditionsOnSuccessAndFailure() throws {
        let s = Fx.snapshot(nodes: [Fx.node("node1", storage: "1Gi")], classes: [local],
                            claims: [Fx.claim("big", storage: "2Gi", storageClass: "local"), Fx.claim("small", storageClass: "local")],
                            pods: [Fx.pod("a", claims: ["big"], created: 1), Fx.pod("b", claims: ["small"], created: 2)])
        let pods = Scheduler.plan(s).compactMap { a -> Pod? in if case .update(let p as Pod) = a { p } else { nil } }
        try #require(pods.count == 2)
        #expect(pods[0].condition("PodScheduled") == PodCondition(type: "PodScheduled", status: .false, reason: "Unschedulable",
            message: "0/1 nodes are available: 1 node(s) did not have enough free storage.", lastTransitionTime: Fx.now))
        #expect(pods[1].spec.nodeName == "node1")
        #expect(pods[1].condition("PodScheduled") == PodCondition(type: "PodScheduled", status: .true, lastTransitionTime: Fx.now))
    }

    /// The scheduler and the PV controller together: a StatefulSet-like pod with a WaitForFirstConsumer
    /// claim ends Running with its volume on the chosen node.
    @Test func podAndVolumeMeetOnOneNode() {
        var s = Fx.snapshot(nodes: [Fx.node("node1", storage: "1Gi"), Fx.node("node2", storage: "4Gi")], classes: [local],
                            claims: [Fx.claim("data-web-0", storage: "2Gi", storageClass: "local")],
                            pods: [Fx.pod("web-0", claims: ["data-web-0"])])
        let planners: [(ClusterSnapshot) -> [Action]] = [{ StoragePlanner.plan($0) }, { Scheduler.plan($0) }, { NodeAgentPlanner.plan($0) }]
        for _ in 0..<4 {
            for plan in planners { s = Fx.apply(plan(s), to: s) }
        }
        #expect(s.pods.first?.phase == .running)
        #expect(s.pods.first?.spec.nodeName == "node2")
        #expect(s.claims.first?.status?.phase == .bound)
        #expect(s.persistentVolumes.first?.spec.local?.path == "/data/node2/pvc-uid-data-web-0_default_data-web-0")
        for plan in planners { #expect(plan(s).isEmpty) }
    }

    /// A thousand pods in one plan: each is placed, its claim pinned to its node, and no node is given
    /// more than it has. (How long it takes is a benchmark's question: tools/bench-planners.sh.)
    @Test func thousandPodsAllScheduled() {
        let nodes = (0..<10).map { Fx.node("node\($0)", storage: "200Gi") }
        let claims = (0..<1000).map { Fx.claim(String(format: "data-%04d", $0), storageClass: "local", created: $0) }
        let pods = (0..<1000).map { Fx.pod(String(format: "web-%04d", $0), claims: [String(format: "data-%04d", $0)], created: $0) }
        let s = Fx.snapshot(nodes: nodes, classes: [local], claims: claims, pods: pods)
        let actions = Scheduler.plan(s)
        #expect(actions.count == 3000)
        var perNode: [String: Int] = [:]
        for case .update(let o) in actions { if let p = o as? Pod, let n = p.spec.nodeName { perNode[n, default: 0] += 1 } }
        #expect(perNode.values.reduce(0, +) == 1000)
        // Spread by free storage: 200Gi per node, 1Gi per claim, so every node gets the same share.
        #expect(Set(perNode.values) == [100])
    }
}
