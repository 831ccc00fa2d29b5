import CairnControl
import CairnCore
import Foundation

/// Typed copies of every object the controllers read, kept in step with the store: loaded once at start,
/// then updated after each committed write (all writes go through the ControlPlane actor), so a sync
/// never re-reads and re-decodes thousands of objects.
struct ObjectCache {
    private var objects: [Kind: [String: any KubeObject]] = [:]

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    mutating func put(_ object: any KubeObject) {
        let k = type(of: object).kind
        objects[k, default: [:]][Self.key(object.metadata.namespace, object.name)] = object
    }

    mutating func remove(_ kind: Kind, namespace: String?, name: String) {
        objects[kind]?[Self.key(namespace, name)] = nil
    }

    func get(_ kind: Kind, namespace: String?, name: String) -> (any KubeObject)? {
        objects[kind]?[Self.key(namespace, name)]
    }

    func all<T: KubeObject>(_ type: T.Type) -> [T] {
        (objects[T.kind] ?? [:]).values.compactMap { $0 as? T }
            .sorted { ($0.metadata.creationTimestamp ?? Time(.distantPast), $0.name) < ($1.metadata.creationTimestamp ?? Time(.distantPast), $1.name) }
    }

    func count(_ kind: Kind) -> Int { objects[kind]?.count ?? 0 }

    func snapshot(now: Time, localNodes: Set<String>) -> ClusterSnapshot {
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

