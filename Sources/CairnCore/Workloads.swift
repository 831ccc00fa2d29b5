public struct VolumeMount: Codable, Sendable, Hashable {
    public var name: String
    public var mountPath: String
    public var readOnly: Bool?
    public var subPath: String?
    public var mountPropagation: String?
    public init(name: String, mountPath: String, readOnly: Bool? = nil) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
    }
}

/// A container: Cairn runs no images, but keeps what the manifest says about them; it acts on volumeMounts.
public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var env: JSONValue?
    public var envFrom: JSONValue?
    public var ports: JSONValue?
    public var resources: JSONValue?
    public var volumeMounts: [VolumeMount]?
    public var livenessProbe: JSONValue?
    public var readinessProbe: JSONValue?
    public var startupProbe: JSONValue?
    public var lifecycle: JSONValue?
    public var imagePullPolicy: String?
    public var securityContext: JSONValue?
    public var stdin: Bool?
    public var tty: Bool?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    public init(name: String, image: String? = nil) {
        self.name = name
        self.image = image
    }
}

public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Hashable {
    public var claimName: String
    public var readOnly: Bool?
    public init(claimName: String, readOnly: Bool? = nil) {
        self.claimName = claimName
        self.readOnly = readOnly
    }
}

public struct Volume: Codable, Sendable, Hashable {
    public var name: String
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public init(name: String, persistentVolumeClaim: PersistentVolumeClaimVolumeSource?) {
        self.name = name
        self.persistentVolumeClaim = persistentVolumeClaim
    }
}

public struct NodeAffinity: Codable, Sendable, Hashable {
    public var requiredDuringSchedulingIgnoredDuringExecution: NodeSelector?
    public var preferredDuringSchedulingIgnoredDuringExecution: JSONValue?
    public init(required: NodeSelector? = nil, preferred: JSONValue? = nil) {
        requiredDuringSchedulingIgnoredDuringExecution = required
        preferredDuringSchedulingIgnoredDuringExecution = preferred
    }
}

public struct Affinity: Codable, Sendable, Hashable {
    public var nodeAffinity: NodeAffinity?
    public var podAffinity: JSONValue?
    public var podAntiAffinity: JSONValue?
    public init(nodeAffinity: NodeAffinity? = nil, podAffinity: JSONValue? = nil, podAntiAffinity: JSONValue? = nil) {
        self.nodeAffinity = nodeAffinity
        self.podAffinity = podAffinity
        self.podAntiAffinity = podAntiAffinity
    }
}

public struct PodSpec: Codable, Sendable, Hashable {
    public var containers: [Container]
    public var initContainers: [Container]?
    public var volumes: [Volume]?
    public var nodeSelector: [String: String]?
    public var nodeName: String?
    public var affinity: Affinity?
    public var tolerations: JSONValue?
    public var terminationGracePeriodSeconds: Int64?
    public var restartPolicy: String?
    public var hostname: String?
    public var subdomain: String?
    public var schedulerName: String?
    public var serviceAccountName: String?
    public var securityContext: JSONValue?
    public var dnsPolicy: String?
    public var imagePullSecrets: JSONValue?
    public var priorityClassName: String?
    public init(containers: [Container]) { self.containers = containers }

    public var claimVolumes: [(volume: String, claim: String, readOnly: Bool)] {
        (volumes ?? []).compactMap { v in
            v.persistentVolumeClaim.map { (v.name, $0.claimName, $0.readOnly ?? false) }
        }
    }
}

public struct PodCondition: Codable, Sendable, Hashable {
    public var type: String
    public var status: ConditionStatus
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: Time?
    public init(type: String, status: ConditionStatus, reason: String? = nil, message: String? = nil,
                lastTransitionTime: Time? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

public struct PodStatus: Codable, Sendable, Hashable {
    public var phase: PodPhase?
    public var conditions: [PodCondition]?
    public var message: String?
    public var reason: String?
    public var hostIP: String?
    public var podIP: String?
    public var startTime: Time?
    public init() {}
}

/// v1 Pod.
public struct Pod: KubeObject {
    public static let kind = Kind.pod
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }
    public var phase: PodPhase { status?.phase ?? .pending }
    public func condition(_ type: String) -> PodCondition? { status?.conditions?.first { $0.type == type } }
    public var isReady: Bool { condition(PodConditionType.ready)?.status == .true }
    public var isRunningAndReady: Bool { phase == .running && isReady && !metadata.isDeleting }
}

public struct PodTemplateSpec: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta?
    public var spec: PodSpec
    public init(metadata: ObjectMeta?, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// A volumeClaimTemplates entry: a PersistentVolumeClaim without status.
public struct PersistentVolumeClaimTemplate: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeClaimSpec
    public init(metadata: ObjectMeta, spec: PersistentVolumeClaimSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct StatefulSetPersistentVolumeClaimRetentionPolicy: Codable, Sendable, Hashable {
    public var whenDeleted: String?
    public var whenScaled: String?
    public init(whenDeleted: String? = nil, whenScaled: String? = nil) {
        self.whenDeleted = whenDeleted
        self.whenScaled = whenScaled
    }
}

public struct StatefulSetOrdinals: Codable, Sendable, Hashable {
    public var start: Int32?
    public init(start: Int32? = nil) { self.start = start }
}

public struct StatefulSetSpec: Codable, Sendable, Hashable {
    public var replicas: Int32?
    public var selector: LabelSelector?
    public var template: PodTemplateSpec
    public var volumeClaimTemplates: [PersistentVolumeClaimTemplate]?
    public var serviceName: String?
    public var podManagementPolicy: String?
    public var updateStrategy: JSONValue?
    public var revisionHistoryLimit: Int32?
    public var minReadySeconds: Int32?
    public var persistentVolumeClaimRetentionPolicy: StatefulSetPersistentVolumeClaimRetentionPolicy?
    public var ordinals: StatefulSetOrdinals?
    public init(template: PodTemplateSpec) { self.template = template }
}

public struct StatefulSetStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    public var replicas: Int32?
    public var readyReplicas: Int32?
    public var currentReplicas: Int32?
    public var updatedReplicas: Int32?
    public var availableReplicas: Int32?
    public init() {}
}

/// apps/v1 StatefulSet.
public struct StatefulSet: KubeObject {
    public static let kind = Kind.statefulSet
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: StatefulSetSpec
    public var status: StatefulSetStatus?
    public init(metadata: ObjectMeta, spec: StatefulSetSpec) {
        self.metadata = metadata
        self.spec = spec
    }
    /// Defaults as the API server applies them.
    public var replicas: Int { Int(spec.replicas ?? 1) }
    public var isParallel: Bool { spec.podManagementPolicy == "Parallel" }
    public var whenScaled: String { spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain" }
    public var whenDeleted: String { spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? "Retain" }
    public var ordinalStart: Int { Int(spec.ordinals?.start ?? 0) }
}

public struct ReplicaSetSpec: Codable, Sendable, Hashable {
    public var replicas: Int32?
    public var selector: LabelSelector?
    public var template: PodTemplateSpec?
    public var minReadySeconds: Int32?
    public init() {}
}

public struct ReplicaSetStatus: Codable, Sendable, Hashable {
    public var replicas: Int32?
    public var fullyLabeledReplicas: Int32?
    public var readyReplicas: Int32?
    public var availableReplicas: Int32?
    public var observedGeneration: Int64?
    public init() {}
}

/// apps/v1 ReplicaSet.
public struct ReplicaSet: KubeObject {
    public static let kind = Kind.replicaSet
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ReplicaSetSpec
    public var status: ReplicaSetStatus?
    public init(metadata: ObjectMeta, spec: ReplicaSetSpec) {
        self.metadata = metadata
        self.spec = spec
    }
    public var replicas: Int { Int(spec.replicas ?? 1) }
}

/// autoscaling/v1 Scale, the scale subresource.
public struct Scale: Codable, Sendable, Hashable {
    public struct Spec: Codable, Sendable, Hashable { public var replicas: Int32? }
    public struct Status: Codable, Sendable, Hashable {
        public var replicas: Int32
        public var selector: String?
    }
    public var apiVersion: String? = "autoscaling/v1"
    public var kind: String? = "Scale"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?
    public init(metadata: ObjectMeta, replicas: Int32, statusReplicas: Int32, selector: String?) {
        self.metadata = metadata
        self.spec = Spec(replicas: replicas)
        self.status = Status(replicas: statusReplicas, selector: selector)
    }
}
