import CairnCore

/// The finalizers through which a delete's propagation policy reaches the collector
/// (metav1.FinalizerDeleteDependents and FinalizerOrphanDependents).
extension Well {
    /// Foreground cascading: the owner stays until every dependent that blocks it is gone.
    public static let foregroundDeletionFinalizer = "foregroundDeletion"
    /// Orphaning: the owner stays until no dependent refers to it any more.
    public static let orphanFinalizer = "orphan"
}

/// The garbage collector (kubernetes `pkg/controller/garbagecollector`, attemptToDeleteItem and
/// processDeletingDependentsItem), for the dependents Cairn has: Pods and PersistentVolumeClaims whose
/// owners are StatefulSets, ReplicaSets or Pods, matched by uid.
///
/// - Every owner gone: the dependent is deleted (background cascading). An owner that is itself being
///   deleted counts as gone (a StatefulSet or ReplicaSet in background or foreground deletion, a Pod in
///   foreground deletion), so its dependents go before it.
/// - An owner being deleted with the `orphan` finalizer: the dependent's reference to it is removed,
///   the dependent stays. Once no dependent refers to it, the owner's `orphan` finalizer is removed.
/// - An owner being deleted with the `foregroundDeletion` finalizer keeps it until no dependent whose
///   reference has `blockOwnerDeletion` is left (a terminating dependent still blocks it).
/// - Some owners gone, some not: the references to the gone ones are removed.
/// - A reference to a kind Cairn cannot look up keeps the object: the collector deletes nothing it cannot
///   prove is orphaned.
/// - Objects already being deleted are left alone as dependents; a pod that is terminating (without
///   foreground deletion) still owns its claims.
public enum GarbageCollector {
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index))
    }

    /// Every dependent (pods and claims), and every owner waiting for the collector to finish its
    /// deletion (a `foregroundDeletion` or `orphan` finalizer).
    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        var refs = index.pods.keys.map { ObjectRef(.pod, $0) } + index.claims.keys.map { ObjectRef(.persistentVolumeClaim, $0) }
        refs += index.statefulSets.values.filter(waitsForCollector).map { ObjectRef($0) }
        refs += index.replicaSets.values.filter(waitsForCollector).map { ObjectRef($0) }
        return refs
    }

    static func waitsForCollector(_ o: any KubeObject) -> Bool {
        o.metadata.isDeleting && (o.metadata.hasFinalizer(Well.foregroundDeletionFinalizer) || o.metadata.hasFinalizer(Well.orphanFinalizer))
    }

    /// The pods and claims among `keys`, pods first, each in name order; then the owners among them
    /// whose deletion waits for the collector.
    public static func plan(_ index: ClusterIndex, keys: [ObjectRef]) -> [Action] {
        let owner = { (uid: String) -> OwnerState? in
            switch index.object(uid: uid) {
            case let set as StatefulSet: OwnerState(kind: .statefulSet, deletion: deletion(set, finalizersOnly: false))
            case let rs as ReplicaSet: OwnerState(kind: .replicaSet, deletion: deletion(rs, finalizersOnly: false))
            case let pod as Pod: OwnerState(kind: .pod, deletion: deletion(pod, finalizersOnly: true))
            default: nil
            }
        }
        var actions: [Action] = []
        let unique = Set(keys)
        for key in unique.filter({ $0.kind == .pod }).map(\.key).sorted() {
            if let pod = index.pods[key], let action = collect(pod, owner) { actions.append(action) }
        }
        for key in unique.filter({ $0.kind == .persistentVolumeClaim }).map(\.key).sorted() {
            if let claim = index.claims[key], let action = collect(claim, owner) { actions.append(action) }
        }
        for ref in unique.sorted(by: { ($0.kind.rawValue, $0.key) < ($1.kind.rawValue, $1.key) }) {
            guard let object = index.object(ref), waitsForCollector(object),
                  let action = finish(object, dependents: dependents(of: object.uid, index)) else { continue }
            actions.append(action)
        }
        return actions
    }

    /// How an owner is being deleted, as its dependents see it.
    enum Deletion { case none, cascading, orphaning }

    /// A StatefulSet or ReplicaSet that is deleting counts as gone unless it orphans; a Pod only in
    /// foreground deletion (a terminating pod still owns its claims).
    static func deletion(_ o: any KubeObject, finalizersOnly: Bool) -> Deletion {
        guard o.metadata.isDeleting else { return .none }
        if o.metadata.hasFinalizer(Well.orphanFinalizer) { return .orphaning }
        if o.metadata.hasFinalizer(Well.foregroundDeletionFinalizer) { return .cascading }
        return finalizersOnly ? .none : .cascading
    }

    struct OwnerState {
        var kind: Kind
        var deletion: Deletion
    }

    private enum Verdict { case solid, dangling, goingAway, orphaning }

    private static let ownerKinds: [Kind] = [.statefulSet, .replicaSet, .pod]

    private static func verdict(_ ref: OwnerReference, _ owners: (String) -> OwnerState?) -> Verdict {
        guard let kind = ownerKinds.first(where: { $0.rawValue == ref.kind && $0.group == group(ref.apiVersion) }) else {
            return .solid
        }
        guard let owner = owners(ref.uid), owner.kind == kind else { return .dangling }
        switch owner.deletion {
        case .none: return .solid
        case .cascading: return .goingAway
        case .orphaning: return .orphaning
        }
    }

    private static func group(_ apiVersion: String) -> String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    static func collect<T: KubeObject>(_ object: T, _ owners: (String) -> OwnerState?) -> Action? {
        guard !object.metadata.isDeleting, let refs = object.metadata.ownerReferences, !refs.isEmpty else { return nil }
        let verdicts = refs.map { verdict($0, owners) }
        let remaining = verdicts.filter { $0 != .orphaning }
        if !remaining.isEmpty && !remaining.contains(.solid) {
            return .delete(T.kind, namespace: object.namespace, name: object.name, uid: object.uid)
        }
        // Released by orphaning owners; with a solid owner left, also from the gone and going ones.
        let drop: Set<Verdict> = remaining.isEmpty ? [.orphaning] : [.orphaning, .dangling, .goingAway]
        guard verdicts.contains(where: { drop.contains($0) }) else { return nil }
        var updated = object
        let kept = zip(refs, verdicts).filter { !drop.contains($0.1) }.map(\.0)
        updated.metadata.ownerReferences = kept.isEmpty ? nil : kept
        return .update(updated)
    }

    /// The pods and claims that refer to `uid`.
    static func dependents(of uid: String, _ index: ClusterIndex) -> [any KubeObject] {
        (index.dependentsByOwner[uid] ?? []).compactMap { ref -> (any KubeObject)? in
            guard ref.kind == .pod || ref.kind == .persistentVolumeClaim, let o = index.object(ref) else { return nil }
            return o.metadata.ownerReferences?.contains { $0.uid == uid } == true ? o : nil
        }
    }

    /// An owner's finalizer comes off once the collector is done with its dependents: for `orphan`
    /// when none refers to it, for `foregroundDeletion` when none that blocks it is left.
    static func finish(_ owner: any KubeObject, dependents: [any KubeObject]) -> Action? {
        var updated = owner
        if owner.metadata.hasFinalizer(Well.orphanFinalizer) {
            guard dependents.isEmpty else { return nil }
            updated.metadata.removeFinalizer(Well.orphanFinalizer)
        } else if owner.metadata.hasFinalizer(Well.foregroundDeletionFinalizer) {
            let blocking = dependents.contains { d in
                d.metadata.ownerReferences?.contains { $0.uid == owner.uid && $0.blockOwnerDeletion == true } == true
            }
            guard !blocking else { return nil }
            updated.metadata.removeFinalizer(Well.foregroundDeletionFinalizer)
        } else {
            return nil
        }
        return .update(updated)
    }
}
