import CairnCore

/// What the node agent has observed and what it is doing: kubelet's "actual state of the world", the
/// planners' second input beside the objects. The daemon updates it when node work finishes and when
/// a node's health changes; nothing of it is stored, because a restarted daemon observes afresh (it
/// mounts nothing until a plan says so).
public struct NodeObservations: Sendable, Hashable {
    /// Pods whose volumes are mounted, by pod key: the pod's uid and its mounts.
    public var mounted: [NamespacedName: MountedPod] = [:]
    /// Node work started and not finished: planned again only once it has.
    public var inFlight: Set<NodeWork> = []
    /// The last failure of node work, kept until the work succeeds: its message and when.
    public var failures: [NodeWork: NodeWorkFailure] = [:]
    /// Nodes the agent serves right now (its filesystem session is alive), with when that began.
    public var servedNodes: [String: Time] = [:]
    /// Attached volumes whose filesystem was grown while mounted, by volume name: the size applied.
    public var resized: [String: Int64] = [:]
    /// Volumes being provisioned, by claim uid: the node and size each will take, counted as used
    /// until its PersistentVolume exists.
    public var provisioning: [String: StoragePromise] = [:]

    public init() {}

    public struct MountedPod: Sendable, Hashable {
        public var uid: String
        public var mounts: [PodVolumeMount]
        public init(uid: String, mounts: [PodVolumeMount]) {
            self.uid = uid
            self.mounts = mounts
        }
    }

    /// Whether the pod with this uid has its volumes mounted.
    public func isMounted(_ key: NamespacedName, uid: String) -> Bool { mounted[key]?.uid == uid }

    /// A pod object is gone: nothing about it is worth remembering (its mounts were undone before).
    mutating func forget(_ key: NamespacedName) {
        mounted[key] = nil
        failures = failures.filter { $0.key.pod != key }
    }
}

/// One piece of node work, named by what it acts on.
public enum NodeWork: Sendable, Hashable, CustomStringConvertible {
    /// Create a new volume's directory, then the PersistentVolume (by the claim's uid).
    case provision(claimUID: String)
    /// Remove a released volume's directory, then the PersistentVolume.
    case reclaim(volume: String)
    /// Attach and bind-mount a pod's volumes.
    case mount(NamespacedName)
    /// Fingerprint and unmount a pod's volumes.
    case unmount(NamespacedName)
    /// Grow an attached volume's filesystem to its new capacity.
    case resize(volume: String)

    public var pod: NamespacedName? {
        switch self {
        case .mount(let k), .unmount(let k): k
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .provision(let uid): "provision for claim \(uid)"
        case .reclaim(let v): "reclaim \(v)"
        case .mount(let k): "mount volumes of pod \(k)"
        case .unmount(let k): "unmount volumes of pod \(k)"
        case .resize(let v): "grow the filesystem of \(v)"
        }
    }
}

public struct StoragePromise: Sendable, Hashable {
    public var node: String
    public var bytes: Int64
    public init(node: String, bytes: Int64) {
        self.node = node
        self.bytes = bytes
    }
}

public struct NodeWorkFailure: Sendable, Hashable {
    public var message: String
    public var at: Time
    /// Failures in a row, for the retry backoff.
    public var count: Int
    public init(message: String, at: Time, count: Int) {
        self.message = message
        self.at = at
        self.count = count
    }

    /// kubelet's volume manager backs off exponentially from 500 ms, to at most 2 minutes.
    public var retryAfterSeconds: Double { min(0.5 * Double(1 << min(count - 1, 8)), 120) }

    public func mayRetry(now: Time) -> Bool {
        now.date.timeIntervalSince(at.date) >= retryAfterSeconds
    }
}
