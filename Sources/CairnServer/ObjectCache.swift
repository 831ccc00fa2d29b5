import CairnControl
import CairnCore
import Foundation

/// Typed copies of every object the controllers read, kept in step with the store: loaded once at start,
/// then updated after each committed write (all writes go through the ControlPlane actor), so a sync
/// never re-reads and re-decodes thousands of objects.
struct ObjectCache {
    private var objects: [Kind: [String: any KubeObject]] = [:]
    /// Keys of each kind in the order controllers walk them (creation time, then name). Neither changes
    /// while an object exists, so an update never moves a key; only a create inserts one.
    private var order: [Kind: [OrderKey]] = [:]
    /// `all(T.self)` as last built, per kind, until that kind changes: a sync takes a snapshot before
    /// every controller, and most of them change nothing.
    private var typed: [Kind: Any] = [:]

    struct OrderKey: Comparable {
        var created: Time
        var name: String
        var key: String
        static func < (a: OrderKey, b: OrderKey) -> Bool {
            a.created != b.created ? a.created < b.created : (a.name != b.name ? a.name < b.name : a.key < b.key)
        }
    }

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    mutating func put(_ object: any KubeObject) {
        let k = type(of: object).kind
        let key = Self.key(object.metadata.namespace, object.name)
        typed[k] = nil
        let previous = objects[k, default: [:]].updateValue(object, forKey: key)
        let orderKey = OrderKey(created: object.metadata.creationTimestamp ?? Time(.distantPast), name: object.name, key: key)
        if let previous {
            let old = OrderKey(created: previous.metadata.creationTimestamp ?? Time(.distantPast), name: previous.name, key: key)
            if old == orderKey { return }
            removeOrder(k, old)
        }
        var keys = order[k, default: []]
        keys.insert(orderKey, at: Self.insertionIndex(of: orderKey, in: keys))
        order[k] = keys
    }

    mutating func remove(_ kind: Kind, namespace: String?, name: String) {
        let key = Self.key(namespace, name)
        guard let previous = objects[kind]?.removeValue(forKey: key) else { return }
        typed[kind] = nil
        removeOrder(kind, OrderKey(created: previous.metadata.creationTimestamp ?? Time(.distantPast), name: previous.name, key: key))
    }

    private mutating func removeOrder(_ kind: Kind, _ orderKey: OrderKey) {
        guard var keys = order[kind] else { return }
        let i = Self.insertionIndex(of: orderKey, in: keys)
        if i < keys.count, keys[i] == orderKey { keys.remove(at: i) }
        order[kind] = keys
    }

    /// The first index whose key is not less than `key` (binary search).
    static func insertionIndex(of key: OrderKey, in keys: [OrderKey]) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func get(_ kind: Kind, namespace: String?, name: String) -> (any KubeObject)? {
        objects[kind]?[Self.key(namespace, name)]
    }

    /// Every object of a kind, oldest first (then by name).
    mutating func all<T: KubeObject>(_ type: T.Type) -> [T] {
        if let cached = typed[T.kind] as? [T] { return cached }
        let byKey = objects[T.kind] ?? [:]
        let list = (order[T.kind] ?? []).compactMap { byKey[$0.key] as? T }
        typed[T.kind] = list
        return list
    }

    func count(_ kind: Kind) -> Int { objects[kind]?.count ?? 0 }

    mutating func snapshot(now: Time, localNodes: Set<String>) -> ClusterSnapshot {
        var s = ClusterSnapshot(now: now)
        s.namespaces = all(Namespace.self)
        s.storageClasses = all(StorageClass.self)
        s.nodes = all(Node.self)
        s.persistentVolumes = all(PersistentVolume.self)
        s.claims = all(PersistentVolumeClaim.self)
        s.pods = all(Pod.self)
        s.statefulSets = all(StatefulSet.self)
        s.replicaSets = all(ReplicaSet.self)
        s.localNodes = localNodes
        return s
    }
}

