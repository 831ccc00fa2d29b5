import CairnControl
import CairnCore

/// The node agent's side effects, behind one seam so the control plane can be exercised without mounts.
public protocol NodeAgent: Sendable {
    /// Create a new volume's directory (idempotent).
    func createVolumeDirectory(_ spec: VolumeDirectorySpec) throws
    /// Remove a volume's directory and everything in it, never following a symlink out of it (idempotent).
    func removeVolumeDirectory(_ spec: VolumeDirectorySpec) throws
    /// Attach and bind-mount every volume of a pod (idempotent).
    func startPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws
    /// Fingerprint each volume (keyed by claim uid), then unmount the pod's volumes (idempotent).
    func stopPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws -> [String: VolumeFingerprint]
    /// Usage figures of a volume the filesystem serves, if attached.
    func usage(volume: String) -> (used: Int64, capacity: Int64)?
    /// A volume directory's fingerprint now (content digest only when `deep`).
    func fingerprint(path: String, deep: Bool) throws -> VolumeFingerprint
    /// Where a pod's volume is mounted on the host.
    func hostPath(namespace: String, pod: String, volume: String) -> String
    /// Removes volume directories (`pvc-*` under a data root) that no volume names and that are
    /// empty: what a crash between creating a directory and committing its PersistentVolume leaves.
    /// A directory with anything in it is kept (a Retain volume whose PV was deleted by hand keeps its
    /// data); returns what was removed and what was kept, as "node:name".
    func sweepOrphanDirectories(known: Set<String>) -> (removed: [String], kept: [String])
    /// Grows (or sets) an attached volume's capacity at once, the kernel's quota with it; a volume
    /// not attached takes its capacity from its PersistentVolume when next attached.
    func setCapacity(volume: String, node: String, bytes: Int64) throws
    /// The nodes whose filesystem session is mounted and answering now: the node agent's heartbeat.
    func servedNodes() -> Set<String>
    /// After a takeover, a pod whose volumes are all still attached and bind-mounted is the agent's
    /// again (it counts as their user); true when so, and nothing needs mounting.
    func adoptPod(namespace: String, pod: String, mounts: [PodVolumeMount]) -> Bool
}

/// What Cairn records about a volume's contents when its pod leaves.
public struct VolumeFingerprint: Sendable, Hashable {
    public var files: Int64
    public var bytes: Int64
    /// Metadata digest (paths, sizes, modes, mtimes).
    public var digest: String
    /// Content digest (every file's bytes), for `verify --deep`.
    public var deepDigest: String
    public init(files: Int64, bytes: Int64, digest: String, deepDigest: String) {
        self.files = files
        self.bytes = bytes
        self.digest = digest
        self.deepDigest = deepDigest
    }
}
