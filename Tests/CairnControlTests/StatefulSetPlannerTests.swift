import CairnCore
@testable import CairnControl
import Foundation
import Testing

private let web = "StatefulSet default/web"
private func createdClaim(_ n: Int, _ labels: String = "app=web", owners: String = "") -> [String] {
    ["create PersistentVolumeClaim default/data-web-\(n) labels=\(labels)\(owners)",
     "event Normal SuccessfulCreate \(web): create Claim data-web-\(n) Pod web-\(n) in StatefulSet web success"]
}
private func createdPod(_ n: Int) -> [String] {
    ["create Pod default/web-\(n)",
     "event Normal SuccessfulCreate \(web): create Pod web-\(n) in StatefulSet web successful"]
}
private func deletedPod(_ n: Int) -> [String] {
    ["delete Pod default/web-\(n)",
     "event Normal SuccessfulDelete \(web): delete Pod web-\(n) in StatefulSet web successful"]
}

private func claims(_ ns: [Int], owners: [any KubeObject] = []) -> [PersistentVolumeClaim] {
    ns.map { WF.claim("data-web-\($0)", owners: owners) }
}

private let orderingCases: [Fx.Case] = {
    let s3 = WF.statefulSet(replicas: 3)
    let s1 = WF.statefulSet(replicas: 1)
    let p3 = WF.statefulSet(replicas: 3, parallel: true)
    var deletingSet = WF.statefulSet(replicas: 3)
    deletingSet.metadata.deletionTimestamp = WF.t0
    var labelled = WF.statefulSet(replicas: 1, templates: [WF.claimTemplate(labels: ["tier": "db", "app": "other"])])
    labelled.metadata.generation = 1
    var orphan = WF.setPod(s3, 0)
    orphan.metadata.ownerReferences = nil
    return [
        .init(number: 1, name: "OrderedReady from nothing creates claim then pod for ordinal 0 only",
              snapshot: WF.snapshot(sets: [s3]), expected: createdClaim(0) + createdPod(0)),
        .init(number: 2, name: "waits while web-0 is Pending",
              snapshot: WF.snapshot(sets: [s3], pods: [WF.setPod(s3, 0, state: .pending)], claims: claims([0])),
              expected: []),
        .init(number: 3, name: "waits while web-0 is Running but not Ready",
              snapshot: WF.snapshot(sets: [s3], pods: [WF.setPod(s3, 0, state: .running)], claims: claims([0])),
              expected: []),
        .init(number: 4, name: "web-0 Running and Ready: creates web-1",
              snapshot: WF.snapshot(sets: [s3], pods: [WF.setPod(s3, 0)], claims: claims([0])),
              expected: createdClaim(1) + createdPod(1)),
        .init(number: 5, name: "claim labels are the template's merged with selector.matchLabels",
              snapshot: WF.snapshot(sets: [labelled]), expected: createdClaim(0, "app=web,tier=db") + createdPod(0)),
        .init(number: 6, name: "scale 3 -> 1 deletes the highest ordinal only",
              snapshot: WF.snapshot(sets: [s1], pods: [0, 1, 2].map { WF.setPod(s1, $0) }, claims: claims([0, 1, 2])),
              expected: deletedPod(2)),
        .init(number: 7, name: "scale down waits while web-2 terminates",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0), WF.setPod(s1, 1), WF.setPod(s1, 2, deleting: true)],
                                    claims: claims([0, 1, 2])),
              expected: []),
        .init(number: 8, name: "scale down: healthy web-2 goes although web-1 is not ready",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0), WF.setPod(s1, 1, state: .running), WF.setPod(s1, 2)],
                                    claims: claims([0, 1, 2])),
              expected: deletedPod(2)),
        .init(number: 9, name: "scale down: unhealthy web-2 waits for the first unhealthy web-1",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0), WF.setPod(s1, 1, state: .running),
                                                       WF.setPod(s1, 2, state: .pending)],
                                    claims: claims([0, 1, 2])),
              expected: []),
        .init(number: 10, name: "scale down: the first unhealthy pod may go",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0), WF.setPod(s1, 1, state: .pending)],
                                    claims: claims([0, 1])),
              expected: deletedPod(1)),
        .init(number: 11, name: "scale down blocked while a kept replica is not ready",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0, state: .running), WF.setPod(s1, 1)],
                                    claims: claims([0, 1])),
              expected: []),
        .init(number: 12, name: "Parallel creates every ordinal at once",
              snapshot: WF.snapshot(sets: [p3]),
              expected: createdClaim(0) + createdPod(0) + createdClaim(1) + createdPod(1) + createdClaim(2) + createdPod(2)),
        .init(number: 13, name: "Parallel scale to 0 deletes every pod, highest first",
              snapshot: WF.snapshot(sets: [WF.statefulSet(replicas: 0, parallel: true)],
                                    pods: [0, 1, 2].map { WF.setPod(p3, $0, state: .pending) }, claims: claims([0, 1, 2])),
              expected: deletedPod(2) + deletedPod(1) + deletedPod(0)),
        .init(number: 14, name: "a deleted pod is re-created with its name; its claim is still there",
              snapshot: WF.snapshot(sets: [s3], pods: [WF.setPod(s3, 0), WF.setPod(s3, 2)], claims: claims([0, 1, 2])),
              expected: createdPod(1)),
        .init(number: 15, name: "a claim being deleted blocks its pod",
              snapshot: WF.snapshot(sets: [s1], claims: [WF.claim("data-web-0", deleting: true)]),
              expected: ["event Warning FailedCreate \(web): create Pod web-0 in StatefulSet web failed error: pvc data-web-0 is being deleted"]),
        .init(number: 16, name: "a Failed pod is deleted, to be re-created next sync",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0, state: .failed)], claims: claims([0])),
              expected: deletedPod(0)),
        .init(number: 17, name: "ordinals.start 5: first pod is web-5",
              snapshot: WF.snapshot(sets: [WF.statefulSet(replicas: 2, start: 5)]),
              expected: createdClaim(5) + createdPod(5)),
        .init(number: 18, name: "a set being deleted plans nothing",
              snapshot: WF.snapshot(sets: [deletingSet]), expected: []),
        .init(number: 19, name: "an orphan pod web-0 matching the selector is adopted; then web-1 is created",
              snapshot: WF.snapshot(sets: [s3], pods: [orphan], claims: claims([0])),
              expected: ["update Pod default/web-0 owners=StatefulSet/web"] + createdClaim(1) + createdPod(1)),
        .init(number: 20, name: "a Pending pod gets its missing claim",
              snapshot: WF.snapshot(sets: [s1], pods: [WF.setPod(s1, 0, state: .pending)]),
              expected: createdClaim(0)),
    ]
}()

@Test(arguments: orderingCases)
func statefulSetOrdering(_ c: Fx.Case) {
    #expect(WF.summary(StatefulSetPlanner.plan(c.snapshot)) == c.expected)
}

// MARK: Retention policy, one sync

private let retentionCases: [Fx.Case] = {
    func set(_ scaled: String, _ deleted: String, replicas: Int32 = 1) -> StatefulSet {
        WF.statefulSet(replicas: replicas, whenScaled: scaled, whenDeleted: deleted)
    }
    // Scale 2 -> 1 with both pods ready and claims without owners.
    func down(_ s: StatefulSet) -> ClusterSnapshot {
        WF.snapshot(sets: [s], pods: [WF.setPod(s, 0), WF.setPod(s, 1)], claims: claims([0, 1]))
    }
    let dr = set("Delete", "Retain", replicas: 2), dd = set("Delete", "Delete", replicas: 2)
    let pod1 = WF.setPod(dr, 1)
    return [
        .init(number: 1, name: "Retain/Retain scale down: no owners, pod deleted",
              snapshot: down(set("Retain", "Retain")), expected: deletedPod(1)),
        .init(number: 2, name: "Retain/Delete scale down: every claim owned by the set",
              snapshot: down(set("Retain", "Delete")),
              expected: ["update PersistentVolumeClaim default/data-web-0 owners=StatefulSet/web",
                         "update PersistentVolumeClaim default/data-web-1 owners=StatefulSet/web"] + deletedPod(1)),
        .init(number: 3, name: "Delete/Retain scale down: the condemned claim owned by its pod",
              snapshot: down(set("Delete", "Retain")),
              expected: ["update PersistentVolumeClaim default/data-web-1 owners=Pod/web-1"] + deletedPod(1)),
        .init(number: 4, name: "Delete/Delete scale down: kept claim by the set, condemned by its pod",
              snapshot: down(set("Delete", "Delete")),
              expected: ["update PersistentVolumeClaim default/data-web-0 owners=StatefulSet/web",
                         "update PersistentVolumeClaim default/data-web-1 owners=Pod/web-1"] + deletedPod(1)),
        .init(number: 5, name: "Retain/Delete: a new claim is created owned by the set",
              snapshot: WF.snapshot(sets: [set("Retain", "Delete")]),
              expected: createdClaim(0, owners: " owners=StatefulSet/web") + createdPod(0)),
        .init(number: 6, name: "Delete/Retain scale back up: the pod's ownerRef is removed",
              snapshot: WF.snapshot(sets: [dr], pods: [WF.setPod(dr, 0), pod1],
                                    claims: [WF.claim("data-web-0"), WF.claim("data-web-1", owners: [pod1])]),
              expected: ["update PersistentVolumeClaim default/data-web-1 owners=none"]),
        .init(number: 7, name: "Delete/Delete scale back up: owner moves from the pod to the set",
              snapshot: WF.snapshot(sets: [dd], pods: [WF.setPod(dd, 0), pod1],
                                    claims: [WF.claim("data-web-0", owners: [dd]), WF.claim("data-web-1", owners: [pod1])]),
              expected: ["update PersistentVolumeClaim default/data-web-1 owners=StatefulSet/web"]),
        .init(number: 8, name: "whenScaled Delete: a claim still owned by the old web-1 blocks the new web-1",
              snapshot: WF.snapshot(sets: [dr], pods: [WF.setPod(dr, 0)],
                                    claims: [WF.claim("data-web-0"), WF.claim("data-web-1", owners: [pod1])]),
              expected: []),
        .init(number: 9, name: "Retain/Retain: a claim still owned by the old web-1 is reused",
              snapshot: WF.snapshot(sets: [set("Retain", "Retain", replicas: 2)], pods: [WF.setPod(dr, 0)],
                                    claims: [WF.claim("data-web-0"), WF.claim("data-web-1", owners: [pod1])]),
              expected: createdPod(1)),
        .init(number: 10, name: "policy back to Retain/Retain: the set's ownerRef is removed",
              snapshot: WF.snapshot(sets: [set("Retain", "Retain")], pods: [WF.setPod(dr, 0)],
                                    claims: [WF.claim("data-web-0", owners: [dr])]),
              expected: ["update PersistentVolumeClaim default/data-web-0 owners=none"]),
    ]
}()

@Test(arguments: retentionCases)
func statefulSetRetentionSync(_ c: Fx.Case) {
    #expect(WF.summary(StatefulSetPlanner.plan(c.snapshot)) == c.expected)
}

// MARK: Retention policy, multi-step (scale 3 -> 1, back to 3, delete the set)

struct RetentionScenario: CustomTestStringConvertible, Sendable {
    var number: Int
    var whenScaled: String
    var whenDeleted: String
    var claimsAfterScaleDown: [String]
    var scaleUpKeepsData: Bool
    var claimsAfterSetDeleted: [String]
    var testDescription: String { "\(number). \(whenScaled)/\(whenDeleted)" }
}

private let allClaims = ["data-web-0", "data-web-1", "data-web-2"]

@Test(arguments: [
    RetentionScenario(number: 1, whenScaled: "Retain", whenDeleted: "Retain", claimsAfterScaleDown: allClaims,
                      scaleUpKeepsData: true, claimsAfterSetDeleted: allClaims),
    RetentionScenario(number: 2, whenScaled: "Retain", whenDeleted: "Delete", claimsAfterScaleDown: allClaims,
                      scaleUpKeepsData: true, claimsAfterSetDeleted: []),
    RetentionScenario(number: 3, whenScaled: "Delete", whenDeleted: "Retain", claimsAfterScaleDown: ["data-web-0"],
                      scaleUpKeepsData: false, claimsAfterSetDeleted: allClaims),
    RetentionScenario(number: 4, whenScaled: "Delete", whenDeleted: "Delete", claimsAfterScaleDown: ["data-web-0"],
                      scaleUpKeepsData: false, claimsAfterSetDeleted: []),
])
func statefulSetRetentionScenario(_ c: RetentionScenario) {
    var sim = ClusterSim(WF.snapshot(sets: [WF.statefulSet(replicas: 3, whenScaled: c.whenScaled, whenDeleted: c.whenDeleted)]))
    sim.converge()
    #expect(sim.podNames() == ["web-0", "web-1", "web-2"])
    let firstUIDs = Dictionary(uniqueKeysWithValues: sim.s.claims.map { ($0.name, $0.uid) })

    sim.scale("web", 1)
    #expect(!sim.converge().contains(["did not converge"]))
    #expect(sim.podNames() == ["web-0"])
    #expect(sim.claimNames() == c.claimsAfterScaleDown)

    sim.scale("web", 3)
    sim.converge()
    #expect(sim.podNames() == ["web-0", "web-1", "web-2"])
    #expect(sim.claimNames() == allClaims)
    let kept = ["data-web-1", "data-web-2"].allSatisfy { sim.claim($0)?.uid == firstUIDs[$0] }
    #expect(kept == c.scaleUpKeepsData)
    #expect(sim.claim("data-web-0")?.uid == firstUIDs["data-web-0"])
    #expect(sim.plan().isEmpty, "idempotent once converged")

    sim.s.statefulSets[0].metadata.deletionTimestamp = sim.s.now
    #expect(!sim.converge().contains(["did not converge"]))
    #expect(sim.podNames() == [])
    #expect(sim.claimNames() == c.claimsAfterSetDeleted)
}

// MARK: Multi-step scenarios

@Test func orderedReadyCreatesOneAtATimeAndScalesDownHighestFirst() {
    var sim = ClusterSim(WF.snapshot(sets: [WF.statefulSet(replicas: 3)]))
    let up = sim.converge().map { $0.filter { $0.hasPrefix("create Pod") || $0.hasPrefix("delete") } }.filter { !$0.isEmpty }
    #expect(up == [["create Pod default/web-0"], ["create Pod default/web-1"], ["create Pod default/web-2"]])
    sim.scale("web", 1)
    let down = sim.converge().map { $0.filter { $0.hasPrefix("delete") } }.filter { !$0.isEmpty }
    #expect(down == [["delete Pod default/web-2"], ["delete Pod default/web-1"]])
}

@Test func orderedReadyWaitsUntilTheLowerPodIsReady() {
    var sim = ClusterSim(WF.snapshot(sets: [WF.statefulSet(replicas: 2)]))
    sim.apply(StatefulSetPlanner.plan(sim.s))
    sim.apply(StatefulSetPlanner.plan(sim.s))  // status only
    #expect(WF.summary(StatefulSetPlanner.plan(sim.s)) == [], "web-0 is Pending: wait")
    sim.makeReady()
    #expect(WF.summary(StatefulSetPlanner.plan(sim.s)) == createdClaim(1) + createdPod(1))
}

@Test func scaleOneToThreeToZeroToThreeKeepsEveryClaim() {
    var sim = ClusterSim(WF.snapshot(sets: [WF.statefulSet(replicas: 1)]))
    sim.converge()
    sim.scale("web", 3)
    sim.converge()
    #expect(sim.claimNames() == allClaims)
    let uids = sim.s.claims.map(\.uid).sorted()

    sim.scale("web", 0)
    sim.converge()
    #expect(sim.podNames() == [])
    #expect(sim.claimNames() == allClaims)
    #expect(sim.s.claims.allSatisfy { $0.phase == .bound && $0.metadata.ownerReferences == nil })

    sim.scale("web", 3)
    sim.converge()
    #expect(sim.s.claims.map(\.uid).sorted() == uids, "no claim was re-created")
    for pod in sim.s.pods {
        let claim = pod.spec.claimVolumes.first { $0.volume == "data" }?.claim
        #expect(claim == "data-\(pod.name)", "pod \(pod.name) binds its own claim again")
    }
    #expect(sim.plan().isEmpty)
}

@Test func reCreatedPodKeepsItsNameAndClaim() {
    var sim = ClusterSim(WF.snapshot(sets: [WF.statefulSet(replicas: 3)]))
    sim.converge()
    let claimUID = sim.claim("data-web-1")?.uid
    sim.s.pods.removeAll { $0.name == "web-1" }
    let log = sim.converge().flatMap { $0 }.filter { !$0.hasPrefix("status") }
    #expect(log == createdPod(1))
    #expect(sim.claim("data-web-1")?.uid == claimUID)
}

// MARK: Pod shape and status

@Test func podCarriesIdentityStorageAndOwner() throws {
    let set = WF.statefulSet(replicas: 1)
    let actions = StatefulSetPlanner.plan(WF.snapshot(sets: [set]))
    let pod = try #require(actions.lazy.compactMap { a -> Pod? in if case .create(let o) = a { o as? Pod } else { nil } }.first)
    #expect(pod.metadata.labels == ["app": "web", Well.podNameLabel: "web-0", Well.podIndexLabel: "0"])
    #expect(pod.metadata.annotations == ["note": "x"])
    #expect(pod.metadata.ownerReferences == [OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: "web",
                                                            uid: "uid-web", controller: true, blockOwnerDeletion: true)])
    #expect(pod.spec.hostname == "web-0")
    #expect(pod.spec.subdomain == "web")
    #expect(pod.spec.volumes == [Volume(name: "data", persistentVolumeClaim: .init(claimName: "data-web-0", readOnly: false)),
                                 Volume(name: "scratch", persistentVolumeClaim: .init(claimName: "shared"))])
    #expect(pod.metadata.uid == nil && pod.metadata.resourceVersion == nil)
    let claim = try #require(actions.lazy.compactMap { a -> PersistentVolumeClaim? in
        if case .create(let o) = a { o as? PersistentVolumeClaim } else { nil } }.first)
    #expect(claim.spec == WF.claimTemplate().spec)
    #expect(claim.kind == "PersistentVolumeClaim" && claim.metadata.uid == nil)
}

@Test func statusCountsPodsAndIsWrittenOnlyWhenItChanged() {
    let set = WF.statefulSet(replicas: 3, generation: 4)
    let pods = [WF.setPod(set, 0), WF.setPod(set, 1, state: .running), WF.setPod(set, 2, deleting: true)]
    let snapshot = WF.snapshot(sets: [set], pods: pods, claims: claims([0, 1, 2]))
    let lines = WF.summary(StatefulSetPlanner.plan(snapshot), status: true)
    #expect(lines == ["status \(web) replicas=3 ready=2 current=2 updated=2 available=2 generation=4"])

    var settled = snapshot
    for case .update(let o) in StatefulSetPlanner.plan(snapshot) { settled.statefulSets = [o as! StatefulSet] }
    #expect(StatefulSetPlanner.plan(settled).isEmpty)
}

// MARK: Size

@Test func thousandReplicaParallelSet() {
    var sim = ClusterSim(WF.snapshot(sets: [WF.statefulSet(replicas: 1000, parallel: true)]))
    var actions = StatefulSetPlanner.plan(sim.s)
    let lines = WF.summary(actions)
    #expect(lines.filter { $0.hasPrefix("create Pod") }.count == 1000)
    #expect(lines.filter { $0.hasPrefix("create PersistentVolumeClaim") }.count == 1000)
    #expect(Set(lines.filter { $0.hasPrefix("create Pod") }).count == 1000)
    #expect(lines[0...3] == (createdClaim(0) + createdPod(0))[...])

    sim.apply(actions)
    sim.makeReady()
    actions = StatefulSetPlanner.plan(sim.s)
    #expect(WF.summary(actions, status: true) ==
            ["status \(web) replicas=1000 ready=1000 current=1000 updated=1000 available=1000 generation=1"])
    sim.apply(actions)
    #expect(StatefulSetPlanner.plan(sim.s).isEmpty)
    #expect(GarbageCollector.plan(sim.s).isEmpty)
}
