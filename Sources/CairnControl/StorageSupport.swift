import CairnCore

// What the PV controller, the scheduler and the node agent share: one index of the snapshot's storage
// objects, the free-storage ledger, node selector matching and the messages' quantities.

extension Well {
    /// Cairn's record of the last Pending reason reported for a claim ("<Type> <Reason>: <message>").
    /// Upstream repeats Pending events at every resync; Cairn writes the decision here and emits the
    /// event only when it changes, so an idle sync plans nothing. Removed when the claim binds.
    public static let lastStorageEvent = "cairn.io/last-storage-event"
    /// The taint NodeUnschedulable treats `spec.unschedulable` as (v1.TaintNodeUnschedulable).
    static let unschedulableTaint = Taint.unschedulableKey
}

/// The order controllers walk objects in: oldest first (as a FIFO queue fills), then by key, so a plan
/// never depends on the order its keys arrived in.
func storageCreationOrder(_ a: ObjectMeta, _ b: ObjectMeta) -> Bool {
    switch (a.creationTimestamp, b.creationTimestamp) {
    case let (x?, y?) where x != y: return x < y
    case (nil, _?): return true
    case (_?, nil): return false
    default: return NamespacedName(a.namespace, a.nameOrEmpty) < NamespacedName(b.namespace, b.nameOrEmpty)
    }
}

/// Free storage per node: allocatable ephemeral-storage minus the capacity of every PV on the node that
/// is not being deleted (Released and Failed volumes keep their data on disk) minus the requests of claims
/// whose node is chosen but whose volume is not created yet. Planning takes from it as it decides, so
/// several claims or pods planned in one sync are counted against each other.
struct StorageLedger: Sendable {
    var allocatable: [String: Int64] = [:]
    var used: [String: Int64] = [:]
    /// Claim uid -> its reservation, so provisioning that claim can count its own share as free.
    var reservations: [String: (node: String, bytes: Int64)] = [:]

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
    public var capacityBytes: Int64 { spec.capacity?["storage"]?.bytes ?? 0 }
}

extension PersistentVolumeClaim {
    var requestBytes: Int64? { spec.requestedStorage?.bytes }
    var key: NamespacedName { NamespacedName(self) }
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
        Selector.Requirement(nodeSelector: r.key, operator: r.operator, values: r.values)?.matches(labels) ?? false
    }
}

enum StorageText {
    /// A byte count for people: the largest binary unit it reaches, whole when it is at least 100 of
    /// them or exact ("250Gi", "512Mi"), else with one decimal ("1.5Gi"); below 1Ki, bytes ("512").
    static func bytes(_ b: Int64) -> String {
        let units = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        guard b >= 1024 else { return "\(max(b, 0))" }
        var unit = 0
        var scale: Int64 = 1024
        while unit + 1 < units.count, b / scale >= 1024 { scale *= 1024; unit += 1 }
        if b % scale == 0 { return "\(b / scale)\(units[unit])" }
        let value = Double(b) / Double(scale)
        if value >= 100 { return "\(Int64(value.rounded()))\(units[unit])" }
        let tenths = (value * 10).rounded() / 10
        let text = tenths == tenths.rounded() ? "\(Int64(tenths))" : "\(tenths)"
        return "\(text)\(units[unit])"
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }
}

extension Pod {
    /// util.IsPodTerminated for a pod Cairn runs: it has finished.
    var storageIsTerminal: Bool { phase.isTerminal }
}

func storageEvent(_ object: some KubeObject, _ type: EventType, _ reason: String, _ message: String,
                  source: String? = nil) -> Action {
    .event(object: object.reference(), type: type, reason: reason, message: message, source: source)
}
