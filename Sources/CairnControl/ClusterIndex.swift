import CairnCore

/// Every object the controllers read, with the indexes they look things up by, kept up to date one
/// change at a time (the informers' indexer): `upsert` and `remove` cost what the changed object
/// touches, never a walk over everything, so a plan for one key does work in proportion to that key.
///
/// Built from a `ClusterSnapshot` for table tests (`ClusterIndex(snapshot)`), and fed by every
/// committed write in the daemon. Planners read it and never change it.
public struct ClusterIndex: Sendable {
    public private(set) var namespaces: [String: Namespace] = [:]
    public private(set) var classes: [String: StorageClass] = [:]
    public private(set) var nodes: [String: Node] = [:]
    public private(set) var volumes: [String: PersistentVolume] = [:]
    public private(set) var claims: [NamespacedName: PersistentVolumeClaim] = [:]
    public private(set) var pods: [NamespacedName: Pod] = [:]
    public private(set) var statefulSets: [NamespacedName: StatefulSet] = [:]
    public private(set) var replicaSets: [NamespacedName: ReplicaSet] = [:]
    public private(set) var services: [NamespacedName: Service] = [:]
    public private(set) var events: [NamespacedName: Event] = [:]
    /// Nodes whose volumes this daemon's node agent serves (its `--node` set).
    public var localNodes: Set<String> = []
    /// What the node agent has done and is doing (kubelet's actual state of the world).
    public var observed = NodeObservations()

    // MARK: derived, maintained by upsert/remove

    /// The class the API server would give a claim without one (newest default, ties by name).
    private(set) var defaultClass: StorageClass?
    private(set) var nodeNames: [String] = []
    /// Node name -> its data root (cairn.io/data-root): the nodes Cairn can create volumes on.
    private(set) var dataRoots: [String: String] = [:]
    /// kubernetes.io/hostname label value -> node name.
    private(set) var nodeByHostname: [String: String] = [:]
    /// PV names by the uid in their claimRef.
    private(set) var volumesByClaimUID: [String: Set<String>] = [:]
    /// PVs pre-bound by name only (claimRef without uid), by the claim they name.
    private(set) var volumesPreboundByKey: [NamespacedName: Set<String>] = [:]
    /// Available, unclaimed PVs by storageClassName, smallest capacity first (then by name): the
    /// candidates of static binding.
    private(set) var availableByClass: [String: [String]] = [:]
    private(set) var volumeBytes: [String: Int64] = [:]
    /// The node each local PV lives on.
    private(set) var volumeNode: [String: String] = [:]
    /// Pods by the claims their volumes name.
    private(set) var podsByClaim: [NamespacedName: Set<NamespacedName>] = [:]
    /// Pods by the uid of their controller (ownerReference with controller: true).
    private(set) var podsByController: [String: Set<NamespacedName>] = [:]
    /// Pods without a controller, by namespace: candidates for adoption.
    private(set) var orphanPodsByNamespace: [String: Set<NamespacedName>] = [:]
    private(set) var podsByNode: [String: Set<NamespacedName>] = [:]
    /// Pods with no node yet that the default scheduler should place.
    private(set) var unscheduledPods: Set<NamespacedName> = []
    /// Claims by storageClassName ("" for none).
    private(set) var claimsByClass: [String: Set<NamespacedName>] = [:]
    /// Claims not Bound yet (or Lost): what a freed volume or a new node may unblock.
    private(set) var unboundClaims: Set<NamespacedName> = []
    /// Bound claims asking for more than their capacity: what freed storage may let grow.
    private(set) var growingClaims: Set<NamespacedName> = []
    /// Objects by the uid of every owner they reference: the garbage collector's dependents.
    private(set) var dependentsByOwner: [String: Set<ObjectRef>] = [:]
    /// Every object by uid.
    private(set) var objectsByUID: [String: ObjectRef] = [:]
    private(set) var statefulSetsByNamespace: [String: Set<NamespacedName>] = [:]
    private(set) var replicaSetsByNamespace: [String: Set<NamespacedName>] = [:]
    /// How many namespaced objects each namespace holds (the namespace controller waits for 0).
    private(set) var namespaceContents: [String: Int] = [:]
    /// Free storage per node before any plan takes from it.
    private(set) var ledger = StorageLedger()

    /// The ledger a plan starts from: volumes being provisioned count as used.
    var plannableLedger: StorageLedger {
        var l = ledger
        for (uid, p) in observed.provisioning { l.settle(claimUID: uid, node: p.node, bytes: p.bytes) }
        return l
    }

    public init() {}

    /// An index of everything in `snapshot` (for tables: build once, plan every key).
    public init(_ snapshot: ClusterSnapshot) {
        localNodes = snapshot.localNodes
        observed = snapshot.observed
        for o in snapshot.namespaces { upsert(o) }
        for o in snapshot.storageClasses { upsert(o) }
        for o in snapshot.nodes { upsert(o) }
        for o in snapshot.persistentVolumes { upsert(o) }
        for o in snapshot.claims { upsert(o) }
        for o in snapshot.pods { upsert(o) }
        for o in snapshot.statefulSets { upsert(o) }
        for o in snapshot.replicaSets { upsert(o) }
    }

    // MARK: lookups

    public func claim(_ namespace: String?, _ name: String) -> PersistentVolumeClaim? { claims[NamespacedName(namespace, name)] }
    /// The StorageClass a claim without one is given (GetDefaultClass).
    public var defaultStorageClass: StorageClass? { defaultClass }
    /// The node each local volume is on.
    public func node(ofVolume name: String) -> String? { volumeNode[name] }
    /// Free storage of a node (allocatable minus its volumes and reservations).
    public func freeStorage(node: String) -> Int64 { plannableLedger.free(node) }
    public func pod(_ key: NamespacedName) -> Pod? { pods[key] }

    public func object(_ ref: ObjectRef) -> (any KubeObject)? {
        switch ref.kind {
        case .namespace: namespaces[ref.key.name]
        case .storageClass: classes[ref.key.name]
        case .node: nodes[ref.key.name]
        case .persistentVolume: volumes[ref.key.name]
        case .persistentVolumeClaim: claims[ref.key]
        case .pod: pods[ref.key]
        case .statefulSet: statefulSets[ref.key]
        case .replicaSet: replicaSets[ref.key]
        case .service: services[ref.key]
        case .event: events[ref.key]
        }
    }

    public func object(uid: String) -> (any KubeObject)? { objectsByUID[uid].flatMap(object) }

    func pods(_ keys: Set<NamespacedName>?) -> [Pod] { (keys ?? []).compactMap { pods[$0] } }
    func podsUsing(_ claim: NamespacedName) -> [Pod] { pods(podsByClaim[claim]) }

    /// Every object of a namespaced kind in one namespace (the namespace controller's walk; it runs
    /// only for namespaces being deleted).
    public func contents(of namespace: String) -> [any KubeObject] {
        var out: [any KubeObject] = []
        func take<T: KubeObject>(_ dict: [NamespacedName: T]) { for (k, v) in dict where k.namespace == namespace { out.append(v) } }
        take(claims); take(pods); take(statefulSets); take(replicaSets); take(services); take(events)
        return out
    }

    public func count(_ kind: Kind) -> Int {
        switch kind {
        case .namespace: namespaces.count
        case .storageClass: classes.count
        case .node: nodes.count
        case .persistentVolume: volumes.count
        case .persistentVolumeClaim: claims.count
        case .pod: pods.count
        case .statefulSet: statefulSets.count
        case .replicaSet: replicaSets.count
        case .service: services.count
        case .event: events.count
        }
    }

    // MARK: changes

    /// Adds or replaces an object; returns the one it replaced.
    @discardableResult
    public mutating func upsert(_ object: any KubeObject) -> (any KubeObject)? {
        let ref = ObjectRef(object)
        let old = self.object(ref)
        if let old { unlink(old) }
        switch object {
        case let o as Namespace: namespaces[o.name] = o
        case let o as StorageClass: classes[o.name] = o
        case let o as Node: nodes[o.name] = o
        case let o as PersistentVolume: volumes[o.name] = o
        case let o as PersistentVolumeClaim: claims[ref.key] = o
        case let o as Pod: pods[ref.key] = o
        case let o as StatefulSet: statefulSets[ref.key] = o
        case let o as ReplicaSet: replicaSets[ref.key] = o
        case let o as Service: services[ref.key] = o
        case let o as Event: events[ref.key] = o
        default: return old
        }
        link(object)
        refreshIfShared(ref.kind)
        return old
    }

    /// Removes an object; returns it.
    @discardableResult
    public mutating func remove(_ ref: ObjectRef) -> (any KubeObject)? {
        guard let old = object(ref) else { return nil }
        unlink(old)
        switch ref.kind {
        case .namespace: namespaces[ref.key.name] = nil
        case .storageClass: classes[ref.key.name] = nil
        case .node: nodes[ref.key.name] = nil
        case .persistentVolume: volumes[ref.key.name] = nil
        case .persistentVolumeClaim: claims[ref.key] = nil
        case .pod: pods[ref.key] = nil; observed.forget(ref.key)
        case .statefulSet: statefulSets[ref.key] = nil
        case .replicaSet: replicaSets[ref.key] = nil
        case .service: services[ref.key] = nil
        case .event: events[ref.key] = nil
        }
        refreshIfShared(ref.kind)
        return old
    }

    /// Classes and nodes are few and everything depends on them: their derived entries are recomputed whole.
    private mutating func refreshIfShared(_ kind: Kind) {
        if kind == .storageClass { refreshClasses() }
        if kind == .node { refreshNodes() }
    }

    /// Adds the derived entries of an object that is now stored.
    private mutating func link(_ object: any KubeObject) {
        let ref = ObjectRef(object)
        if !object.uid.isEmpty { objectsByUID[object.uid] = ref }
        for owner in object.metadata.ownerReferences ?? [] { dependentsByOwner[owner.uid, default: []].insert(ref) }
        if ref.kind.namespaced { namespaceContents[ref.key.namespace, default: 0] += 1 }
        switch object {
        case let pv as PersistentVolume: linkVolume(pv)
        case let c as PersistentVolumeClaim: linkClaim(c)
        case let p as Pod: linkPod(p, ref.key)
        case let s as StatefulSet: statefulSetsByNamespace[s.namespace ?? "", default: []].insert(ref.key)
        case let r as ReplicaSet: replicaSetsByNamespace[r.namespace ?? "", default: []].insert(ref.key)
        default: break
        }
    }

    /// Removes the derived entries of an object about to be replaced or removed.
    private mutating func unlink(_ object: any KubeObject) {
        let ref = ObjectRef(object)
        if !object.uid.isEmpty, objectsByUID[object.uid] == ref { objectsByUID[object.uid] = nil }
        for owner in object.metadata.ownerReferences ?? [] { Self.drop(ref, from: &dependentsByOwner, at: owner.uid) }
        if ref.kind.namespaced {
            let n = (namespaceContents[ref.key.namespace] ?? 1) - 1
            namespaceContents[ref.key.namespace] = n > 0 ? n : nil
        }
        switch object {
        case let pv as PersistentVolume: unlinkVolume(pv)
        case let c as PersistentVolumeClaim: unlinkClaim(c)
        case let p as Pod: unlinkPod(p, ref.key)
        case let s as StatefulSet: Self.drop(ref.key, from: &statefulSetsByNamespace, at: s.namespace ?? "")
        case let r as ReplicaSet: Self.drop(ref.key, from: &replicaSetsByNamespace, at: r.namespace ?? "")
        default: break
        }
    }

    private static func drop<K: Hashable, V: Hashable>(_ value: V, from dict: inout [K: Set<V>], at key: K) {
        guard var set = dict[key] else { return }
        set.remove(value)
        dict[key] = set.isEmpty ? nil : set
    }

    // MARK: classes and nodes (few; recomputed whole)

    private mutating func refreshClasses() {
        defaultClass = classes.values.filter { $0.isDefault && !$0.metadata.isDeleting }.sorted { a, b in
            // GetDefaultClass: the newest default wins; ties by name.
            let ta = a.metadata.creationTimestamp, tb = b.metadata.creationTimestamp
            if ta != tb, let ta, let tb { return ta > tb }
            return a.name < b.name
        }.first
        for key in unboundClaims { refreshReservation(key) }
    }

    private mutating func refreshNodes() {
        nodeNames = nodes.keys.sorted()
        dataRoots = [:]
        for n in nodes.values { dataRoots[n.name] = n.metadata.annotation(Node.dataRootAnnotation) }
        ledger.allocatable = [:]
        for (name, node) in nodes { ledger.allocatable[name] = node.allocatableStorage?.bytes ?? 0 }
        // Which node a volume is on depends on the nodes' names and labels: when they change (rarely;
        // a status change does not), place every volume again.
        let labels = nodes.mapValues { $0.metadata.labels ?? [:] }
        guard labels != nodeLabels else { return }
        let all = Array(volumes.values)
        for pv in all { unlinkVolume(pv) }
        nodeLabels = labels
        nodeByHostname = [:]
        for n in nodes.values { nodeByHostname[n.metadata.labels?[Node.hostnameLabel] ?? n.name] = n.name }
        for pv in all { linkVolume(pv) }
    }

    /// Labels of every node as last placed volumes by.
    private var nodeLabels: [String: [String: String]] = [:]

    // MARK: volumes

    private mutating func linkVolume(_ pv: PersistentVolume) {
        let bytes = pv.capacityBytes
        volumeBytes[pv.name] = bytes
        if let ref = pv.spec.claimRef {
            if let uid = ref.uid, !uid.isEmpty {
                volumesByClaimUID[uid, default: []].insert(pv.name)
            } else {
                volumesPreboundByKey[NamespacedName(ref.namespace, ref.name ?? ""), default: []].insert(pv.name)
            }
        }
        if isAvailable(pv) { insertAvailable(pv.name, bytes, class: pv.spec.storageClassName ?? "") }
        if let node = placeVolume(pv) {
            volumeNode[pv.name] = node
            if !pv.metadata.isDeleting { ledger.used[node, default: 0] += bytes }
        }
        if let uid = pv.spec.claimRef?.uid, let key = claimKey(uid: uid) { refreshReservation(key) }
    }

    private mutating func unlinkVolume(_ pv: PersistentVolume) {
        if let ref = pv.spec.claimRef {
            if let uid = ref.uid, !uid.isEmpty {
                Self.drop(pv.name, from: &volumesByClaimUID, at: uid)
            } else {
                Self.drop(pv.name, from: &volumesPreboundByKey, at: NamespacedName(ref.namespace, ref.name ?? ""))
            }
        }
        let klass = pv.spec.storageClassName ?? ""
        if var list = availableByClass[klass], let i = list.firstIndex(of: pv.name) {
            list.remove(at: i)
            availableByClass[klass] = list.isEmpty ? nil : list
        }
        if let node = volumeNode.removeValue(forKey: pv.name), !pv.metadata.isDeleting {
            ledger.used[node, default: 0] -= volumeBytes[pv.name] ?? 0
        }
        volumeBytes[pv.name] = nil
        if let uid = pv.spec.claimRef?.uid, let key = claimKey(uid: uid) { refreshReservation(key, ignoringVolume: pv.name) }
    }

    private func isAvailable(_ pv: PersistentVolume) -> Bool {
        pv.phase == .available && pv.spec.claimRef == nil && !pv.metadata.isDeleting
    }

    private mutating func insertAvailable(_ name: String, _ bytes: Int64, class klass: String) {
        var list = availableByClass[klass] ?? []
        // Smallest first, then by name; binary search on (bytes, name).
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            let b = volumeBytes[list[mid]] ?? 0
            if b < bytes || (b == bytes && list[mid] < name) { low = mid + 1 } else { high = mid }
        }
        list.insert(name, at: low)
        availableByClass[klass] = list
    }

    /// The node a local PV's directory is on: the one node its required node affinity selects (the
    /// common `kubernetes.io/hostname In [node]` form is looked up directly).
    private func placeVolume(_ pv: PersistentVolume) -> String? {
        guard let selector = pv.spec.nodeAffinity?.required else { return nil }
        let terms = selector.nodeSelectorTerms
        if terms.count == 1, terms[0].matchFields == nil, let exprs = terms[0].matchExpressions, exprs.count == 1,
           exprs[0].key == Node.hostnameLabel, exprs[0].operator == "In", let values = exprs[0].values, values.count == 1 {
            return nodeByHostname[values[0]]
        }
        let matching = nodeNames.filter { nodes[$0].map { NodeSelectorMatch.matches(selector, $0) } ?? false }
        return matching.count == 1 ? matching[0] : nil
    }

    // MARK: claims

    private func claimKey(uid: String) -> NamespacedName? {
        guard let ref = objectsByUID[uid], ref.kind == .persistentVolumeClaim else { return nil }
        return ref.key
    }

    private mutating func linkClaim(_ c: PersistentVolumeClaim) {
        let key = NamespacedName(c)
        claimsByClass[c.spec.storageClassName ?? "", default: []].insert(key)
        if c.phase != .bound { unboundClaims.insert(key) }
        if c.phase == .bound, let want = c.requestBytes, let have = c.status?.capacity?["storage"]?.bytes, want > have {
            growingClaims.insert(key)
        }
        refreshReservation(key)
    }

    private mutating func unlinkClaim(_ c: PersistentVolumeClaim) {
        let key = NamespacedName(c)
        Self.drop(key, from: &claimsByClass, at: c.spec.storageClassName ?? "")
        unboundClaims.remove(key)
        growingClaims.remove(key)
        if let r = ledger.reservations.removeValue(forKey: c.uid) { ledger.used[r.node, default: 0] -= r.bytes }
    }

    /// A claim that still needs a volume Cairn will provision on its selected node reserves its request
    /// there: the scheduler has picked the node, no volume exists for it yet.
    private mutating func refreshReservation(_ key: NamespacedName, ignoringVolume: String? = nil) {
        guard let claim = claims[key] else { return }
        if let r = ledger.reservations.removeValue(forKey: claim.uid) { ledger.used[r.node, default: 0] -= r.bytes }
        let volumes = (volumesByClaimUID[claim.uid] ?? []).subtracting(ignoringVolume.map { [$0] } ?? [])
        guard !claim.metadata.isDeleting, (claim.spec.volumeName ?? "").isEmpty,
              let node = claim.metadata.annotation(Well.selectedNode),
              storageClass(of: claim)?.provisioner == Well.provisioner,
              volumes.isEmpty, let bytes = claim.requestBytes else { return }
        ledger.reservations[claim.uid] = (node, bytes)
        ledger.used[node, default: 0] += bytes
    }

    // MARK: pods

    private mutating func linkPod(_ p: Pod, _ key: NamespacedName) {
        for v in p.spec.claimVolumes { podsByClaim[NamespacedName(p.namespace, v.claim), default: []].insert(key) }
        if let ref = p.controllerRef {
            podsByController[ref.uid, default: []].insert(key)
        } else {
            orphanPodsByNamespace[key.namespace, default: []].insert(key)
        }
        if let node = p.spec.nodeName, !node.isEmpty {
            podsByNode[node, default: []].insert(key)
        } else if !p.metadata.isDeleting && !p.phase.isTerminal && (p.spec.schedulerName ?? Scheduler.name) == Scheduler.name {
            unscheduledPods.insert(key)
        }
    }

    private mutating func unlinkPod(_ p: Pod, _ key: NamespacedName) {
        for v in p.spec.claimVolumes { Self.drop(key, from: &podsByClaim, at: NamespacedName(p.namespace, v.claim)) }
        if let ref = p.controllerRef {
            Self.drop(key, from: &podsByController, at: ref.uid)
        } else {
            Self.drop(key, from: &orphanPodsByNamespace, at: key.namespace)
        }
        if let node = p.spec.nodeName, !node.isEmpty { Self.drop(key, from: &podsByNode, at: node) }
        unscheduledPods.remove(key)
    }

    // MARK: storage questions the planners share

    func storageClass(of claim: PersistentVolumeClaim) -> StorageClass? {
        claim.spec.storageClassName.flatMap { classes[$0] }
    }

    func isDelayBinding(_ claim: PersistentVolumeClaim) -> Bool {
        storageClass(of: claim)?.effectiveBindingMode == "WaitForFirstConsumer"
    }

    /// The PV that names this claim in its claimRef (by uid, or by name when the uid is not yet set):
    /// a provisioned volume whose claim was not updated yet, or a volume pre-bound by its author.
    func volumeReferencing(_ claim: PersistentVolumeClaim) -> PersistentVolume? {
        let byUID = (volumesByClaimUID[claim.uid] ?? []).sorted().compactMap { volumes[$0] }
        if let pv = byUID.first(where: { !$0.metadata.isDeleting }) { return pv }
        return (volumesPreboundByKey[NamespacedName(claim)] ?? []).sorted().compactMap { volumes[$0] }
            .first { !$0.metadata.isDeleting }
    }

    /// Available, unclaimed volumes of a class, smallest first.
    func availableVolumes(class klass: String) -> [PersistentVolume] {
        (availableByClass[klass] ?? []).compactMap { volumes[$0] }
    }

    /// The claim's spec.selector over volume labels; no selector selects every volume. nil when the
    /// selector is invalid (validation rejects those), so nothing matches.
    static func volumeSelector(_ claim: PersistentVolumeClaim) -> Selector? {
        guard let s = claim.spec.selector else { return .everything }
        return try? Selector(s)
    }

    /// A claim the scheduler treats as bound (isPVCFullyBound): volumeName set and binding completed.
    static func isFullyBound(_ claim: PersistentVolumeClaim) -> Bool {
        !(claim.spec.volumeName ?? "").isEmpty && claim.metadata.annotation(Well.bindCompleted) != nil
    }
}
