import CairnCore
@testable import CairnControl
import Testing

private let api = "ReplicaSet default/api"

private let rsCases: [Fx.Case] = {
    let rs1 = WF.replicaSet(replicas: 1), rs2 = WF.replicaSet(replicas: 2), rs3 = WF.replicaSet(replicas: 3)
    let labels = ["app": "api", "tier": "x"]
    func p(_ name: String, _ state: WF.State = .ready, node: String? = "n1", created: Double = 0,
           readyAt: Double? = nil, deleting: Bool = false, cost: String? = nil) -> Pod {
        WF.pod(name, owner: rs1, state: state, node: node, labels: labels, created: created, readyAt: readyAt,
               deleting: deleting, annotations: cost.map { [DeletionRanking.deletionCostAnnotation: $0] })
    }
    func deleted(_ name: String) -> [String] {
        ["delete Pod default/\(name)", "event Normal SuccessfulDelete \(api): Deleted pod: \(name)"]
    }
    func created(_ name: String) -> [String] {
        ["create Pod default/\(name)", "event Normal SuccessfulCreate \(api): Created pod: \(name)"]
    }
    var orphan = p("api-orphn")
    orphan.metadata.ownerReferences = nil
    var deletingRS = rs3
    deletingRS.metadata.deletionTimestamp = WF.t0
    return [
        .init(number: 1, name: "creates every missing replica at once, named <rs>-<suffix>",
              snapshot: WF.snapshot(replicaSets: [rs3]), names: ["abcde", "fghjk", "lmnpq"],
              expected: created("api-abcde") + created("api-fghjk") + created("api-lmnpq")),
        .init(number: 2, name: "a suffix that collides with an existing pod is drawn again",
              snapshot: WF.snapshot(replicaSets: [rs2], pods: [p("api-abcde")]), names: ["abcde", "fghjk"],
              expected: created("api-fghjk")),
        .init(number: 3, name: "unscheduled before scheduled",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a"), p("api-b", .pending, node: nil)]),
              expected: deleted("api-b")),
        .init(number: 4, name: "Pending before Running",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a", .pending), p("api-b")]),
              expected: deleted("api-a")),
        .init(number: 5, name: "not ready before ready",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a"), p("api-b", .running)]),
              expected: deleted("api-b")),
        .init(number: 6, name: "lower pod-deletion-cost first",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a", cost: "10"), p("api-b", cost: "20")]),
              expected: deleted("api-a")),
        .init(number: 7, name: "both ready: ready more recently first",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a", readyAt: 0), p("api-b", readyAt: 900)]),
              expected: deleted("api-b")),
        .init(number: 8, name: "newer before older",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a", created: 500), p("api-b", created: 0)]),
              expected: deleted("api-a")),
        .init(number: 9, name: "scale 3 -> 1 deletes the two lowest-ranked",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a"), p("api-b", .pending), p("api-c", .running)]),
              expected: deleted("api-b") + deleted("api-c")),
        .init(number: 10, name: "terminating and finished pods do not count: one more is created",
              snapshot: WF.snapshot(replicaSets: [rs2], pods: [p("api-a"), p("api-b", deleting: true), p("api-c", .failed)]),
              names: ["zzzzz"], expected: created("api-zzzzz")),
        .init(number: 11, name: "an orphan matching the selector is adopted and counts",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [orphan]),
              expected: ["update Pod default/api-orphn owners=ReplicaSet/api"]),
        .init(number: 12, name: "a ReplicaSet being deleted plans nothing",
              snapshot: WF.snapshot(replicaSets: [deletingRS]), expected: []),
        .init(number: 13, name: "enough replicas: nothing to do",
              snapshot: WF.snapshot(replicaSets: [rs1], pods: [p("api-a")]), expected: []),
    ]
}()

@Test(arguments: rsCases)
func replicaSetPlan(_ c: Fx.Case) {
    #expect(WF.summary(ReplicaSetPlanner.plan(c.snapshot, names: FakeNames(c.names))) == c.expected)
}

@Test func replicaSetPodShape() throws {
    let actions = ReplicaSetPlanner.plan(WF.snapshot(replicaSets: [WF.replicaSet(replicas: 1)]), names: FakeNames(["x7k2p"]))
    let pod = try #require(actions.lazy.compactMap { a -> Pod? in if case .create(let o) = a { o as? Pod } else { nil } }.first)
    #expect(pod.name == "api-x7k2p")
    #expect(pod.metadata.generateName == "api-")
    #expect(pod.metadata.labels == ["app": "api", "tier": "x"])
    #expect(pod.controllerRef?.uid == "uid-api" && pod.controllerRef?.kind == "ReplicaSet")
    #expect(pod.spec.claimVolumes.map(\.claim) == ["shared"], "every replica names the same claim")
}

@Test func replicaSetStatus() {
    let rs = WF.replicaSet(replicas: 3, generation: 2)
    let pods = [WF.pod("api-a", owner: rs, labels: ["app": "api", "tier": "x"]),
                WF.pod("api-b", owner: rs, state: .running, labels: ["app": "api"]),
                WF.pod("api-c", owner: rs, state: .pending, labels: ["app": "api", "tier": "x"])]
    let snapshot = WF.snapshot(replicaSets: [rs], pods: pods)
    let actions = ReplicaSetPlanner.plan(snapshot, names: FakeNames([]))
    #expect(WF.summary(actions, status: true) == ["status \(api) replicas=3 fullyLabeled=2 ready=1 available=1 generation=2"])
    var settled = snapshot
    for case .update(let o) in actions { settled.replicaSets = [o as! ReplicaSet] }
    #expect(ReplicaSetPlanner.plan(settled, names: FakeNames([])).isEmpty)
}

@Test func replicaSetConvergesAndIsIdempotent() {
    var sim = ClusterSim(WF.snapshot(replicaSets: [WF.replicaSet(replicas: 3)]))
    sim.names = FakeNames(["aaaaa", "bbbbb", "ccccc"])
    sim.converge()
    #expect(sim.podNames() == ["api-aaaaa", "api-bbbbb", "api-ccccc"])
    sim.s.replicaSets[0].spec.replicas = 1
    sim.converge()
    #expect(sim.podNames().count == 1)
    #expect(sim.plan().isEmpty)
}
