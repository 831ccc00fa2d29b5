import CairnControl
import CairnCore
import Testing

/// The index is kept one change at a time; whatever order the changes come in, it must answer as an
/// index built from the end state does, and planning one key must be planning that key.
@Suite("ClusterIndex")
struct ClusterIndexTests {
    static let local = Fx.storageClass("local", waitForConsumer: true)

    static func endState() -> ClusterSnapshot {
        let a = Fx.boundPair("a", node: "node1", storage: "3Gi")
        let b = Fx.boundPair("b", node: "node2", storage: "1Gi")
        return Fx.snapshot(nodes: [Fx.node("node1", storage: "10Gi"), Fx.node("node2", storage: "4Gi")],
                           classes: [Fx.storageClass(), local, Fx.storageClass("standard", isDefault: true)],
                           volumes: [a.volume, b.volume, Fx.volume("spare", node: "node2", storage: "2Gi")],
                           claims: [a.claim, b.claim, Fx.claim("new", storageClass: "local", selectedNode: "node1"), Fx.claim("later", created: 9)],
                           pods: [Fx.pod("web-0", claims: ["a"], node: "node1", phase: .running), Fx.pod("web-1", claims: ["new"])])
    }

    /// Reaches the end state through creates, updates of what was there and removals of extras.
    static func incremental(_ end: ClusterSnapshot) -> ClusterIndex {
        var index = ClusterIndex()
        index.localNodes = end.localNodes
        index.observed = end.observed
        // Pods and claims before what they refer to, volumes before nodes: every lookup starts missing.
        for o in end.pods { index.upsert(o) }
        for o in end.claims { index.upsert(o) }
        for o in end.persistentVolumes { index.upsert(o) }
        // A volume and a claim that go away again.
        index.upsert(Fx.volume("temp", node: "node1", storage: "5Gi"))
        index.upsert(Fx.claim("temp", storage: "2Gi", selectedNode: "node2"))
        for o in end.nodes { index.upsert(o) }
        for o in end.storageClasses { index.upsert(o) }
        index.remove(ObjectRef(.persistentVolume, NamespacedName(nil, "temp")))
        index.remove(ObjectRef(.persistentVolumeClaim, NamespacedName("default", "temp")))
        // Updates of objects already there.
        for o in end.claims { index.upsert(o) }
        for o in end.persistentVolumes { index.upsert(o) }
        return index
    }

    @Test func incrementalEqualsRebuilt() {
        let end = Self.endState()
        let rebuilt = ClusterIndex(end), kept = Self.incremental(end)
        for node in ["node1", "node2"] {
            #expect(kept.freeStorage(node: node) == rebuilt.freeStorage(node: node), "free storage of \(node)")
        }
        // node1: 10Gi - 3Gi (a) - 1Gi reserved for "new" (selected, class of Cairn's); node2: 4Gi - 1Gi - 2Gi.
        #expect(rebuilt.freeStorage(node: "node1") == 6 << 30)
        #expect(rebuilt.freeStorage(node: "node2") == 1 << 30)
        #expect(kept.node(ofVolume: "spare") == "node2")
        #expect(kept.defaultStorageClass?.name == "standard")
        let now = Fx.now
        #expect(Fx.summaries(StoragePlanner.plan(kept, keys: StoragePlanner.keys(kept), now: now))
                == Fx.summaries(StoragePlanner.plan(rebuilt, keys: StoragePlanner.keys(rebuilt), now: now)))
        #expect(Fx.summaries(Scheduler.plan(kept, keys: Scheduler.keys(kept), now: now))
                == Fx.summaries(Scheduler.plan(rebuilt, keys: Scheduler.keys(rebuilt), now: now)))
    }

    /// For the planners whose keys do not share a budget, planning each key alone and all keys at once
    /// give the same actions.
    @Test func planningOneKeyIsPlanningThatKey() {
        let s = Self.endState()
        let index = ClusterIndex(s)
        let now = Fx.now
        let all = Fx.summaries(NodeAgentPlanner.plan(index, keys: NodeAgentPlanner.keys(index), now: now)).sorted()
        let each = NodeAgentPlanner.keys(index).flatMap { Fx.summaries(NodeAgentPlanner.plan(index, keys: [$0], now: now)) }.sorted()
        #expect(all == each)
        let gcAll = Fx.summaries(GarbageCollector.plan(index, keys: GarbageCollector.keys(index))).sorted()
        let gcEach = GarbageCollector.keys(index).flatMap { Fx.summaries(GarbageCollector.plan(index, keys: [$0])) }.sorted()
        #expect(gcAll == gcEach)
    }
}

/// The informers' handlers: which keys a change makes each controller plan again.
@Suite("Triggers")
struct TriggersTests {
    static func keys(_ d: DirtyKeys, _ c: Controller) -> [String] { d.keys(c).map(\.description).sorted() }

    @Test func aClaimChangeWakesItsVolumeItsPodsAndItsSet() throws {
        let pair = Fx.boundPair("volume-web-0", node: "node1")
        let set = WF.statefulSet("web", replicas: 1, templates: [WF.claimTemplate("volume")])
        var s = Fx.snapshot(nodes: [Fx.node("node1")], volumes: [pair.volume], claims: [pair.claim],
                            pods: [Fx.pod("web-0", claims: ["volume-web-0"], node: "node1")])
        s.statefulSets = [set]
        let index = ClusterIndex(s)
        var updated = pair.claim
        updated.metadata.labels = ["x": "y"]
        let d = Triggers.keys(for: IndexChange(old: pair.claim, new: updated), in: index)
        #expect(Self.keys(d, .persistentVolume) == ["PersistentVolume pvc-uid-volume-web-0", "PersistentVolumeClaim default/volume-web-0"])
        #expect(Self.keys(d, .kubelet) == ["Pod default/web-0"])
        #expect(Self.keys(d, .scheduler) == ["Pod default/web-0"])
        #expect(Self.keys(d, .garbageCollector) == ["PersistentVolumeClaim default/volume-web-0"])
        #expect(Self.keys(d, .statefulSet) == ["StatefulSet default/web"])
        #expect(Self.keys(d, .replicaSet).isEmpty)
    }

    @Test func aPodChangeWakesItsControllerAndItsClaims() {
        let set = WF.statefulSet("web", replicas: 1)
        let pod = WF.setPod(set, 0)
        var s = Fx.snapshot(nodes: [Fx.node("n1")], pods: [pod])
        s.statefulSets = [set]
        let index = ClusterIndex(s)
        let d = Triggers.keys(for: IndexChange(old: nil, new: pod), in: index)
        #expect(Self.keys(d, .statefulSet) == ["StatefulSet \(WF.ns)/web"])
        #expect(Self.keys(d, .kubelet) == ["Pod \(WF.ns)/web-0"])
        #expect(d.keys(.persistentVolume).allSatisfy { $0.kind == .persistentVolumeClaim })
    }

    @Test func aNodeChangeWakesItsLifecycleItsPodsAndWhatWaits() {
        let s = Fx.snapshot(nodes: [Fx.node("node1")], claims: [Fx.claim("waiting")],
                            pods: [Fx.pod("on", node: "node1"), Fx.pod("unscheduled")])
        let index = ClusterIndex(s)
        let d = Triggers.keys(for: IndexChange(old: s.nodes[0], new: s.nodes[0]), in: index)
        #expect(Self.keys(d, .nodeLifecycle) == ["Node node1"])
        #expect(Self.keys(d, .kubelet) == ["Pod default/on"])
        #expect(Self.keys(d, .scheduler) == ["Pod default/unscheduled"])
        #expect(Self.keys(d, .persistentVolume) == ["PersistentVolumeClaim default/waiting"])
    }

    @Test func anUnchangedKeyIsQueuedOnce() {
        var d = DirtyKeys()
        let ref = ObjectRef(.pod, NamespacedName("default", "a"))
        d.add(.kubelet, ref)
        d.add(.kubelet, ref)
        #expect(d.count == 1)
        #expect(d.take(.kubelet) == [ref])
        #expect(d.isEmpty)
    }
}
