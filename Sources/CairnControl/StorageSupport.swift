import CairnCore

// What the PV controller, the scheduler and the node agent share: one index of the snapshot's storage
// objects, the free-storage ledger, node selector matching and the messages' quantities.

extension Well {
    /// Cairn's record of the last Pending reason reported for a claim ("<Type> <Reason>: <message>").
    /// Upstream repeats Pending events at every resync; Cairn writes the decision here and emits the
    /// event only when it changes, so an idle sync plans nothing. Removed when the claim binds.
    public static let lastStorageEvent = "cairn.io/last-storage-event"
    /// The taint NodeUnschedulable treats `spec.unschedulable` as (v1.TaintNodeUnschedulable).
    static let unschedulableTaint = "node.kubernetes.io/unschedulable"
}

/// namespace/name of a claim or pod, for the storage controllers' indexes.
struct StorageKey: Hashable, Comparable, CustomStringConvertible {
    var namespace: String
    var name: String

    init(_ namespace: String?, _ name: String) {
        self.namespace = namespace ?? ""
        self.name = name
    }

    var description: String { "\(namespace)/\(name)" }

    static func < (a: StorageKey, b: StorageKey) -> Bool {
        a.namespace != b.namespace ? a.namespace < b.namespace : a.name < b.name
    }
}

/// The order controllers walk objects in: oldest first (as a FIFO queue fills), then by key, so a plan
/// never depends on the order of the snapshot's arrays.
func storageCreationOrder(_ a: ObjectMeta, _ b: ObjectMeta) -> Bool {
    switch (a.creationTimestamp, b.creationTimestamp) {
    case let (x?, y?) where x != y: return x < y
    case (nil, _?): return true
    case (_?, nil): return false
    default: return StorageKey(a.namespace, a.nameOrEmpty) < StorageKey(b.namespace, b.nameOrEmpty)
    }
}

/// The snapshot's storage objects indexed once, so a plan over thousands of claims does no quadratic scans.
struct StorageIndex {
    var classes: [String: StorageClass] = [:]
    /// The class the API server would give a claim without one (newest default, as GetDefaultClass).
    var defaultClass: StorageClass?
    var nodes: [String: Node] = [:]
    var nodeNames: [String] = []
    /// Node name -> its data root (cairn.io/data-root): the nodes Cairn can create volumes on.
    var dataRoots: [String: String] = [:]
    /// kubernetes.io/hostname label value -> node name.
    var nodeByHostname: [String: String] = [:]
    var claims: [StorageKey: PersistentVolumeClaim] = [:]
    var volumes: [String: PersistentVolume] = [:]
    /// PVs whose claimRef carries a uid, by that uid.
    var volumesByClaimUID: [String: [PersistentVolume]] = [:]
    /// PVs pre-bound by name only (claimRef without uid), by the claim they name.
    var volumesPreboundByKey: [StorageKey: [PersistentVolume]] = [:]
    /// Available, unclaimed PVs by storageClassName, smallest capacity first: the candidates of static
    /// binding (bound volumes are left out, so matching never scans them).
    var volumesByClass: [String: [PersistentVolume]] = [:]
    /// Each PV's capacity in bytes, computed once.
    var volumeBytes: [String: Int64] = [:]
    /// The node each local PV lives on.
    var volumeNode: [String: String] = [:]
    /// Pods by the claims their volumes name.
    var podsByClaim: [StorageKey: [Pod]] = [:]

    init(_ s: ClusterSnapshot) {
        for c in s.storageClasses { classes[c.name] = c }
        defaultClass = s.storageClasses.filter(\.isDefault).sorted { a, b in
            // GetDefaultClass: the newest default wins; ties by name.
            let ta = a.metadata.creationTimestamp, tb = b.metadata.creationTimestamp
            if ta != tb, let ta, let tb { return ta > tb }
            return a.name < b.name
        }.first
        for n in s.nodes {
            nodes[n.name] = n
            dataRoots[n.name] = n.metadata.annotation(Node.dataRootAnnotation)
            nodeByHostname[n.metadata.labels?[Well.hostnameLabel] ?? n.name] = n.name
        }
        nodeNames = nodes.keys.sorted()
        claims.reserveCapacity(s.claims.count)
        for c in s.claims { claims[StorageKey(c.namespace, c.name)] = c }
        volumes.reserveCapacity(s.persistentVolumes.count)
        for pv in s.persistentVolumes {
            volumes[pv.name] = pv
            if let ref = pv.spec.claimRef {
                if let uid = ref.uid, !uid.isEmpty {
                    volumesByClaimUID[uid, default: []].append(pv)
                } else {
                    volumesPreboundByKey[StorageKey(ref.namespace, ref.name ?? ""), default: []].append(pv)
                }
            }
            volumeBytes[pv.name] = pv.capacityBytes
            if pv.phase == "Available" && pv.spec.claimRef == nil && !pv.metadata.isDeleting {
                volumesByClass[pv.spec.storageClassName ?? "", default: []].append(pv)
            }
            if let node = Self.node(of: pv, nodes: nodes, nodeNames: nodeNames, byHostname: nodeByHostname) {
                volumeNode[pv.name] = node
            }
        }
        for key in volumesByClass.keys {
            volumesByClass[key]?.sort { [volumeBytes] a, b in
                let ca = volumeBytes[a.name] ?? 0, cb = volumeBytes[b.name] ?? 0
                return ca != cb ? ca < cb : a.name < b.name
            }
        }
        for pod in s.pods {
            for v in pod.spec.claimVolumes {
                podsByClaim[StorageKey(pod.namespace, v.claim), default: []].append(pod)
            }
        }
    }

    func claim(_ namespace: String?, _ name: String) -> PersistentVolumeClaim? { claims[StorageKey(namespace, name)] }

    /// The node a local PV's directory is on: the one node its required node affinity selects (the
    /// common `kubernetes.io/hostname In [node]` form is looked up directly).
    static func node(of pv: PersistentVolume, nodes: [String: Node], nodeNames: [String],
                     byHostname: [String: String]) -> String? {
        guard let selector = pv.spec.nodeAffinity?.required else { return nil }
        let terms = selector.nodeSelectorTerms
        if terms.count == 1, terms[0].matchFields == nil, let exprs = terms[0].matchExpressions, exprs.count == 1,
           exprs[0].key == Well.hostnameLabel, exprs[0].operator == "In", let values = exprs[0].values, values.count == 1 {
            return byHostname[values[0]]
        }
        let matching = nodeNames.filter { nodes[$0].map { NodeSelectorMatch.matches(selector, $0) } ?? false }
        return matching.count == 1 ? matching[0] : nil
    }

    /// The PV that names this claim in its claimRef (by uid, or by name when the uid is not yet set):
    /// a provisioned volume whose claim was not updated yet, or a volume pre-bound by its author.
    func volumeReferencing(_ claim: PersistentVolumeClaim) -> PersistentVolume? {
        if let pv = volumesByClaimUID[claim.uid]?.filter({ !$0.metadata.isDeleting }).min(by: { $0.name < $1.name }) {
            return pv
        }
        return volumesPreboundByKey[StorageKey(claim.namespace, claim.name)]?
            .filter { !$0.metadata.isDeleting }.min { $0.name < $1.name }
    }

    /// The claim's spec.selector over volume labels; no selector selects every volume. nil when the
    /// selector is invalid (validation rejects those), so nothing matches.
    static func volumeSelector(_ claim: PersistentVolumeClaim) -> Selector? {
        guard let s = claim.spec.selector else { return .everything }
        return try? Selector(s)
    }

    func storageClass(of claim: PersistentVolumeClaim) -> StorageClass? {
        claim.spec.storageClassName.flatMap { classes[$0] }
    }

    /// A claim the scheduler treats as bound (isPVCFullyBound): volumeName set and binding completed.
    static func isFullyBound(_ claim: PersistentVolumeClaim) -> Bool {
        !(claim.spec.volumeName ?? "").isEmpty && claim.metadata.annotation(Well.bindCompleted) != nil
    }

    func isDelayBinding(_ claim: PersistentVolumeClaim) -> Bool {
        storageClass(of: claim)?.effectiveBindingMode == "WaitForFirstConsumer"
    }

    /// A claim that still needs a volume Cairn will provision on its selected node: the scheduler has
    /// picked the node, no volume exists for it yet. Its request is reserved on that node.
    func pendingReservation(_ claim: PersistentVolumeClaim) -> (node: String, bytes: Int64)? {
        guard !claim.metadata.isDeleting, (claim.spec.volumeName ?? "").isEmpty,
              let node = claim.metadata.annotation(Well.selectedNode),
              storageClass(of: claim)?.provisioner == Well.provisioner,
              volumesByClaimUID[claim.uid] == nil,
              let bytes = claim.requestBytes else { return nil }
        return (node, bytes)
    }
}

/// Free storage per node: allocatable ephemeral-storage minus the capacity of every PV on the node that
/// is not being deleted (Released and Failed volumes keep their data on disk) minus the requests of claims
/// whose node is chosen but whose volume is not created yet. Planning takes from it as it decides, so
/// several claims or pods planned in one sync are counted against each other.
struct StorageLedger {
    private(set) var allocatable: [String: Int64] = [:]
    private(set) var used: [String: Int64] = [:]
    /// Claim uid -> its reservation, so provisioning that claim can count its own share as free.
    private(set) var reservations: [String: (node: String, bytes: Int64)] = [:]

    init(_ index: StorageIndex) {
        for (name, node) in index.nodes { allocatable[name] = node.allocatableStorage?.bytes ?? 0 }
        for (name, pv) in index.volumes where !pv.metadata.isDeleting {
            if let node = index.volumeNode[name] { used[node, default: 0] += index.volumeBytes[name] ?? 0 }
        }
        for claim in index.claims.values {
            if let r = index.pendingReservation(claim) {
                reservations[claim.uid] = r
                used[r.node, default: 0] += r.bytes
            }
        }
    }

    func free(_ node: String) -> Int64 { (allocatable[node] ?? 0) - (used[node] ?? 0) }

    /// Free storage for `claimUID`, counting its own reservation on `node` as available.
    func free(_ node: String, for claimUID: String) -> Int64 {
        free(node) + (reservations[claimUID].map { $0.node == node ? $0.bytes : 0 } ?? 0)
    }

    mutating func take(_ node: String, _ bytes: Int64) { used[node, default: 0] += bytes }

    /// The claim's volume is now created (or will be by this plan): its reservation becomes a volume.
    mutating func settle(claimUID: String, node: String, bytes: Int64) {
        if let r = reservations.removeValue(forKey: claimUID) { used[r.node, default: 0] -= r.bytes }
        take(node, bytes)
    }

    mutating func reserve(claimUID: String, node: String, bytes: Int64) {
        guard reservations[claimUID] == nil else { return }
        reservations[claimUID] = (node, bytes)
        take(node, bytes)
    }
}

extension PersistentVolume {
    var capacityBytes: Int64 { spec.capacity?["storage"]?.bytes ?? 0 }
}

extension PersistentVolumeClaim {
    var requestBytes: Int64? { spec.requestedStorage?.bytes }
    var storageKey: StorageKey { StorageKey(namespace, name) }
}

/// Node selectors as the API defines them (component-helpers nodeaffinity): terms are ORed, a term's
/// requirements ANDed, and a term with no requirements matches nothing.
enum NodeSelectorMatch {
    static func matches(_ selector: NodeSelector, _ node: Node) -> Bool {
        selector.nodeSelectorTerms.contains { matches($0, node) }
    }

    static func matches(_ term: NodeSelectorTerm, _ node: Node) -> Bool {
        let exprs = term.matchExpressions ?? [], fields = term.matchFields ?? []
        if exprs.isEmpty && fields.isEmpty { return false }
        let labels = node.metadata.labels ?? [:]
        return exprs.allSatisfy { matches($0, labels) } && fields.allSatisfy { f in
            // Only metadata.name is a supported field.
            f.key == "metadata.name" && matches(f, ["metadata.name": node.name])
        }
    }

    static func matches(_ r: NodeSelectorRequirement, _ labels: [String: String]) -> Bool {
        let value = labels[r.key], values = r.values ?? []
        switch r.operator {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return !(value.map(values.contains) ?? false)
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let have = Int64(value), values.count == 1, let want = Int64(values[0]) else { return false }
            return r.operator == "Gt" ? have > want : have < want
        default: return false
        }
    }
}

enum StorageText {
    /// A byte count as kubectl would print a quantity: binary suffixes when exact ("512Mi"), else decimal.
    static func bytes(_ b: Int64) -> String {
        let binary = Quantity(bytes: b, format: .binarySI).description
        if b == 0 || binary.contains(where: { $0.isLetter }) { return binary }
        return Quantity(bytes: b, format: .decimalSI).description
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }
}

extension Pod {
    /// util.IsPodTerminated for a pod Cairn runs: it has finished.
    var storageIsTerminal: Bool { phase == "Succeeded" || phase == "Failed" }
}

func storageEvent(_ object: some KubeObject, _ type: EventType, _ reason: String, _ message: String) -> Action {
    .event(object: object.reference(), type: type, reason: reason, message: message)
}
