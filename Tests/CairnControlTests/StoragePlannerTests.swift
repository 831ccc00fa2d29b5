import CairnControl
import CairnCore
import Foundation
import Testing

private let two = [Fx.node("node1"), Fx.node("node2")]
private let fast = Fx.storageClass()
private let wffc = Fx.storageClass("local", waitForConsumer: true)

private func provisionSteps(_ claim: String, node: String, dir: String? = nil, capacity: String = "1Gi", mode: String = "777",
                            namespace: String = "default", selected: Bool = false) -> [String] {
    let pv = "pvc-uid-\(claim)"
    return [
        "event Normal Provisioning persistentvolumeclaim \(namespace)/\(claim) (from cairn.io/local-path): External provisioner is provisioning volume for claim \"\(namespace)/\(claim)\"",
        "provision \(pv) on \(node) at \(dir ?? "/data/\(node)")/\(pv)_\(namespace)_\(claim) mode=\(mode) phase=Bound claim=\(namespace)/\(claim) then [event Normal ProvisioningSucceeded persistentvolumeclaim \(namespace)/\(claim) (from cairn.io/local-path): Successfully provisioned volume \(pv); history provisioned \(namespace)/\(claim) volume=\(pv) node=\(node)]",
    ]
}

private func pending(_ claim: String) -> String { "update PersistentVolumeClaim default/\(claim) phase=Pending volume=-" }

private let storageCases: [Fx.Case] = {
    var cases: [Fx.Case] = []
    func add(_ name: String, _ s: ClusterSnapshot, _ expected: [String], settles: Bool = true) {
        cases.append(Fx.Case(number: cases.count + 1, name: name, snapshot: s, expected: expected, settles: settles))
    }

    // 1-2: classes Cairn cannot provision with.
    add("class missing", Fx.snapshot(nodes: two, claims: [Fx.claim("data", storageClass: "gone")]), [
        pending("data"),
        "event Warning ProvisioningFailed persistentvolumeclaim default/data: storageclass.storage.k8s.io \"gone\" not found",
    ])
    add("class of another provisioner", Fx.snapshot(nodes: two, classes: [Fx.storageClass("nfs", provisioner: "example.com/nfs")],
                                                    claims: [Fx.claim("data", storageClass: "nfs")]), [
        pending("data"),
        "event Normal ExternalProvisioning persistentvolumeclaim default/data: Waiting for a volume to be created either by the external provisioner 'example.com/nfs' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    ])

    // 3-7: static binding.
    add("static binding takes the smallest volume that fits", Fx.snapshot(nodes: two, classes: [fast], volumes: [
        Fx.volume("pv-512mi", node: "node1", storage: "512Mi"),
        Fx.volume("pv-2gi", node: "node1", storage: "2Gi"),
        Fx.volume("pv-1gi", node: "node2", storage: "1Gi"),
        Fx.volume("pv-1gi-rox", node: "node1", storage: "1Gi", modes: ["ReadOnlyMany"]),
        Fx.volume("pv-1gi-slow", node: "node1", storage: "1Gi", storageClass: "slow"),
    ], claims: [Fx.claim("data")]), [
        "update PersistentVolume pv-1gi phase=Bound claim=default/data",
        "update PersistentVolumeClaim default/data phase=Bound volume=pv-1gi",
        "history bound default/data volume=pv-1gi node=node2",
    ])
    add("static binding honours the claim's selector", Fx.snapshot(nodes: two, classes: [fast], volumes: [
        Fx.volume("pv-plain", node: "node1", storage: "1Gi"),
        Fx.volume("pv-gold", node: "node1", storage: "5Gi", labels: ["tier": "gold"]),
    ], claims: [Fx.claim("data", selector: LabelSelector(matchLabels: ["tier": "gold"]))]), [
        "update PersistentVolume pv-gold phase=Bound claim=default/data",
        "update PersistentVolumeClaim default/data phase=Bound volume=pv-gold",
        "history bound default/data volume=pv-gold node=node1",
    ])
    add("spec.volumeName binds that volume only", Fx.snapshot(nodes: two, classes: [fast], volumes: [
        Fx.volume("pv-a", node: "node1", storage: "1Gi"), Fx.volume("pv-b", node: "node2", storage: "3Gi"),
    ], claims: [Fx.claim("data", volumeName: "pv-b")]), [
        "update PersistentVolume pv-b phase=Bound claim=default/data",
        "update PersistentVolumeClaim default/data phase=Bound volume=pv-b",
        "history bound default/data volume=pv-b node=node2",
    ])
    add("spec.volumeName too small", Fx.snapshot(nodes: two, classes: [fast], volumes: [Fx.volume("pv-small", node: "node1", storage: "512Mi")],
                                                 claims: [Fx.claim("data", volumeName: "pv-small")]), [
        "update PersistentVolumeClaim default/data phase=Pending volume=pv-small",
        "event Warning VolumeMismatch persistentvolumeclaim default/data: Cannot bind to requested volume \"pv-small\": requested PV is too small",
    ])
    let other = Fx.boundPair("other", node: "node1", created: -5)
    add("spec.volumeName bound to another claim", Fx.snapshot(nodes: two, classes: [fast], volumes: [other.volume],
                                                              claims: [other.claim, Fx.claim("data", created: 5, volumeName: "pvc-uid-other")]), [
        "update PersistentVolumeClaim default/data phase=Pending volume=pvc-uid-other",
        "event Warning FailedBinding persistentvolumeclaim default/data: volume \"pvc-uid-other\" already bound to a different claim.",
    ])

    // 8-11: Immediate provisioning and placement.
    let crowded = [Fx.node("node1"), Fx.node("node2"), Fx.node("node3", storage: "5Gi")]
    let filler = Fx.boundPair("filler", node: "node1", storage: "8Gi", created: -10)
    add("spread: the node with the most free storage", Fx.snapshot(nodes: crowded, classes: [fast], volumes: [filler.volume],
                                                                   claims: [filler.claim, Fx.claim("data")]),
        provisionSteps("data", node: "node2"))
    add("pack: the node with the least free storage that fits",
        Fx.snapshot(nodes: crowded, classes: [Fx.storageClass(placement: "pack", dirMode: "0750")], volumes: [filler.volume],
                    claims: [filler.claim, Fx.claim("data")]),
        provisionSteps("data", node: "node1", mode: "750"))
    add("ties go to the name that sorts first", Fx.snapshot(nodes: [Fx.node("node-b"), Fx.node("node-a")], classes: [fast],
                                                            claims: [Fx.claim("data")]),
        provisionSteps("data", node: "node-a"))
    let half = Fx.boundPair("half", node: "node1", storage: "512Mi", created: -10)
    let full = Fx.boundPair("full", node: "node2", storage: "1Gi", created: -10)
    add("no node has room", Fx.snapshot(nodes: [Fx.node("node1", storage: "1Gi"), Fx.node("node2", storage: "1Gi")], classes: [fast],
                                        volumes: [half.volume, full.volume], claims: [half.claim, full.claim, Fx.claim("data", storage: "1G")]), [
        pending("data"),
        "event Warning ProvisioningFailed persistentvolumeclaim default/data (from cairn.io/local-path): failed to provision volume with StorageClass \"fast\": no node has 1G of free storage (node1: 512Mi free, node2: 0 free)",
    ])

    // 12-16: WaitForFirstConsumer.
    add("WaitForFirstConsumer without a consumer", Fx.snapshot(nodes: two, classes: [wffc], claims: [Fx.claim("data", storageClass: "local")]), [
        pending("data"),
        "event Normal WaitForFirstConsumer persistentvolumeclaim default/data: waiting for first consumer to be created before binding",
    ])
    add("WaitForFirstConsumer names the pod it waits for", Fx.snapshot(nodes: two, classes: [wffc], claims: [Fx.claim("data", storageClass: "local")],
                                                                       pods: [Fx.pod("web-0", claims: ["data"])]), [
        pending("data"),
        "event Normal WaitForPodScheduled persistentvolumeclaim default/data: waiting for pod web-0 to be scheduled",
    ])
    add("WaitForFirstConsumer provisions on the selected node", Fx.snapshot(nodes: [Fx.node("node1", storage: "2Gi"), Fx.node("node2")], classes: [wffc],
                                                                            claims: [Fx.claim("data", storageClass: "local", selectedNode: "node1")]),
        provisionSteps("data", node: "node1", selected: true))
    let big = Fx.boundPair("big", node: "node1", storage: "1Gi", storageClass: "local", created: -10)
    add("selected node without room", Fx.snapshot(nodes: [Fx.node("node1", storage: "2Gi"), Fx.node("node2")], classes: [wffc], volumes: [big.volume],
                                                  claims: [big.claim, Fx.claim("data", storage: "2Gi", storageClass: "local", selectedNode: "node1")]), [
        "update PersistentVolumeClaim default/data phase=Pending volume=- selected-node=node1",
        "event Warning ProvisioningFailed persistentvolumeclaim default/data (from cairn.io/local-path): failed to provision volume with StorageClass \"local\": node \"node1\" does not have 2Gi of free storage (1Gi free)",
    ])
    add("selected node with a matching volume binds it", Fx.snapshot(nodes: two, classes: [wffc], volumes: [
        Fx.volume("pv-n2", node: "node2", storage: "1Gi", storageClass: "local"),
        Fx.volume("pv-n1", node: "node1", storage: "1Gi", storageClass: "local"),
    ], claims: [Fx.claim("data", storageClass: "local", selectedNode: "node1")]), [
        "update PersistentVolume pv-n1 phase=Bound claim=default/data",
        "update PersistentVolumeClaim default/data phase=Bound volume=pv-n1 selected-node=node1",
        "history bound default/data volume=pv-n1 node=node1",
    ])

    // 17-19: accounting.
    add("claims of one sync are counted against each other", Fx.snapshot(nodes: [Fx.node("node1", storage: "3Gi")], classes: [fast], claims: [
        Fx.claim("a", created: 1), Fx.claim("b", created: 2), Fx.claim("c", storage: "2Gi", created: 3),
    ]), provisionSteps("a", node: "node1") + provisionSteps("b", node: "node1") + [
        pending("c"),
        "event Warning ProvisioningFailed persistentvolumeclaim default/c (from cairn.io/local-path): failed to provision volume with StorageClass \"fast\": no node has 2Gi of free storage (node1: 1Gi free)",
    ])
    add("spread across nodes within one sync", Fx.snapshot(nodes: [Fx.node("node1", storage: "4Gi"), Fx.node("node2", storage: "3Gi")], classes: [fast], claims: [
        Fx.claim("a", storage: "2Gi", created: 1), Fx.claim("b", storage: "2Gi", created: 2), Fx.claim("c", storage: "2Gi", created: 3),
    ]), provisionSteps("a", node: "node1", capacity: "2Gi") + provisionSteps("b", node: "node2", capacity: "2Gi")
        + provisionSteps("c", node: "node1", capacity: "2Gi"))
    add("a selected node's claim keeps its share", Fx.snapshot(nodes: [Fx.node("node1", storage: "3Gi")], classes: [fast, wffc], claims: [
        Fx.claim("early", storage: "2Gi", created: 1),
        Fx.claim("late", storage: "2Gi", storageClass: "local", created: 2, selectedNode: "node1"),
    ]), [
        pending("early"),
        "event Warning ProvisioningFailed persistentvolumeclaim default/early (from cairn.io/local-path): failed to provision volume with StorageClass \"fast\": no node has 2Gi of free storage (node1: 1Gi free)",
    ] + provisionSteps("late", node: "node1", capacity: "2Gi", selected: true))

    // 20: a crash after the volume was created, before the claim was bound.
    var orphan = Fx.boundPair("data", node: "node1")
    orphan.claim = Fx.claim("data")
    add("volume provisioned, claim not bound yet", Fx.snapshot(nodes: two, classes: [fast], volumes: [orphan.volume], claims: [orphan.claim]), [
        "update PersistentVolumeClaim default/data phase=Bound volume=pvc-uid-data",
        "history bound default/data volume=pvc-uid-data node=node1",
    ])

    // 21-23: pvc-protection.
    add("deleted claim without users loses its finalizer", Fx.snapshot(nodes: two, classes: [fast], claims: [Fx.claim("data", deleting: true)]), [
        "update PersistentVolumeClaim default/data phase=Pending volume=- finalizers=",
    ])
    let used = Fx.boundPair("data", node: "node1")
    var usedDeleting = used.claim
    usedDeleting.metadata.deletionTimestamp = Fx.time(100)
    add("deleted claim in use by a running pod stays", Fx.snapshot(nodes: two, classes: [fast], volumes: [used.volume], claims: [usedDeleting],
                                                                   pods: [Fx.pod("web-0", claims: ["data"], node: "node1", phase: .running)]), [])
    add("finished and unscheduled pods do not hold a claim", Fx.snapshot(nodes: two, classes: [fast], volumes: [used.volume], claims: [usedDeleting], pods: [
        Fx.pod("done", claims: ["data"], node: "node1", phase: .succeeded), Fx.pod("waiting", claims: ["data"]),
    ]), ["update PersistentVolumeClaim default/data phase=Bound volume=pvc-uid-data finalizers="], settles: false)

    // 24-28: volumes whose claim is gone.
    let gone = Fx.boundPair("data", node: "node1")
    add("Released, reclaim Delete", Fx.snapshot(nodes: two, classes: [fast], volumes: [gone.volume]), [
        "update PersistentVolume pvc-uid-data phase=Released claim=default/data",
        "history released default/data volume=pvc-uid-data node=node1",
        "reclaimDelete pvc-uid-data on node1 at /data/node1/pvc-uid-data",
        "history deleted default/data volume=pvc-uid-data node=node1",
    ])
    let kept = Fx.boundPair("data", node: "node1", reclaim: "Retain")
    add("Released, reclaim Retain", Fx.snapshot(nodes: two, classes: [fast], volumes: [kept.volume]), [
        "update PersistentVolume pvc-uid-data phase=Released claim=default/data",
        "history released default/data volume=pvc-uid-data node=node1",
    ])
    var retained = kept.volume
    retained.status?.phase = .released
    add("a Released volume is never bound again automatically",
        Fx.snapshot(nodes: [Fx.node("node1")], classes: [fast], volumes: [retained], claims: [Fx.claim("data", uid: "uid-data-2")]), [
            "event Normal Provisioning persistentvolumeclaim default/data (from cairn.io/local-path): External provisioner is provisioning volume for claim \"default/data\"",
            "provision pvc-uid-data-2 on node1 at /data/node1/pvc-uid-data-2_default_data mode=777 phase=Bound claim=default/data then [event Normal ProvisioningSucceeded persistentvolumeclaim default/data (from cairn.io/local-path): Successfully provisioned volume pvc-uid-data-2; history provisioned default/data volume=pvc-uid-data-2 node=node1]",
        ])
    let lost = Fx.boundPair("data", node: "node1")
    add("bound claim whose volume disappeared is Lost", Fx.snapshot(nodes: two, classes: [fast], claims: [lost.claim]), [
        "update PersistentVolumeClaim default/data phase=Lost volume=pvc-uid-data",
        "event Warning ClaimLost persistentvolumeclaim default/data: Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        "history lost default/data volume=pvc-uid-data",
    ])
    add("static volume with Delete cannot be deleted", Fx.snapshot(nodes: two, classes: [fast], volumes: [
        Fx.volume("pv-static", node: "node1", claim: Fx.claim("data"), reclaim: "Delete"),
    ]), [
        "update PersistentVolume pv-static phase=Failed claim=default/data",
        "event Warning VolumeFailedDelete persistentvolume pv-static: no deletable volume plugin matched",
        "history released default/data volume=pv-static node=node1",
    ])

    // 29-33: the rest of the PV controller.
    add("no class and no volume", Fx.snapshot(nodes: two, classes: [fast], claims: [Fx.claim("data", storageClass: "")]), [
        pending("data"),
        "event Normal FailedBinding persistentvolumeclaim default/data: no persistent volumes available for this claim and no storage class is set",
    ])
    add("a default class created later is given to a claim without one",
        Fx.snapshot(nodes: two, classes: [Fx.storageClass(isDefault: true)], claims: [Fx.claim("data", storageClass: nil)]),
        [pending("data")], settles: false)
    let fine = Fx.boundPair("data", node: "node1")
    add("a bound pair is left alone", Fx.snapshot(nodes: two, classes: [fast], volumes: [fine.volume], claims: [fine.claim]), [])
    var created = Fx.volume("pv-new", node: "node1")
    created.status = nil
    add("a new volume becomes Available", Fx.snapshot(nodes: two, classes: [fast], volumes: [created]), [
        "update PersistentVolume pv-new phase=Available claim=-",
    ])
    add("a deleted unbound volume loses its finalizer", Fx.snapshot(nodes: two, classes: [fast], volumes: [Fx.volume("pv-old", node: "node1", deleting: true)]), [
        "update PersistentVolume pv-old phase=Available claim=- finalizers=",
    ])
    return cases
}()

@Suite("StoragePlanner")
struct StoragePlannerTests {
    @Test(arguments: storageCases)
    func plans(_ c: Fx.Case) {
        #expect(Fx.summaries(StoragePlanner.plan(c.snapshot)) == c.expected)
    }

    /// Level-triggered: planning again on the state the actions produce plans nothing new (after a
    /// provisioned volume is bound, which is the next plan's work).
    @Test(arguments: storageCases)
    func idempotent(_ c: Fx.Case) {
        var after = Fx.apply(StoragePlanner.plan(c.snapshot), to: c.snapshot)
        let next = StoragePlanner.plan(after)
        if Fx.summaries(next).allSatisfy({ $0.hasPrefix("update PersistentVolumeClaim") || $0.hasPrefix("history bound") }) {
            after = Fx.apply(next, to: after)
        }
        if c.settles {
            #expect(Fx.summaries(StoragePlanner.plan(after)) == [])
        } else {
            let (_, log) = Fx.converge(after, StoragePlanner.plan)
            #expect(log.count < 4, "did not converge: \(log)")
        }
    }

    @Test func provisionedVolumeAndClaim() throws {
        let s = Fx.snapshot(nodes: [Fx.node("node1", dataRoot: "/srv/cairn/")], classes: [Fx.storageClass(reclaim: "Retain", dirMode: "0750")],
                            claims: [Fx.claim("data", namespace: "shop", storage: "3Gi", modes: ["ReadWriteOncePod"], uid: "1234")])
        let actions = StoragePlanner.plan(s)
        guard case .provision(let pv, let dir, _)? = actions.first(where: { if case .provision = $0 { true } else { false } }) else {
            Issue.record("no provision in \(Fx.summaries(actions))"); return
        }
        #expect(dir == VolumeDirectorySpec(node: "node1", dataRoot: "/srv/cairn/", name: "pvc-1234_shop_data", mode: 0o750))
        #expect(dir.path == "/srv/cairn/pvc-1234_shop_data")
        #expect(pv.name == "pvc-1234")
        #expect(pv.apiVersion == "v1" && pv.kind == "PersistentVolume")
        #expect(pv.metadata.annotation(Well.provisionedBy) == "cairn.io/local-path")
        #expect(pv.metadata.finalizers == [Well.pvProtection])
        #expect(pv.spec.capacity?["storage"] == Fx.q("3Gi"))
        #expect(pv.spec.accessModes == ["ReadWriteOncePod"])
        #expect(pv.spec.persistentVolumeReclaimPolicy == "Retain")
        #expect(pv.spec.storageClassName == "fast")
        #expect(pv.spec.claimRef == ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "shop", name: "data",
                                                     uid: "1234", resourceVersion: "1"))
        #expect(pv.spec.local?.path == "/srv/cairn/pvc-1234_shop_data")
        #expect(pv.spec.nodeAffinity == VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: ["node1"])]),
        ])))
        #expect(pv.spec.volumeMode == "Filesystem")
        #expect(pv.status?.phase == .bound)
        #expect(Validation.validatePersistentVolume(pv).isEmpty)

        // The claim is bound by the next plan, once the volume exists.
        let next = StoragePlanner.plan(Fx.apply(actions, to: s))
        let claims = next.compactMap { a -> PersistentVolumeClaim? in if case .update(let c as PersistentVolumeClaim) = a { c } else { nil } }
        let claim = try #require(claims.count == 1 ? claims[0] : nil)
        #expect(claim.spec.volumeName == "pvc-1234")
        #expect(claim.metadata.annotation(Well.storageProvisioner) == "cairn.io/local-path")
        #expect(claim.metadata.annotation(Well.betaStorageProvisioner) == "cairn.io/local-path")
        #expect(claim.metadata.annotation(Well.bindCompleted) == "yes")
        #expect(claim.metadata.annotation(Well.boundByController) == "yes")
        #expect(claim.metadata.annotation(Well.lastStorageEvent) == nil)
        #expect(claim.status?.phase == .bound)
        #expect(claim.status?.capacity?["storage"] == Fx.q("3Gi"))
        #expect(claim.status?.accessModes == ["ReadWriteOncePod"])
    }

    /// A pending claim's event is written once: the next sync finds its decision recorded.
    @Test func pendingEventIsNotRepeated() {
        let s = Fx.snapshot(nodes: two, claims: [Fx.claim("data", storageClass: "gone")])
        let first = StoragePlanner.plan(s)
        #expect(first.count == 2)
        #expect(StoragePlanner.plan(Fx.apply(first, to: s)).isEmpty)
        // A different reason is a new decision: reported again.
        var later = Fx.apply(first, to: s)
        later.storageClasses = [Fx.storageClass("gone", provisioner: "example.com/other")]
        #expect(Fx.summaries(StoragePlanner.plan(later)).last?.hasPrefix("event Normal ExternalProvisioning") == true)
    }

    @Test func provisioningNeverOvercommitsANode() {
        var claims: [PersistentVolumeClaim] = []
        for i in 0..<40 { claims.append(Fx.claim("c\(i)", storage: "\(1 + i % 3)Gi", created: i)) }
        let nodes = [Fx.node("node1", storage: "20Gi"), Fx.node("node2", storage: "15Gi"), Fx.node("node3", storage: "7Gi")]
        for placement in ["spread", "pack"] {
            let s = Fx.snapshot(nodes: nodes, classes: [Fx.storageClass(placement: placement)], claims: claims)
            let (end, _) = Fx.converge(s, StoragePlanner.plan)
            for node in nodes {
                let used = end.persistentVolumes.filter { $0.spec.local?.path.hasPrefix("/data/\(node.name)/") == true }
                    .reduce(Int64(0)) { $0 + ($1.spec.capacity?["storage"]?.bytes ?? 0) }
                #expect(used <= node.allocatableStorage!.bytes!, "\(placement): \(node.name) holds \(used) bytes")
            }
            #expect(end.claims.filter { $0.status?.phase == .bound }.count > 20)
        }
    }

    /// A thousand new claims beside five hundred bound ones: each new one is provisioned once, on a
    /// node with room, and no node is promised more than it has. (How long it takes is a benchmark's
    /// question: tools/bench-planners.sh.)
    @Test func thousandClaimsAllProvisioned() {
        var claims: [PersistentVolumeClaim] = []
        var volumes: [PersistentVolume] = []
        for i in 0..<1000 { claims.append(Fx.claim(String(format: "data-%04d", i), created: i)) }
        for i in 0..<500 {
            let pair = Fx.boundPair(String(format: "old-%04d", i), node: "node\(i % 10)", created: -i - 1)
            claims.append(pair.claim)
            volumes.append(pair.volume)
        }
        let nodes = (0..<10).map { Fx.node("node\($0)", storage: "200Gi") }
        let s = Fx.snapshot(nodes: nodes, classes: [fast], volumes: volumes, claims: claims)
        let actions = StoragePlanner.plan(s)
        var perNode: [String: Int] = [:]
        var provisioned = Set<String>()
        for case .provision(let pv, let dir, _) in actions {
            perNode[dir.node, default: 0] += 1
            provisioned.insert(pv.spec.claimRef?.name ?? "")
        }
        #expect(provisioned.count == 1000)
        #expect(actions.count == 2000)
        // 50 old volumes per node, then spread by free storage: 100 new ones each.
        #expect(Set(perNode.values) == [100])
    }
}
