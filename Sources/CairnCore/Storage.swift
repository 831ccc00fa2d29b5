/// storage.k8s.io/v1 StorageClass.
public struct StorageClass: KubeObject {
    public static let kind = Kind.storageClass
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var provisioner: String
    public var parameters: [String: String]?
    public var reclaimPolicy: String?
    public var volumeBindingMode: String?
    public var allowVolumeExpansion: Bool?
    public var mountOptions: [String]?
    public var allowedTopologies: JSONValue?

    public init(metadata: ObjectMeta, provisioner: String) {
        self.metadata = metadata
        self.provisioner = provisioner
    }

    public static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
    public var isDefault: Bool { metadata.annotation(Self.defaultClassAnnotation) == "true" }
    /// Defaults as the API server applies them.
    public var effectiveReclaimPolicy: String { reclaimPolicy ?? "Delete" }
    public var effectiveBindingMode: String { volumeBindingMode ?? "Immediate" }
}

public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var requests: [String: Quantity]?
    public var limits: [String: Quantity]?
    public init(requests: [String: Quantity]? = nil, limits: [String: Quantity]? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

public struct PersistentVolumeClaimSpec: Codable, Sendable, Hashable {
    public var accessModes: [String]?
    public var resources: ResourceRequirements?
    public var storageClassName: String?
    public var volumeName: String?
    public var volumeMode: String?
    public var selector: LabelSelector?
    public var dataSource: JSONValue?
    public var dataSourceRef: JSONValue?
    public init() {}
    public var requestedStorage: Quantity? { resources?.requests?["storage"] }
}

/// PersistentVolumeClaimCondition: Resizing while the volume grows, FileSystemResizePending until
/// the node has grown the filesystem.
public struct PersistentVolumeClaimCondition: Codable, Sendable, Hashable {
    public var type: String
    public var status: ConditionStatus
    public var reason: String?
    public var message: String?
    public var lastProbeTime: Time?
    public var lastTransitionTime: Time?
    public init(type: String, status: ConditionStatus, reason: String? = nil, message: String? = nil, lastTransitionTime: Time? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    public static let resizing = "Resizing"
    public static let fileSystemResizePending = "FileSystemResizePending"
}

public struct PersistentVolumeClaimStatus: Codable, Sendable, Hashable {
    public var phase: ClaimPhase?
    public var accessModes: [String]?
    public var capacity: [String: Quantity]?
    public var conditions: [PersistentVolumeClaimCondition]?
    /// The size the volume is being grown to (or has been).
    public var allocatedResources: [String: Quantity]?
    public init() {}
}

/// v1 PersistentVolumeClaim.
public struct PersistentVolumeClaim: KubeObject {
    public static let kind = Kind.persistentVolumeClaim
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeClaimSpec
    public var status: PersistentVolumeClaimStatus?

    public init(metadata: ObjectMeta, spec: PersistentVolumeClaimSpec) {
        self.metadata = metadata
        self.spec = spec
    }
    public var phase: ClaimPhase { status?.phase ?? .pending }
}

public struct LocalVolumeSource: Codable, Sendable, Hashable {
    public var path: String
    public var fsType: String?
    public init(path: String) { self.path = path }
}

public struct NodeSelectorRequirement: Codable, Sendable, Hashable {
    public var key: String
    public var `operator`: String
    public var values: [String]?
    public init(key: String, operator op: String, values: [String]?) {
        self.key = key
        self.operator = op
        self.values = values
    }
}

public struct NodeSelectorTerm: Codable, Sendable, Hashable {
    public var matchExpressions: [NodeSelectorRequirement]?
    public var matchFields: [NodeSelectorRequirement]?
    public init(matchExpressions: [NodeSelectorRequirement]?, matchFields: [NodeSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }
}

public struct NodeSelector: Codable, Sendable, Hashable {
    public var nodeSelectorTerms: [NodeSelectorTerm]
    public init(nodeSelectorTerms: [NodeSelectorTerm]) { self.nodeSelectorTerms = nodeSelectorTerms }
}

public struct VolumeNodeAffinity: Codable, Sendable, Hashable {
    public var required: NodeSelector?
    public init(required: NodeSelector?) { self.required = required }
}

public struct PersistentVolumeSpec: Codable, Sendable, Hashable {
    public var capacity: [String: Quantity]?
    public var accessModes: [String]?
    public var persistentVolumeReclaimPolicy: String?
    public var storageClassName: String?
    public var claimRef: ObjectReference?
    public var local: LocalVolumeSource?
    public var nodeAffinity: VolumeNodeAffinity?
    public var mountOptions: [String]?
    public var volumeMode: String?
    public init() {}
}

public struct PersistentVolumeStatus: Codable, Sendable, Hashable {
    public var phase: VolumePhase?
    public var message: String?
    public var reason: String?
    public var lastPhaseTransitionTime: Time?
    public init() {}
}

/// v1 PersistentVolume.
public struct PersistentVolume: KubeObject {
    public static let kind = Kind.persistentVolume
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeSpec
    public var status: PersistentVolumeStatus?

    public init(metadata: ObjectMeta, spec: PersistentVolumeSpec) {
        self.metadata = metadata
        self.spec = spec
    }
    public var phase: VolumePhase { status?.phase ?? .pending }
}

/// The access modes Kubernetes defines.
public enum AccessMode: String, Sendable, CaseIterable {
    case readWriteOnce = "ReadWriteOnce"
    case readOnlyMany = "ReadOnlyMany"
    case readWriteMany = "ReadWriteMany"
    case readWriteOncePod = "ReadWriteOncePod"

    /// kubectl's abbreviations for the ACCESS MODES column.
    public var abbreviation: String {
        switch self {
        case .readWriteOnce: "RWO"
        case .readOnlyMany: "ROX"
        case .readWriteMany: "RWX"
        case .readWriteOncePod: "RWOP"
        }
    }
    public static func abbreviate(_ modes: [String]?) -> String {
        // kubectl prints them in this fixed order (GetAccessModesAsString).
        let set = Set(modes ?? [])
        return [AccessMode.readWriteOnce, .readOnlyMany, .readWriteMany, .readWriteOncePod]
            .filter { set.contains($0.rawValue) }.map(\.abbreviation).joined(separator: ",")
    }
}
