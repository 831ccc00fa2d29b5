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
