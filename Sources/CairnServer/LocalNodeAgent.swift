import CairnControl
import CairnCore
import CairnCrashPoint
import CairnFS
import CairnNode
import Foundation
import Logging

/// The node agent of this host: one CairnFS session per logical node (mounted at <state>/mnt/<node>,
/// each volume a top-level directory of it), and kubelet-style bind mounts of those directories at
/// <state>/pods/<namespace>/<pod>/volumes/<volume>.
public final class LocalNodeAgent: NodeAgent, @unchecked Sendable {
    public struct NodeConfig: Sendable {
        public var name: String
        public var dataRoot: String
        public init(name: String, dataRoot: String) {
            self.name = name
            self.dataRoot = dataRoot
        }
    }

    let layout: PodVolumeLayout
    let nodes: [String: NodeConfig]
    let logger: Logger
    /// Guards `filesystems` and `users`.
    private let lock = NSLock()
    private var filesystems: [String: NodeFileSystem] = [:]
    /// Which pods use each attached volume, so a volume is detached when its last pod leaves.
    private var users: [String: Set<String>] = [:]
    /// Data roots Cairn bind-mounted onto themselves (nodev,nosuid), to be unmounted at a stop. Each
    /// has a marker in the state dir, so a daemon that took the mounts over (SIGHUP) knows them too
    /// and never unmounts a nodev,nosuid mount an operator made.
    private var inertBinds: [String: String] = [:]
    private var inertMarkers: String { layout.stateDir + "/data-root-binds" }

    public init(stateDir: String, nodes: [NodeConfig], logger: Logger) {
        self.layout = PodVolumeLayout(stateDir: stateDir)
        self.nodes = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.logger = logger
    }

    /// Serves every node's filesystem: a node mount whose connection a previous daemon left with its
    /// descriptor holder is taken over (its pods' bind mounts stay and never saw an error); any other
    /// is mounted afresh. Then cleans the mounts a daemon that died without a holder left behind.
    public func start(stateDir: String) throws {
        for node in nodes.values.sorted(by: { $0.name < $1.name }) {
            try FileManager.default.createDirectory(atPath: node.dataRoot, withIntermediateDirectories: true)
            // Device nodes pods make are real nodes in the data root: keep them inert on the host.
            let marker = inertMarkers + "/" + node.name
            if try MountTable.makeInert(node.dataRoot) {
                logger.info("node \(node.name): data root \(node.dataRoot) bind-mounted onto itself nodev,nosuid")
                try FileManager.default.createDirectory(atPath: inertMarkers, withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: marker, contents: Data(node.dataRoot.utf8))
                lock.withLock { inertBinds[node.name] = node.dataRoot }
            } else if (try? String(contentsOfFile: marker, encoding: .utf8)) == node.dataRoot {
                lock.withLock { inertBinds[node.name] = node.dataRoot }
            }
            let mountPoint = layout.nodeMountPoint(node: node.name)
            // mkdir, never a stat: a mount point whose connection waits in a holder answers a stat
            // only when the kernel's cached attributes are fresh; after a longer pause (a crash,
            // a slow restart) the stat waits for this very daemon until the holder gives up, and
            // the start failed with "File exists" a minute later (found by the crash matrix).
            try FileManager.default.createDirectory(atPath: (mountPoint as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            if mkdir(mountPoint, 0o755) != 0 && errno != EEXIST {
                throw NodeAgentError("cannot create the mount point \(mountPoint): \(String(cString: strerror(errno)))")
            }
            // Taken over before anything looks at the mounts: a stat of a mount whose connection
            // waits in a holder would wait for this very daemon.
            let fs = NodeFileSystem(mountPoint: mountPoint, logger: logger)
            try fs.mount()
            lock.withLock { filesystems[node.name] = fs }
            if let t = fs.takeover {
                logger.notice("node \(node.name): took over \(mountPoint) from the previous daemon (\(t.volumes) volumes, \(t.handles) open handles, \(t.staleInodes) stale inodes) in \(t.seconds) s")
            }
            logger.info("node \(node.name): volumes served at \(mountPoint), data root \(node.dataRoot), kernel quota: \(kernelQuota(node.name).detail)")
        }
        // Whatever is still dead now (a node mount not taken over, and the pods' bind mounts of it)
        // goes; the node agent mounts pod volumes again before the pods report Ready. Bind mounts
        // into a taken-over node mount are alive and stay.
        let cleaned = MountTable.cleanStaleMounts(under: stateDir)
        for path in cleaned { logger.notice("cleaned stale mount \(path)") }
    }

    /// Whether the kernel enforces volume capacities on a node's data root, and how.
    public func kernelQuota(_ node: String) -> KernelQuotaSupport {
        guard let config = nodes[node] else { return KernelQuotaSupport(mechanism: nil, detail: "unknown node \(node)") }
        return NodeFileSystem.kernelQuotaSupport(path: config.dataRoot)
    }

    public func sweepOrphanDirectories(known: Set<String>) -> (removed: [String], kept: [String]) {
        var removed: [String] = [], kept: [String] = []
        for node in nodes.values.sorted(by: { $0.name < $1.name }) {
            for name in VolumeDirectory.orphans(dataRoot: node.dataRoot, known: known) {
                // rmdir removes only an empty directory and never follows a symlink.
                if rmdir("\(node.dataRoot)/\(name)") == 0 { removed.append("\(node.name):\(name)") }
                else { kept.append("\(node.name):\(name)") }
            }
        }
        return (removed, kept)
    }

    public func servedNodes() -> Set<String> {
        let mounted = lock.withLock { filesystems }
        var served = Set<String>()
        for (node, _) in mounted {
            // statvfs goes through the FUSE session: a dead one answers ENOTCONN.
            var st = statvfs()
            if statvfs(layout.nodeMountPoint(node: node), &st) == 0 { served.insert(node) }
        }
        return served
    }

    public func setCapacity(volume: String, node: String, bytes: Int64) throws {
        guard let fs = lock.withLock({ filesystems[node] }) else { throw NodeAgentError("node \(node) is not served by this daemon") }
        guard fs.volumeIDs.contains(volume) else { return }
        try fs.setCapacity(volumeID: volume, bytes: bytes)
    }

    public func adoptPod(namespace: String, pod: String, mounts: [PodVolumeMount]) -> Bool {
        let mountedVolumes = Set(layout.mountedPodVolumes().filter { $0.namespace == namespace && $0.pod == pod }.map(\.volume))
        for m in mounts {
            guard mountedVolumes.contains(m.volumeName),
                  let fs = lock.withLock({ filesystems[m.node] }), fs.volumeIDs.contains(m.persistentVolume) else { return false }
        }
        lock.withLock { for m in mounts { users[m.persistentVolume, default: []].insert("\(namespace)/\(pod)") } }
        return true
    }

    /// Unmounts every pod volume and every node filesystem; or, with `handOver`, leaves all of them
    /// mounted and hands each node's connection to its descriptor holder, for the next daemon to
    /// take over (a restart or upgrade pods do not notice).
    public func shutdown(handOver: Bool = false) {
        if !handOver { reportVolumesInUse() }
        if !handOver {
            for m in layout.mountedPodVolumes() {
                try? layout.unmountPod(namespace: m.namespace, pod: m.pod)
            }
        }
        let all = lock.withLock { () -> [NodeFileSystem] in
            let f = Array(filesystems.values)
            filesystems = [:]
            users = [:]
            return f
        }
        for fs in all {
            if handOver { fs.handOver() } else { fs.unmount() }
        }
        if !handOver {
            let binds = lock.withLock { () -> [String: String] in defer { inertBinds = [:] }; return inertBinds }
            for (node, dataRoot) in binds.sorted(by: { $0.key < $1.key }) {
                do {
                    try MountTable.unmount(dataRoot, lazy: true)
                    try? FileManager.default.removeItem(atPath: inertMarkers + "/" + node)
                } catch {
                    logger.warning("could not unmount the data root's nodev,nosuid bind mount",
                                   metadata: ["node": "\(node)", "path": "\(dataRoot)", "error": "\(error)"])
                }
            }
        }
    }

    /// Before the node filesystems go: say, calmly, which volumes a process still has files open in
    /// (a `cairn exec` session, or something it started), naming the node and the pods that use them.
    private func reportVolumesInUse() {
        let (all, podsByVolume) = lock.withLock { (filesystems, users) }
        for (node, fs) in all.sorted(by: { $0.key < $1.key }) {
            for volume in fs.volumeIDs.sorted() {
                guard let open = fs.openHandles(volumeID: volume), open > 0 else { continue }
                let pods = (podsByVolume[volume] ?? []).sorted().joined(separator: ", ")
                logger.notice("""
                    a volume is still in use while the daemon stops: its processes will get ENOTCONN once the node's \
                    filesystem is unmounted (stop them first, or send SIGHUP instead of SIGTERM to hand the mounts to the next daemon)
                    """, metadata: ["node": "\(node)", "volume": "\(volume)", "pods": "\(pods.isEmpty ? "none" : pods)",
                                    "open handles": "\(open)"])
            }
        }
    }

    public func createVolumeDirectory(_ spec: VolumeDirectorySpec) throws {
        _ = try VolumeDirectory.create(dataRoot: spec.dataRoot, name: spec.name, mode: spec.mode)
        CrashPoint.reached("provision-directory-made")
    }

    public func removeVolumeDirectory(_ spec: VolumeDirectorySpec) throws {
        try VolumeDirectory.remove(dataRoot: spec.dataRoot, name: spec.name)
    }

    public func startPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws {
        let podKey = "\(namespace)/\(pod)"
        for m in mounts {
            guard let fs = lock.withLock({ filesystems[m.node] }) else {
                throw NodeAgentError("node \(m.node) is not served by this daemon")
            }
            try fs.attach(VolumeSpec(id: m.persistentVolume, backingPath: m.backingPath, capacityBytes: m.capacityBytes,
                                     readOnly: false))
            CrashPoint.reached("pod-start-attached")
            lock.withLock { _ = users[m.persistentVolume, default: []].insert(podKey) }
            let source = "\(layout.nodeMountPoint(node: m.node))/\(m.persistentVolume)"
            try layout.mountPodVolume(source: source, namespace: namespace, pod: pod, volume: m.volumeName, readOnly: m.readOnly)
            CrashPoint.reached("pod-start-bind-mounted")
        }
    }

    public func stopPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws -> [String: VolumeFingerprint] {
        let podKey = "\(namespace)/\(pod)"
        try layout.unmountPod(namespace: namespace, pod: pod)
        CrashPoint.reached("pod-stop-unmounted")
        var prints: [String: VolumeFingerprint] = [:]
        for m in mounts {
            let last = lock.withLock { () -> Bool in
                users[m.persistentVolume]?.remove(podKey)
                return users[m.persistentVolume]?.isEmpty ?? true
            }
            if last, let fs = lock.withLock({ filesystems[m.node] }) {
                try? fs.detach(volumeID: m.persistentVolume)
                CrashPoint.reached("pod-stop-detached")
            }
            if let f = try? fingerprint(path: m.backingPath, deep: true) { prints[m.claimUID] = f }
            CrashPoint.reached("pod-stop-fingerprinted")
        }
        return prints
    }

    public func fingerprint(path: String, deep: Bool) throws -> VolumeFingerprint {
        let shallow = try VolumeDirectory.fingerprint(path: path, deep: false)
        let full = deep ? try VolumeDirectory.fingerprint(path: path, deep: true) : shallow
        return VolumeFingerprint(files: shallow.files, bytes: shallow.bytes, digest: shallow.digest,
                                 deepDigest: deep ? full.digest : "")
    }

    public func usage(volume: String) -> (used: Int64, capacity: Int64)? {
        let all = lock.withLock { Array(filesystems.values) }
        for fs in all {
            if let u = fs.usage(volumeID: volume) { return (u.usedBytes, u.capacityBytes) }
        }
        return nil
    }

    public func hostPath(namespace: String, pod: String, volume: String) -> String {
        layout.volumePath(namespace: namespace, pod: pod, volume: volume)
    }
}

struct NodeAgentError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
