import CairnControl
import CairnCore
import Testing

/// A bound pair whose claim now asks for `to`.
private func raised(_ to: String, storage: String = "1Gi", node: String = "node1") -> (claim: PersistentVolumeClaim, volume: PersistentVolume) {
    var pair = Fx.boundPair("data", node: node, storage: storage)
    pair.claim.spec.resources = ResourceRequirements(requests: ["storage": Fx.q(to)])
    return pair
}

private func summary(_ actions: [Action]) -> [String] {
    actions.map { a in
        switch a {
        case .update(let c as PersistentVolumeClaim):
            let conditions = (c.status?.conditions ?? []).map { "\($0.type)=\($0.status.rawValue)" }.joined(separator: ",")
            return "update claim capacity=\(c.status?.capacity?["storage"]?.description ?? "-") allocated=\(c.status?.allocatedResources?["storage"]?.description ?? "-") conditions=[\(conditions)]"
        case .update(let v as PersistentVolume):
            return "update volume capacity=\(v.spec.capacity?["storage"]?.description ?? "-")"
        case .resizeVolume(let v, let node, let bytes):
            return "resizeVolume \(v) on \(node) to \(bytes)"
        default:
            return Fx.summary(a)
        }
    }
}

@Suite("ExpansionPlanner")
struct ExpansionPlannerTests {
    static let nodes = [Fx.node("node1", storage: "4Gi")]

    static let cases: [Fx.Case] = {
        var cases: [Fx.Case] = []
        func add(_ name: String, _ s: ClusterSnapshot, _ expected: [String]) {
            cases.append(Fx.Case(number: cases.count + 1, name: name, snapshot: s, expected: expected))
        }
        let fine = Fx.boundPair("data", node: "node1")
        // 1. Nothing asked: nothing done.
        add("a claim at its size", Fx.snapshot(nodes: nodes, volumes: [fine.volume], claims: [fine.claim]), [])
        // 2. Step 2: room on the node.
        let grow = raised("2Gi")
        add("raised with room: the volume grows", Fx.snapshot(nodes: nodes, volumes: [grow.volume], claims: [grow.claim]), [
            "update volume capacity=2Gi",
            "update claim capacity=1Gi allocated=2Gi conditions=[Resizing=True]",
            "event Normal ExternalExpanding persistentvolumeclaim default/data (from volume_expand): waiting for an external controller to expand this PVC",
            "event Normal Resizing persistentvolumeclaim default/data (from external-resizer cairn.io/local-path): External resizer is resizing volume pvc-uid-data",
        ])
        // 3. Step 1: no room.
        let tooBig = raised("8Gi")
        add("raised past the node's free storage", Fx.snapshot(nodes: nodes, volumes: [tooBig.volume], claims: [tooBig.claim]), [
            "update claim capacity=1Gi allocated=- conditions=[ControllerResizeError=True]",
            "event Warning VolumeResizeFailed persistentvolumeclaim default/data (from external-resizer cairn.io/local-path): resize volume \"pvc-uid-data\" by resizer \"cairn.io/local-path\" failed: node \"node1\" does not have 7Gi of free storage for it (3Gi free)",
        ])
        // 4. Step 4, offline: the volume has its size, nobody has it mounted.
        var offline = raised("2Gi")
        offline.volume.spec.capacity = ["storage": Fx.q("2Gi")]
        add("grown, not mounted: done", Fx.snapshot(nodes: nodes, volumes: [offline.volume], claims: [offline.claim]), [
            "update claim capacity=2Gi allocated=2Gi conditions=[]",
            "event Normal VolumeResizeSuccessful persistentvolumeclaim default/data (from external-resizer cairn.io/local-path): ExpandVolume succeeded for volume default/data",
            "history expanded default/data volume=pvc-uid-data node=node1",
        ])
        // 5. Step 3, online: mounted, so the filesystem grows first.
        var online = Fx.snapshot(nodes: nodes, volumes: [offline.volume], claims: [offline.claim])
        let mount = PodVolumeMount(volumeName: "data", claimName: "data", claimUID: "uid-data", persistentVolume: "pvc-uid-data",
                                   node: "node1", backingPath: "/data/node1/pvc-uid-data", capacityBytes: 1 << 30, readOnly: false)
        online.observed.mounted[NamespacedName("default", "web-0")] = NodeObservations.MountedPod(uid: "u", mounts: [mount])
        add("grown and mounted: the filesystem grows", online, ["resizeVolume pvc-uid-data on node1 to \(2 << 30)"])
        // 6. Step 4, online.
        var grownOnline = online
        grownOnline.observed.resized["pvc-uid-data"] = 2 << 30
        add("the filesystem has grown: done", grownOnline, [
            "update claim capacity=2Gi allocated=2Gi conditions=[]",
            "event Normal FileSystemResizeSuccessful persistentvolumeclaim default/data (from kubelet): MountVolume.NodeExpandVolume succeeded for volume \"pvc-uid-data\" node1",
            "history expanded default/data volume=pvc-uid-data node=node1",
        ])
        // 7. Another provisioner's volume is not Cairn's to grow.
        var foreign = raised("2Gi")
        foreign.volume.metadata.setAnnotation(Well.provisionedBy, "example.com/nfs")
        add("another provisioner's volume", Fx.snapshot(nodes: nodes, volumes: [foreign.volume], claims: [foreign.claim]), [])
        return cases
    }()

    @Test(arguments: cases)
    func plans(_ c: Fx.Case) {
        #expect(summary(ExpansionPlanner.plan(c.snapshot)) == c.expected)
    }

    /// A failure already reported is not reported again.
    @Test func aFailureIsReportedOnce() {
        let tooBig = raised("8Gi")
        let s = Fx.snapshot(nodes: Self.nodes, volumes: [tooBig.volume], claims: [tooBig.claim])
        guard case .update(let claim as PersistentVolumeClaim)? = ExpansionPlanner.plan(s).first else { Issue.record("no update"); return }
        var again = s
        again.claims = [claim]
        #expect(ExpansionPlanner.plan(again).isEmpty)
    }
}
