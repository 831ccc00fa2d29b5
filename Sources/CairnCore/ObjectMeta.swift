/// metav1.ObjectMeta: the fields Cairn reads or writes, with Kubernetes' JSON names.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: Time?
    public var deletionTimestamp: Time?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Server-side apply's record of who owns which fields (written by the API server only).
    public var managedFields: [ManagedFieldsEntry]?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil,
                annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }

    public var nameOrEmpty: String { name ?? "" }
    public func annotation(_ key: String) -> String? { annotations?[key] }
    public mutating func setAnnotation(_ key: String, _ value: String?) {
        var a = annotations ?? [:]
        a[key] = value
        annotations = a.isEmpty ? nil : a
    }
    public func hasFinalizer(_ f: String) -> Bool { finalizers?.contains(f) ?? false }
    public mutating func addFinalizer(_ f: String) {
        if !hasFinalizer(f) { finalizers = (finalizers ?? []) + [f] }
    }
    public mutating func removeFinalizer(_ f: String) {
        finalizers = finalizers?.filter { $0 != f }
        if finalizers?.isEmpty == true { finalizers = nil }
    }
    public var isDeleting: Bool { deletionTimestamp != nil }
}

/// metav1.ManagedFieldsEntry: one manager's fields, as a FieldsV1 set.
public struct ManagedFieldsEntry: Codable, Sendable, Hashable {
    public var manager: String?
    /// "Apply" or "Update".
    public var operation: String?
    public var apiVersion: String?
    public var time: Time?
    public var fieldsType: String?
    /// The FieldsV1 trie (`{"f:spec":{"f:replicas":{}}}`), kept as JSON.
    public var fieldsV1: JSONValue?
    public var subresource: String?

    public init(manager: String?, operation: String?, apiVersion: String?, time: Time?, fieldsV1: JSONValue?, subresource: String? = nil) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.fieldsType = fieldsV1 == nil ? nil : "FieldsV1"
        self.fieldsV1 = fieldsV1
        self.subresource = subresource
    }
}

public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
                blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// corev1.ObjectReference, as used by PV claimRef and Event involvedObject.
public struct ObjectReference: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
                uid: String? = nil, resourceVersion: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
    }
}

/// What every object Cairn stores has in common.
public protocol KubeObject: Codable, Sendable, Hashable {
    static var kind: Kind { get }
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }
}

extension KubeObject {
    public var name: String { metadata.name ?? "" }
    public var namespace: String? { metadata.namespace }
    public var uid: String { metadata.uid ?? "" }

    /// Fills apiVersion and kind from the type (objects built in code leave them empty).
    public mutating func setTypeMeta() {
        apiVersion = Self.kind.apiVersion
        kind = Self.kind.rawValue
    }

    public func reference() -> ObjectReference {
        ObjectReference(apiVersion: Self.kind.apiVersion, kind: Self.kind.rawValue, namespace: metadata.namespace,
                        name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion)
    }

    public func ownerReference(controller: Bool = true) -> OwnerReference {
        OwnerReference(apiVersion: Self.kind.apiVersion, kind: Self.kind.rawValue, name: name, uid: uid,
                       controller: controller, blockOwnerDeletion: true)
    }

    public func isOwned(by uid: String) -> Bool {
        metadata.ownerReferences?.contains { $0.uid == uid } ?? false
    }
    public var controllerRef: OwnerReference? {
        metadata.ownerReferences?.first { $0.controller == true }
    }
}
