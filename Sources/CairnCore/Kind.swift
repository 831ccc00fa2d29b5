/// The kinds Cairn serves, with the names kubectl uses for them.
public enum Kind: String, Sendable, CaseIterable, Codable, Hashable {
    case storageClass = "StorageClass"
    case persistentVolume = "PersistentVolume"
    case persistentVolumeClaim = "PersistentVolumeClaim"
    case pod = "Pod"
    case node = "Node"
    case event = "Event"
    case namespace = "Namespace"
    case statefulSet = "StatefulSet"
    case replicaSet = "ReplicaSet"
    /// Accepted and stored so the seed's headless Service applies as written; Cairn does no networking.
    case service = "Service"

    public var group: String {
        switch self {
        case .storageClass: "storage.k8s.io"
        case .statefulSet, .replicaSet: "apps"
        default: ""
        }
    }
    public var version: String { "v1" }
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The REST resource name (plural, lower case).
    public var resource: String {
        switch self {
        case .storageClass: "storageclasses"
        case .persistentVolume: "persistentvolumes"
        case .persistentVolumeClaim: "persistentvolumeclaims"
        case .pod: "pods"
        case .node: "nodes"
        case .event: "events"
        case .namespace: "namespaces"
        case .statefulSet: "statefulsets"
        case .replicaSet: "replicasets"
        case .service: "services"
        }
    }
    public var singular: String { rawValue.lowercased() }
    /// The resource as kube-apiserver names it in messages: "persistentvolumeclaims", "statefulsets.apps".
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
    /// The kind as kube-apiserver names it in Invalid messages: "Pod", "StatefulSet.apps".
    public var qualifiedKind: String { group.isEmpty ? rawValue : "\(rawValue).\(group)" }
    public var shortNames: [String] {
        switch self {
        case .storageClass: ["sc"]
        case .persistentVolume: ["pv"]
        case .persistentVolumeClaim: ["pvc"]
        case .pod: ["po"]
        case .node: ["no"]
        case .event: ["ev"]
        case .namespace: ["ns"]
        case .statefulSet: ["sts"]
        case .replicaSet: ["rs"]
        case .service: ["svc"]
        }
    }
    public var namespaced: Bool {
        switch self {
        case .storageClass, .persistentVolume, .node, .namespace: false
        default: true
        }
    }
    /// Kinds a user may create with `apply`; Nodes and Events are written by Cairn itself.
    public var userWritable: Bool { self != .node && self != .event }

    /// The REST path prefix for this kind, e.g. "/apis/apps/v1/namespaces/ns/statefulsets".
    public func collectionPath(namespace: String?) -> String {
        let base = group.isEmpty ? "/api/v1" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { return "\(base)/namespaces/\(namespace)/\(resource)" }
        return "\(base)/\(resource)"
    }

    /// Resolves what a user types after `cairn get`: kind names, plurals, singulars and short names.
    public static func resolve(_ word: String) -> Kind? {
        let w = word.lowercased()
        return allCases.first { k in
            w == k.resource || w == k.singular || k.shortNames.contains(w)
                || w == "\(k.resource).\(k.group)" || w == "\(k.singular).\(k.group)"
        }
    }

    public static func from(apiVersion: String, kind: String) -> Kind? {
        guard let k = Kind(rawValue: kind), k.apiVersion == apiVersion else { return nil }
        return k
    }
}
