public struct NodeCondition: Codable, Sendable, Hashable {
    public var type: String
    public var status: ConditionStatus
    public var reason: String?
    public var message: String?
    public var lastHeartbeatTime: Time?
    public var lastTransitionTime: Time?
    public init(type: String, status: ConditionStatus, reason: String? = nil, message: String? = nil,
                lastHeartbeatTime: Time? = nil, lastTransitionTime: Time? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
    }
}

/// The node condition types kubelet writes.
public enum NodeConditionType {
    public static let ready = "Ready"
}

/// v1 Taint.
public struct Taint: Codable, Sendable, Hashable {
    public enum Effect: String, Codable, Sendable, CaseIterable {
        case noSchedule = "NoSchedule"
        case preferNoSchedule = "PreferNoSchedule"
        case noExecute = "NoExecute"
    }
    public var key: String
    public var value: String?
    public var effect: Effect
    public var timeAdded: Time?
    public init(key: String, value: String? = nil, effect: Effect, timeAdded: Time? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    /// The node lifecycle controller's taint for a node whose kubelet stopped reporting.
    public static let unreachableKey = "node.kubernetes.io/unreachable"
    /// The taint NodeUnschedulable treats `spec.unschedulable` as (kubectl cordon).
    public static let unschedulableKey = "node.kubernetes.io/unschedulable"
}

public struct NodeSpec: Codable, Sendable, Hashable {
    public var unschedulable: Bool?
    public var taints: [Taint]?
    public init() {}
}

public struct NodeStatus: Codable, Sendable, Hashable {
    public var capacity: [String: Quantity]?
    public var allocatable: [String: Quantity]?
    public var conditions: [NodeCondition]?
    public var addresses: [JSONValue]?
    /// NodeSystemInfo (kubelet's machine and OS facts), kept as JSON: only shown, never acted on.
    public var nodeInfo: JSONValue?
    public init() {}
}

/// v1 Node: one logical node of this host, with the storage of its data root.
public struct Node: KubeObject {
    public static let kind = Kind.node
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec?
    public var status: NodeStatus?
    public init(metadata: ObjectMeta) { self.metadata = metadata }

    public static let hostnameLabel = "kubernetes.io/hostname"
    /// The node's local storage resource, as kubelet reports a node's disk.
    public static let storageResource = "ephemeral-storage"
    /// Where Cairn keeps this node's volumes (annotation, so it shows in describe).
    public static let dataRootAnnotation = "cairn.io/data-root"
    public var allocatableStorage: Quantity? { status?.allocatable?[Node.storageResource] }
    public var isReady: Bool { condition(NodeConditionType.ready)?.status == .true }
    public func condition(_ type: String) -> NodeCondition? { status?.conditions?.first { $0.type == type } }
}

public struct EventSource: Codable, Sendable, Hashable {
    public var component: String?
    public var host: String?
    public init(component: String?, host: String? = nil) {
        self.component = component
        self.host = host
    }
}

/// v1 Event (core/v1 shape, as `kubectl get events` shows it).
public struct Event: KubeObject {
    public static let kind = Kind.event
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var type: String?
    public var count: Int32?
    public var firstTimestamp: Time?
    public var lastTimestamp: Time?
    public var source: EventSource?
    public var reportingComponent: String?
    public init(metadata: ObjectMeta, involvedObject: ObjectReference) {
        self.metadata = metadata
        self.involvedObject = involvedObject
    }
}

public struct NamespaceStatus: Codable, Sendable, Hashable {
    public var phase: NamespacePhase?
    public init(phase: NamespacePhase?) { self.phase = phase }
}

/// v1 Namespace.
public struct Namespace: KubeObject {
    public static let kind = Kind.namespace
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: NamespaceStatus?
    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// v1 Service: accepted and stored so manifests with a headless Service apply as written; Cairn does no
/// networking, so its spec is kept as given and never acted on.
public struct Service: KubeObject {
    public static let kind = Kind.service
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?
    public init(metadata: ObjectMeta) { self.metadata = metadata }
}
