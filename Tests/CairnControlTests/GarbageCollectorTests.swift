import CairnCore
import CairnControl
import Testing

private let gcCases: [Fx.Case] = {
    let set = WF.statefulSet()
    let rs = WF.replicaSet()
    var deletingSet = set
    deletingSet.metadata.deletionTimestamp = WF.t0
    var deletingRS = rs
    deletingRS.metadata.deletionTimestamp = WF.t0
    let pod = WF.setPod(set, 0)
    var recreatedSet = set
    recreatedSet.metadata.uid = "uid-web-2"
    var foreign = WF.claim("data-web-0")
    foreign.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: "uid-d",
                                                       controller: true)]
    return [
        .init(number: 1, name: "a pod whose set is gone is deleted",
              snapshot: WF.snapshot(pods: [pod]), expected: ["delete Pod default/web-0"]),
        .init(number: 2, name: "a pod whose set exists stays",
              snapshot: WF.snapshot(sets: [set], pods: [pod]), expected: []),
        .init(number: 3, name: "a claim whose pod is gone is deleted",
              snapshot: WF.snapshot(claims: [WF.claim("data-web-1", owners: [WF.setPod(set, 1)])]),
              expected: ["delete PersistentVolumeClaim default/data-web-1"]),
        .init(number: 4, name: "a claim whose pod is still terminating stays",
              snapshot: WF.snapshot(pods: [WF.setPod(set, 1, deleting: true)],
                                    claims: [WF.claim("data-web-1", owners: [WF.setPod(set, 1)])]),
              expected: []),
        .init(number: 5, name: "a set being deleted: its pods and claims go",
              snapshot: WF.snapshot(sets: [deletingSet], pods: [pod], claims: [WF.claim("data-web-0", owners: [set])]),
              expected: ["delete Pod default/web-0", "delete PersistentVolumeClaim default/data-web-0"]),
        .init(number: 6, name: "a ReplicaSet being deleted: its pods go",
              snapshot: WF.snapshot(replicaSets: [deletingRS], pods: [WF.pod("api-abcde", owner: rs)]),
              expected: ["delete Pod default/api-abcde"]),
        .init(number: 7, name: "objects already being deleted are left alone",
              snapshot: WF.snapshot(pods: [WF.setPod(set, 0, deleting: true)],
                                    claims: [WF.claim("c", owners: [set], deleting: true)]),
              expected: []),
        .init(number: 8, name: "an owner of the same name but another uid does not keep a dependent",
              snapshot: WF.snapshot(sets: [recreatedSet], pods: [pod]), expected: ["delete Pod default/web-0"]),
        .init(number: 9, name: "one owner gone, one left: the dangling reference is removed",
              snapshot: WF.snapshot(sets: [set], claims: [WF.claim("c", owners: [WF.setPod(set, 3), set])]),
              expected: ["update PersistentVolumeClaim default/c owners=StatefulSet/web"]),
        .init(number: 10, name: "an owner of a kind Cairn cannot look up keeps the object",
              snapshot: WF.snapshot(claims: [foreign]), expected: []),
        .init(number: 11, name: "no ownerReferences: never collected",
              snapshot: WF.snapshot(pods: [WF.pod("loose")], claims: [WF.claim("c")]), expected: []),
        .init(number: 12, name: "a claim owned by an existing pod stays",
              snapshot: WF.snapshot(sets: [set], pods: [pod], claims: [WF.claim("data-web-0", owners: [pod])]),
              expected: []),
    ]
}()

@Test(arguments: gcCases)
func garbageCollector(_ c: Fx.Case) {
    #expect(WF.summary(GarbageCollector.plan(c.snapshot)) == c.expected)
}

@Test func deletingAReplicaSetCascades() {
    var sim = ClusterSim(WF.snapshot(replicaSets: [WF.replicaSet(replicas: 2)]))
    sim.names = FakeNames(["aaaaa", "bbbbb"])
    sim.converge()
    #expect(sim.podNames() == ["api-aaaaa", "api-bbbbb"])
    sim.s.replicaSets[0].metadata.deletionTimestamp = sim.s.now
    sim.converge()
    #expect(sim.podNames() == [])
    #expect(sim.s.replicaSets.isEmpty)
}

/// Foreground and orphan cascading (kubectl delete --cascade=foreground|orphan): the owner's
/// finalizer, set by the API server, tells the collector what to do with the dependents, and comes off
/// once it is done.
private let propagationCases: [Fx.Case] = {
    let set = WF.statefulSet()
    let rs = WF.replicaSet()
    func deleting<T: KubeObject>(_ o: T, _ finalizer: String) -> T {
        var o = o
        o.metadata.deletionTimestamp = WF.t0
        o.metadata.finalizers = [finalizer]
        return o
    }
    let foregroundSet = deleting(set, Well.foregroundDeletionFinalizer)
    let orphaningSet = deleting(set, Well.orphanFinalizer)
    let orphaningRS = deleting(rs, Well.orphanFinalizer)
    let pod = WF.setPod(set, 0)
    var nonBlocking = WF.setPod(set, 1)
    nonBlocking.metadata.ownerReferences?[0].blockOwnerDeletion = false
    var foregroundPod = deleting(WF.pod("loose"), Well.foregroundDeletionFinalizer)
    foregroundPod.spec.nodeName = nil
    return [
        .init(number: 1, name: "foreground: the set's pods and claims are deleted, the set waits for them",
              snapshot: WF.snapshot(sets: [foregroundSet], pods: [pod], claims: [WF.claim("data-web-0", owners: [set])]),
              expected: ["delete Pod default/web-0", "delete PersistentVolumeClaim default/data-web-0"], settles: false),
        .init(number: 2, name: "foreground: a terminating pod still blocks its set",
              snapshot: WF.snapshot(sets: [foregroundSet], pods: [WF.setPod(set, 0, deleting: true)]), expected: []),
        .init(number: 3, name: "foreground: with no blocking dependent left the finalizer comes off",
              snapshot: WF.snapshot(sets: [foregroundSet]), expected: ["update StatefulSet default/web finalizers="]),
        .init(number: 4, name: "foreground: a dependent without blockOwnerDeletion does not hold the set",
              snapshot: WF.snapshot(sets: [foregroundSet], pods: [WF.setPod(set, 1, deleting: true)].map { p in
                  var p = p; p.metadata.ownerReferences?[0].blockOwnerDeletion = false; return p }),
              expected: ["update StatefulSet default/web finalizers="]),
        .init(number: 5, name: "orphan: the pods and claims lose their reference to the set and stay",
              snapshot: WF.snapshot(sets: [orphaningSet], pods: [pod], claims: [WF.claim("data-web-0", owners: [set])]),
              expected: ["update Pod default/web-0 owners=", "update PersistentVolumeClaim default/data-web-0 owners="],
              settles: false),
        .init(number: 6, name: "orphan: once nothing refers to the set its finalizer comes off",
              snapshot: WF.snapshot(sets: [orphaningSet], pods: [WF.pod("web-0")]), expected: ["update StatefulSet default/web finalizers="]),
        .init(number: 7, name: "orphan: a ReplicaSet's pods are released",
              snapshot: WF.snapshot(replicaSets: [orphaningRS], pods: [WF.pod("api-abcde", owner: rs)]),
              expected: ["update Pod default/api-abcde owners="], settles: false),
        .init(number: 8, name: "orphan: a claim with another, solid owner keeps that one",
              snapshot: WF.snapshot(sets: [orphaningSet], pods: [WF.setPod(set, 0)].map { p in var p = p; p.metadata.ownerReferences = nil; return p },
                                    claims: [WF.claim("data-web-0", owners: [set, WF.setPod(set, 0)])]),
              expected: ["update PersistentVolumeClaim default/data-web-0 owners=Pod/web-0"], settles: false),
        .init(number: 9, name: "a pod in foreground deletion: the claims it owns are deleted first",
              snapshot: WF.snapshot(pods: [foregroundPod], claims: [WF.claim("scratch", owners: [WF.pod("loose")])]),
              expected: ["delete PersistentVolumeClaim default/scratch"], settles: false),
        .init(number: 10, name: "a set deleting without a finalizer (background) is not waited for",
              snapshot: WF.snapshot(sets: [{ var s = set; s.metadata.deletionTimestamp = WF.t0; return s }()]), expected: []),
        .init(number: 11, name: "foreground: a non-blocking live dependent is deleted but does not hold the set",
              snapshot: WF.snapshot(sets: [foregroundSet], pods: [nonBlocking]),
              expected: ["delete Pod default/web-1", "update StatefulSet default/web finalizers="], settles: false),
    ]
}()

private func propagationSummary(_ actions: [Action]) -> [String] {
    actions.map { a in
        switch a {
        case .update(let o) where o is StatefulSet || o is ReplicaSet:
            return "update \(type(of: o).kind.rawValue) \(o.namespace ?? "")/\(o.name) finalizers=\((o.metadata.finalizers ?? []).joined(separator: ","))"
        case .update(let o):
            let owners = (o.metadata.ownerReferences ?? []).map { "\($0.kind)/\($0.name)" }.joined(separator: ",")
            return "update \(type(of: o).kind.rawValue) \(o.namespace ?? "")/\(o.name) owners=\(owners)"
        default:
            return WF.summary([a]).first ?? "other"
        }
    }
}

@Test(arguments: propagationCases)
func garbageCollectorPropagation(_ c: Fx.Case) {
    #expect(propagationSummary(GarbageCollector.plan(c.snapshot)) == c.expected)
}

/// Triggers: a deleting owner is planned by the collector, and so is the owner of a dependent that went.
@Test func collectorTriggersReachTheOwner() {
    var set = WF.statefulSet()
    set.metadata.deletionTimestamp = WF.t0
    set.metadata.finalizers = [Well.foregroundDeletionFinalizer]
    let pod = WF.setPod(WF.statefulSet(), 0)
    let index = ClusterIndex(WF.snapshot(sets: [set]))
    let setRef = ObjectRef(.statefulSet, NamespacedName("default", "web"))
    #expect(Triggers.keys(for: IndexChange(old: pod, new: nil), in: index).keys(.garbageCollector).contains(setRef))
    #expect(Triggers.keys(for: IndexChange(old: WF.statefulSet(), new: set), in: index).keys(.garbageCollector).contains(setRef))
}
