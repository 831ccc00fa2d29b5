/// The phases and condition states Kubernetes defines (k8s.io/api/core/v1 types.go), as closed sets:
/// the server writes every status, so a value outside them is a bug, not input to tolerate.

/// PodPhase.
public enum PodPhase: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"
    public var description: String { rawValue }
    /// util.IsPodTerminated: the pod has finished and will not run again.
    public var isTerminal: Bool { self == .succeeded || self == .failed }
}

/// PersistentVolumeClaimPhase.
public enum ClaimPhase: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case pending = "Pending"
    case bound = "Bound"
    case lost = "Lost"
    public var description: String { rawValue }
}

/// PersistentVolumePhase.
public enum VolumePhase: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case pending = "Pending"
    case available = "Available"
    case bound = "Bound"
    case released = "Released"
    case failed = "Failed"
    public var description: String { rawValue }
}

/// NamespacePhase.
public enum NamespacePhase: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case active = "Active"
    case terminating = "Terminating"
    public var description: String { rawValue }
}

/// ConditionStatus: the status of every condition, on pods, nodes and claims alike.
public enum ConditionStatus: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
    public var description: String { rawValue }
}

/// The pod condition types kubelet and the scheduler write.
public enum PodConditionType {
    public static let podScheduled = "PodScheduled"
    public static let readyToStartContainers = "PodReadyToStartContainers"
    public static let initialized = "Initialized"
    public static let containersReady = "ContainersReady"
    public static let ready = "Ready"
}
