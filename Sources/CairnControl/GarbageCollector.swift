import CairnCore

/// The garbage collector (kubernetes `pkg/controller/garbagecollector`, attemptToDeleteItem), for the
/// dependents Cairn has: Pods and PersistentVolumeClaims whose owners are StatefulSets, ReplicaSets or
/// Pods, matched by uid.
///
/// - Every owner gone: the dependent is deleted (background cascading). A StatefulSet or ReplicaSet that
///   is itself being deleted counts as gone, so its dependents go before it.
/// - Some owners gone, some not: the references to the gone ones are removed.
/// - A reference to a kind Cairn cannot look up keeps the object: the collector deletes nothing it cannot
///   prove is orphaned.
/// - Objects already being deleted are left alone; a pod that is terminating still owns its claims.
public enum GarbageCollector {
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index))
    }

    /// Every dependent: pods and claims.
    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.pods.keys.map { ObjectRef(.pod, $0) } + index.claims.keys.map { ObjectRef(.persistentVolumeClaim, $0) }
    }

    /// The pods and claims among `keys`, pods first, each in name order.
    public static func plan(_ index: ClusterIndex, keys: [ObjectRef]) -> [Action] {
        let owner = { (uid: String) -> OwnerState? in
            switch index.object(uid: uid) {
            case let set as StatefulSet: OwnerState(kind: .statefulSet, deleting: set.metadata.isDeleting)
            case let rs as ReplicaSet: OwnerState(kind: .replicaSet, deleting: rs.metadata.isDeleting)
            case is Pod: OwnerState(kind: .pod, deleting: false)
            default: nil
            }
        }
        var actions: [Action] = []
        for key in Set(keys.filter { $0.kind == .pod }).map(\.key).sorted() {
            if let pod = index.pods[key], let action = collect(pod, owner) { actions.append(action) }
        }
        for key in Set(keys.filter { $0.kind == .persistentVolumeClaim }).map(\.key).sorted() {
            if let claim = index.claims[key], let action = collect(claim, owner) { actions.append(action) }
        }
        return actions
    }

    struct OwnerState {
        var kind: Kind
        /// Being deleted and so no longer a reason to keep dependents (StatefulSet, ReplicaSet only).
        var deleting: Bool
    }

    private enum Verdict { case solid, dangling, goingAway }

    private static let ownerKinds: [Kind] = [.statefulSet, .replicaSet, .pod]

    private static func verdict(_ ref: OwnerReference, _ owners: (String) -> OwnerState?) -> Verdict {
        guard let kind = ownerKinds.first(where: { $0.rawValue == ref.kind && $0.group == group(ref.apiVersion) }) else {
            return .solid
        }
        guard let owner = owners(ref.uid), owner.kind == kind else { return .dangling }
        return owner.deleting ? .goingAway : .solid
    }

    private static func group(_ apiVersion: String) -> String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    static func collect<T: KubeObject>(_ object: T, _ owners: (String) -> OwnerState?) -> Action? {
        guard !object.metadata.isDeleting, let refs = object.metadata.ownerReferences, !refs.isEmpty else { return nil }
        let verdicts = refs.map { verdict($0, owners) }
        if !verdicts.contains(.solid) {
            return .delete(T.kind, namespace: object.namespace, name: object.name, uid: object.uid)
        }
        guard verdicts.contains(.dangling) else { return nil }
        var updated = object
        let kept = zip(refs, verdicts).filter { $0.1 != .dangling }.map(\.0)
        updated.metadata.ownerReferences = kept
        return .update(updated)
    }
}
