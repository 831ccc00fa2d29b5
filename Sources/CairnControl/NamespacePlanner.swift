import CairnCore

/// The namespace controller (kubernetes `pkg/controller/namespace`): a namespace being deleted has its
/// contents deleted (each object the way a client's delete would, so finalizers and running pods are
/// honoured), and once nothing is left its `kubernetes` finalizer is removed, which lets the API server
/// remove it.
public enum NamespacePlanner {
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index))
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.namespaces.keys.map { ObjectRef(.namespace, NamespacedName(nil, $0)) }
    }

    public static func plan(_ index: ClusterIndex, keys: [ObjectRef]) -> [Action] {
        keys.filter { $0.kind == .namespace }.map(\.key.name).sorted().compactMap { index.namespaces[$0] }.flatMap { ns in
            plan(index, ns)
        }
    }

    static func plan(_ index: ClusterIndex, _ namespace: Namespace) -> [Action] {
        guard namespace.metadata.isDeleting else { return [] }
        let contents = index.contents(of: namespace.name)
        if !contents.isEmpty {
            return contents.filter { !$0.metadata.isDeleting }.sorted { ObjectRef($0) < ObjectRef($1) }.map { o in
                .delete(type(of: o).kind, namespace: o.metadata.namespace, name: o.name, uid: o.uid)
            }
        }
        guard var spec = namespace.spec?.objectValue,
              let finalizers = spec["finalizers"]?.arrayValue, finalizers.contains(.string(Defaulting.namespaceFinalizer)) else {
            return []
        }
        let rest = finalizers.filter { $0 != .string(Defaulting.namespaceFinalizer) }
        spec["finalizers"] = rest.isEmpty ? nil : .array(rest)
        var updated = namespace
        updated.spec = .object(spec)
        return [.update(updated)]
    }
}
