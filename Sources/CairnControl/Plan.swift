import CairnCore

/// A whole cluster state written out, for tables: `ClusterIndex(snapshot)` indexes it, and each planner's
/// `plan(snapshot)` plans every key of it. Planning is a pure function of the index, the node agent's
/// observations, `now` and the name generator, so a restart is just another sync and every rule is
/// tested by tables.
public struct ClusterSnapshot: Sendable {
    public var now: Time
    public var namespaces: [Namespace] = []
    public var storageClasses: [StorageClass] = []
    public var nodes: [Node] = []
    public var persistentVolumes: [PersistentVolume] = []
    public var claims: [PersistentVolumeClaim] = []
    public var pods: [Pod] = []
    public var statefulSets: [StatefulSet] = []
    public var replicaSets: [ReplicaSet] = []
    /// Nodes whose volumes this daemon serves (all logical nodes of this host).
    public var localNodes: Set<String> = []
    /// What the node agent has mounted and is doing.
    public var observed = NodeObservations()

    public init(now: Time) { self.now = now }
}

/// One volume of a pod, resolved down to the directory that backs it.
public struct PodVolumeMount: Sendable, Hashable {
    /// The pod's volume name (spec.volumes[].name): the directory under pods/<ns>/<pod>/volumes/.
    public var volumeName: String
    public var claimName: String
    public var claimUID: String
    public var persistentVolume: String
    public var node: String
    /// spec.local.path of the PV: the backing directory on the node's disk.
    public var backingPath: String
    public var capacityBytes: Int64
    /// ReadOnlyMany claims and `readOnly: true` sources or mounts.
    public var readOnly: Bool

    public init(volumeName: String, claimName: String, claimUID: String, persistentVolume: String, node: String,
                backingPath: String, capacityBytes: Int64, readOnly: Bool) {
        self.volumeName = volumeName
        self.claimName = claimName
        self.claimUID = claimUID
        self.persistentVolume = persistentVolume
        self.node = node
        self.backingPath = backingPath
        self.capacityBytes = capacityBytes
        self.readOnly = readOnly
    }
}

/// A new volume's directory on a node.
public struct VolumeDirectorySpec: Sendable, Hashable {
    public var node: String
    /// The node's data root (Node annotation cairn.io/data-root).
    public var dataRoot: String
    /// One path component, e.g. "pvc-<claim uid>_<namespace>_<claim>".
    public var name: String
    public var mode: UInt32
    public var path: String { dataRoot.hasSuffix("/") ? dataRoot + name : "\(dataRoot)/\(name)" }

    public init(node: String, dataRoot: String, name: String, mode: UInt32) {
        self.node = node
        self.dataRoot = dataRoot
        self.name = name
        self.mode = mode
    }
}

/// The controllers, by the names Kubernetes gives them (also the source of the events each emits).
public enum Controller: String, Sendable, CaseIterable, CustomStringConvertible {
    case garbageCollector = "garbage-collector"
    case statefulSet = "statefulset-controller"
    case replicaSet = "replicaset-controller"
    case persistentVolume = "persistentvolume-controller"
    case scheduler = "default-scheduler"
    case kubelet = "kubelet"
    case namespace = "namespace-controller"
    case nodeLifecycle = "node-lifecycle-controller"
    /// external-resizer's role and kubelet's NodeExpandVolume, for Cairn's own volumes.
    case resizer = "external-resizer cairn.io/local-path"

    public var description: String { rawValue }
}

/// What the controllers decided. The daemon performs actions in order; each is idempotent, and a failed
/// action is simply planned again at the next sync (level-triggered).
public enum Action: Sendable {
    /// Create an object (Pod, PersistentVolumeClaim, Event…). An AlreadyExists answer is success.
    case create(any KubeObject)
    /// Write an object back; it carries the resourceVersion it was read at, so a concurrent change makes
    /// it fail with a conflict and the next sync decides again.
    case update(any KubeObject)
    /// Delete an object by key, only if it still has this uid. Objects with finalizers get a
    /// deletionTimestamp instead, as the API server does.
    case delete(Kind, namespace: String?, name: String, uid: String)
    /// Record an Event about `object` (aggregated by reason and message, counting repeats). Its source
    /// is the acting controller unless `source` names another component (a provisioner).
    case event(object: ObjectReference, type: EventType, reason: String, message: String, source: String? = nil)
    /// Node work: create the volume's directory, then create `volume` (a PV bound to its claim by
    /// claimRef) and perform `succeeded`. A failure is an event, and the claim is planned again.
    case provision(volume: PersistentVolume, directory: VolumeDirectorySpec, succeeded: [Action])
    /// Node work: remove the volume's directory (never following symlinks), then delete the PV object.
    case reclaimDelete(volume: PersistentVolume, directory: VolumeDirectorySpec)
    /// Node work: attach and bind-mount every volume of a scheduled pod. `arrival`: the pod's first
    /// mount (not a remount after a restart), whose content fingerprint is recorded. The outcome is
    /// observed (`NodeObservations`), and the pod's status follows from it at the next plan.
    case mountPod(Pod, mounts: [PodVolumeMount], arrival: Bool)
    /// Node work: record each volume's fingerprint and unmount the pod's volumes.
    case unmountPod(Pod, mounts: [PodVolumeMount])
    /// Node work: grow an attached volume's filesystem (and kernel quota) to `bytes` at once.
    case resizeVolume(volume: String, node: String, bytes: Int64)
    /// Append to the binding history.
    case history(BindingAction, claim: ObjectReference, volume: String?, node: String?, pod: String?, detail: String?)
    /// Plan this object again after a while (a pod becomes available, a failed mount's backoff ends).
    case recheck(ObjectRef, afterSeconds: Double)
}

extension Action {
    /// One line for logs: what the action does to which object.
    public var summary: String {
        func key(_ o: any KubeObject) -> String { "\(type(of: o).kind.rawValue) \(o.metadata.namespace.map { "\($0)/" } ?? "")\(o.name)" }
        switch self {
        case .create(let o): return "create \(key(o))"
        case .update(let o): return "update \(key(o))"
        case .delete(let kind, let ns, let name, _): return "delete \(kind.rawValue) \(ns.map { "\($0)/" } ?? "")\(name)"
        case .event(let o, _, let reason, _, _): return "event \(reason) on \(o.kind ?? "") \(o.name ?? "")"
        case .provision(let v, let d, _): return "provision \(v.name) at \(d.path)"
        case .reclaimDelete(let v, _): return "reclaim (delete) \(v.name)"
        case .mountPod(let p, let m, _): return "mount \(m.count) volume(s) of pod \(p.metadata.namespace ?? "")/\(p.name)"
        case .unmountPod(let p, let m): return "unmount \(m.count) volume(s) of pod \(p.metadata.namespace ?? "")/\(p.name)"
        case .resizeVolume(let v, _, let bytes): return "grow \(v) to \(bytes) bytes"
        case .history(let what, let claim, _, _, _, _): return "history \(what.rawValue) \(claim.name ?? "")"
        case .recheck(let ref, let after): return "recheck \(ref) in \(after)s"
        }
    }
}

public enum EventType: String, Sendable {
    case normal = "Normal"
    case warning = "Warning"
}

/// Makes the random part of generated names (ReplicaSet pods). Injected so tables are deterministic.
public protocol NameGenerator: Sendable {
    func suffix() -> String
}

public struct RandomNameGenerator: NameGenerator {
    public init() {}
    public func suffix() -> String { Names.randomSuffix(length: 5) }
}

/// Well-known names the controllers write, in one place.
public enum Well {
    public static let provisioner = Validation.provisionerName
    public static let selectedNode = "volume.kubernetes.io/selected-node"
    public static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    public static let betaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
    public static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    public static let bindCompleted = "pv.kubernetes.io/bind-completed"
    public static let boundByController = "pv.kubernetes.io/bound-by-controller"
    public static let pvcProtection = "kubernetes.io/pvc-protection"
    public static let pvProtection = "kubernetes.io/pv-protection"
    public static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    public static let podIndexLabel = "apps.kubernetes.io/pod-index"
    public static let hostnameLabel = Node.hostnameLabel
}
