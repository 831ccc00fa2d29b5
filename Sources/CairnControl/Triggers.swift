import CairnCore

/// A change to the index: the object before (nil when created) and after (nil when removed).
public struct IndexChange: Sendable {
    public var old: (any KubeObject)?
    public var new: (any KubeObject)?
    public init(old: (any KubeObject)?, new: (any KubeObject)?) {
        self.old = old
        self.new = new
    }
    var kind: Kind? { (new ?? old).map { type(of: $0).kind } }
    var objects: [any KubeObject] { [old, new].compactMap { $0 } }
}

/// The keys each controller has to plan again: the controllers' work queues. A key is queued once
/// however often it changes before it is planned.
public struct DirtyKeys: Sendable {
    private var queues: [Controller: Set<ObjectRef>] = [:]

    public init() {}

    public var isEmpty: Bool { queues.values.allSatisfy(\.isEmpty) }
    public var count: Int { queues.values.reduce(0) { $0 + $1.count } }

    public mutating func add(_ controller: Controller, _ ref: ObjectRef) { queues[controller, default: []].insert(ref) }
    public mutating func add(_ controller: Controller, _ refs: some Sequence<ObjectRef>) {
        queues[controller, default: []].formUnion(refs)
    }

    public mutating func merge(_ other: DirtyKeys) {
        for (c, refs) in other.queues { queues[c, default: []].formUnion(refs) }
    }

    /// Empties one controller's queue and returns what it held.
    public mutating func take(_ controller: Controller) -> [ObjectRef] {
        Array(queues.removeValue(forKey: controller) ?? [])
    }

    public func keys(_ controller: Controller) -> Set<ObjectRef> { queues[controller] ?? [] }

    /// Every key of every controller: a resync.
    public static func all(_ index: ClusterIndex) -> DirtyKeys {
        var d = DirtyKeys()
        d.add(.garbageCollector, GarbageCollector.keys(index))
        d.add(.statefulSet, StatefulSetPlanner.keys(index))
        d.add(.replicaSet, ReplicaSetPlanner.keys(index))
        d.add(.persistentVolume, StoragePlanner.keys(index))
        d.add(.scheduler, Scheduler.keys(index))
        d.add(.kubelet, NodeAgentPlanner.keys(index))
        d.add(.resizer, ExpansionPlanner.keys(index))
        d.add(.namespace, NamespacePlanner.keys(index))
        d.add(.nodeLifecycle, NodeLifecyclePlanner.keys(index))
        return d
    }
}

/// The informers' event handlers: which keys a change makes each controller plan again. Pure, and
/// read against the index as it is after the change (old relations come from `change.old`).
public enum Triggers {
    public static func keys(for change: IndexChange, in index: ClusterIndex) -> DirtyKeys {
        var d = DirtyKeys()
        switch change.kind {
        case .pod?: pod(change, index, &d)
        case .persistentVolumeClaim?: claim(change, index, &d)
        case .persistentVolume?: volume(change, index, &d)
        case .node?: node(change, index, &d)
        case .storageClass?: storageClass(change, index, &d)
        case .statefulSet?, .replicaSet?: workload(change, index, &d)
        case .namespace?:
            for o in change.objects { d.add(.namespace, ObjectRef(.namespace, NamespacedName(nil, o.name))) }
        case .service?, .event?, nil: break
        }
        if change.new == nil, let o = change.old, let ns = o.metadata.namespace, index.namespaces[ns]?.metadata.isDeleting == true {
            d.add(.namespace, ObjectRef(.namespace, NamespacedName(nil, ns)))
        }
        return d
    }

    /// A pod: itself (garbage collector, scheduler, kubelet), its controllers (or every workload of
    /// its namespace that may adopt it), the claims it names, the dependents it owns, and pods
    /// waiting for a ReadWriteOncePod claim it held.
    static func pod(_ change: IndexChange, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for o in change.objects {
            guard let pod = o as? Pod else { continue }
            let ref = ObjectRef(.pod, NamespacedName(pod))
            d.add(.garbageCollector, ref)
            d.add(.scheduler, ref)
            d.add(.kubelet, ref)
            owners(of: pod, index, &d)
            collectorOwners(of: pod, index, &d)
            for v in pod.spec.claimVolumes {
                let claim = NamespacedName(pod.namespace, v.claim)
                d.add(.persistentVolume, ObjectRef(.persistentVolumeClaim, claim))
                if change.new == nil || pod.storageIsTerminal {
                    d.add(.scheduler, index.podsByClaim[claim, default: []].filter { index.unscheduledPods.contains($0) }
                        .map { ObjectRef(.pod, $0) })
                }
            }
            dependents(of: pod.uid, index, &d)
        }
    }

    /// The workloads that control `object`, or for an orphan every workload of its namespace.
    static func owners(of object: any KubeObject, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        let ns = object.metadata.namespace ?? ""
        guard let controller = object.controllerRef else {
            d.add(.statefulSet, (index.statefulSetsByNamespace[ns] ?? []).map { ObjectRef(.statefulSet, $0) })
            d.add(.replicaSet, (index.replicaSetsByNamespace[ns] ?? []).map { ObjectRef(.replicaSet, $0) })
            return
        }
        switch controller.kind {
        case Kind.statefulSet.rawValue: d.add(.statefulSet, ObjectRef(.statefulSet, NamespacedName(ns, controller.name)))
        case Kind.replicaSet.rawValue: d.add(.replicaSet, ObjectRef(.replicaSet, NamespacedName(ns, controller.name)))
        default: break
        }
    }

    /// A dependent changed or went: an owner whose deletion waits for the collector (foreground or
    /// orphan) may now be done with.
    static func collectorOwners(of object: any KubeObject, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for ref in object.metadata.ownerReferences ?? [] {
            guard let owner = index.object(uid: ref.uid), owner.metadata.isDeleting else { continue }
            d.add(.garbageCollector, ObjectRef(owner))
        }
    }

    static func dependents(of uid: String, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        guard !uid.isEmpty else { return }
        for dep in index.dependentsByOwner[uid] ?? [] where dep.kind == .pod || dep.kind == .persistentVolumeClaim {
            d.add(.garbageCollector, dep)
        }
    }

    /// A claim: itself, the volumes that name it, the pods that use it, the sets that stamp it out.
    static func claim(_ change: IndexChange, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for o in change.objects {
            guard let claim = o as? PersistentVolumeClaim else { continue }
            let key = NamespacedName(claim)
            d.add(.garbageCollector, ObjectRef(.persistentVolumeClaim, key))
            collectorOwners(of: claim, index, &d)
            d.add(.persistentVolume, ObjectRef(.persistentVolumeClaim, key))
            d.add(.resizer, ObjectRef(.persistentVolumeClaim, key))
            for pv in index.volumesByClaimUID[claim.uid] ?? [] { d.add(.persistentVolume, ObjectRef(.persistentVolume, NamespacedName(nil, pv))) }
            if let pv = claim.spec.volumeName, !pv.isEmpty { d.add(.persistentVolume, ObjectRef(.persistentVolume, NamespacedName(nil, pv))) }
            for pod in index.podsByClaim[key] ?? [] {
                d.add(.scheduler, ObjectRef(.pod, pod))
                d.add(.kubelet, ObjectRef(.pod, pod))
            }
            for setKey in index.statefulSetsByNamespace[key.namespace] ?? [] {
                guard let set = index.statefulSets[setKey], StatefulSetNames.claimOrdinal(claim.name, of: set) != nil else { continue }
                d.add(.statefulSet, ObjectRef(.statefulSet, setKey))
            }
        }
    }

    /// A volume: itself and the claim it names; a volume that became Available or went away may let
    /// any waiting claim or pod go on (a static match, or room on its node).
    static func volume(_ change: IndexChange, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for o in change.objects {
            guard let pv = o as? PersistentVolume else { continue }
            d.add(.persistentVolume, ObjectRef(.persistentVolume, NamespacedName(nil, pv.name)))
            if let ref = pv.spec.claimRef, let name = ref.name {
                let claim = NamespacedName(ref.namespace, name)
                d.add(.persistentVolume, ObjectRef(.persistentVolumeClaim, claim))
                d.add(.resizer, ObjectRef(.persistentVolumeClaim, claim))
                for pod in index.podsByClaim[claim] ?? [] { d.add(.kubelet, ObjectRef(.pod, pod)) }
            }
        }
        let freed = change.new == nil || (change.new as? PersistentVolume).map { $0.phase == .available && $0.spec.claimRef == nil } == true
        if freed { waiting(index, &d) }
    }

    /// Claims not bound yet and pods not scheduled yet: what more room or a new match may unblock.
    static func waiting(_ index: ClusterIndex, _ d: inout DirtyKeys) {
        d.add(.persistentVolume, index.unboundClaims.map { ObjectRef(.persistentVolumeClaim, $0) })
        d.add(.resizer, index.growingClaims.map { ObjectRef(.persistentVolumeClaim, $0) })
        d.add(.scheduler, index.unscheduledPods.map { ObjectRef(.pod, $0) })
    }

    static func node(_ change: IndexChange, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for o in change.objects {
            d.add(.nodeLifecycle, ObjectRef(.node, NamespacedName(nil, o.name)))
            for pod in index.podsByNode[o.name] ?? [] { d.add(.kubelet, ObjectRef(.pod, pod)) }
        }
        waiting(index, &d)
    }

    static func storageClass(_ change: IndexChange, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for o in change.objects {
            d.add(.persistentVolume, (index.claimsByClass[o.name] ?? []).map { ObjectRef(.persistentVolumeClaim, $0) })
        }
        // A new default class is given to claims without one.
        d.add(.persistentVolume, (index.claimsByClass[""] ?? []).map { ObjectRef(.persistentVolumeClaim, $0) })
        d.add(.scheduler, index.unscheduledPods.map { ObjectRef(.pod, $0) })
    }

    static func workload(_ change: IndexChange, _ index: ClusterIndex, _ d: inout DirtyKeys) {
        for o in change.objects {
            let ref = ObjectRef(o)
            d.add(ref.kind == .statefulSet ? .statefulSet : .replicaSet, ref)
            if o.metadata.isDeleting { d.add(.garbageCollector, ref) }
            dependents(of: o.uid, index, &d)
            // Pods it may release or adopt, and siblings that rank pods by it.
            if let rs = o as? ReplicaSet, let controller = rs.controllerRef {
                for sibling in index.replicaSetsByNamespace[ref.key.namespace] ?? [] where index.replicaSets[sibling]?.controllerRef?.uid == controller.uid {
                    d.add(.replicaSet, ObjectRef(.replicaSet, sibling))
                }
            }
        }
    }

    /// The node agent observed something about a pod (its mount finished or failed).
    public static func observed(pod: NamespacedName, in index: ClusterIndex) -> DirtyKeys {
        var d = DirtyKeys()
        d.add(.kubelet, ObjectRef(.pod, pod))
        if let p = index.pods[pod] {
            owners(of: p, index, &d)
            // A volume grown while it was not mounted, or mounted while it grows.
            for v in p.spec.claimVolumes { d.add(.resizer, ObjectRef(.persistentVolumeClaim, NamespacedName(p.namespace, v.claim))) }
        }
        return d
    }

    /// A node started or stopped being served.
    public static func observed(node: String, in index: ClusterIndex) -> DirtyKeys {
        var d = DirtyKeys()
        d.add(.nodeLifecycle, ObjectRef(.node, NamespacedName(nil, node)))
        for pod in index.podsByNode[node] ?? [] { d.add(.kubelet, ObjectRef(.pod, pod)) }
        return d
    }
}
