#if canImport(Glibc)
import Glibc
#endif

/// Kubelet-style layout under the node's state directory:
///
///     <stateDir>/pods/<namespace>/<pod>/volumes/<volume>   bind mount of the volume, per pod
///     <stateDir>/mnt/<node>                               the node's CairnFS mount
public struct PodVolumeLayout: Sendable, Hashable {
    public let stateDir: String

    public init(stateDir: String) {
        self.stateDir = stateDir
    }

    public func podDirectory(namespace: String, pod: String) -> String {
        base + "/pods/\(namespace)/\(pod)"
    }

    public func volumePath(namespace: String, pod: String, volume: String) -> String {
        podDirectory(namespace: namespace, pod: pod) + "/volumes/\(volume)"
    }

    public func nodeMountPoint(node: String) -> String {
        base + "/mnt/\(node)"
    }

    /// Bind-mounts `source` at the pod's volume path. Already mounted from the same source is a
    /// no-op (with the read-only flag brought in line if it differs); a dead mount there is
    /// detached first; mounted from another source is a conflict.
    public func mountPodVolume(source: String, namespace: String, pod: String, volume: String,
                               readOnly: Bool) throws {
        try Self.checkComponents(namespace: namespace, pod: pod, volume: volume)
        let target = volumePath(namespace: namespace, pod: pod, volume: volume)
        if MountTable.isMountPoint(target) {
            if MountTable.isStale(target) {
                try MountTable.unmount(target, lazy: true)
            } else {
                guard let sourceInfo = Sys.statPath(source) else { throw Sys.error("stat", source) }
                guard let targetInfo = Sys.statPath(target) else { throw Sys.error("stat", target) }
                guard sourceInfo.st_dev == targetInfo.st_dev, sourceInfo.st_ino == targetInfo.st_ino else {
                    throw NodeError.mountConflict(path: target, requestedSource: source)
                }
                if Sys.isReadOnlyMount(target) != readOnly {
                    try MountTable.remountBind(target, readOnly: readOnly)
                }
                return
            }
        }
        try MountTable.bindMount(source: source, target: target, readOnly: readOnly)
    }

    /// Unmounts every mount of the pod (deepest first; a busy one lazily, since the data lives in
    /// the data root and a detached bind loses nothing), then removes the pod's directories with
    /// rmdir only: a directory that is still a mount point or not empty is kept and reported.
    /// A pod with no directory is success.
    public func unmountPod(namespace: String, pod: String) throws {
        try Self.checkComponent(namespace, kind: "namespace")
        try Self.checkComponent(pod, kind: "pod")
        let podDir = podDirectory(namespace: namespace, pod: pod)
        let canonicalPodDir = Sys.canonical(podDir)
        let podMounts = MountTable.mounts().enumerated()
            .filter { Sys.isAtOrBelow($0.element.mountPoint, canonicalPodDir) }
            .sorted { a, b in
                let depthA = a.element.mountPoint.split(separator: "/").count
                let depthB = b.element.mountPoint.split(separator: "/").count
                return depthA != depthB ? depthA > depthB : a.offset > b.offset
            }
        for (_, entry) in podMounts {
            do {
                try MountTable.unmount(entry.mountPoint, lazy: false)
            } catch let error as NodeError where error.errno == EBUSY || error.errno == ENOTCONN {
                try MountTable.unmount(entry.mountPoint, lazy: true)
            }
        }

        var kept: [String] = []
        let volumesDir = podDir + "/volumes"
        if let names = Self.listDirectory(volumesDir) {
            for name in names {
                let path = volumesDir + "/" + name
                if rmdir(path) != 0, errno != ENOENT { kept.append(path) }
            }
        }
        for dir in [volumesDir, podDir] {
            if rmdir(dir) == 0 || errno == ENOENT { continue }
            guard errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY else { throw Sys.error("rmdir", dir) }
            if !kept.contains(where: { Sys.isAtOrBelow($0, dir) }) { kept.append(dir) }
        }
        // The namespace directory goes too once its last pod has.
        _ = rmdir(base + "/pods/\(namespace)")
        if !kept.isEmpty { throw NodeError.notRemoved(paths: kept) }
    }

    /// The pod volumes mounted now, from mountinfo, sorted, each once.
    public func mountedPodVolumes() -> [(namespace: String, pod: String, volume: String)] {
        let prefix = Sys.canonical(base + "/pods") + "/"
        var seen = Set<[String]>()
        var result: [(namespace: String, pod: String, volume: String)] = []
        for entry in MountTable.mounts() where entry.mountPoint.hasPrefix(prefix) {
            let parts = entry.mountPoint.dropFirst(prefix.count).split(separator: "/").map(String.init)
            guard parts.count == 4, parts[2] == "volumes", seen.insert(parts).inserted else { continue }
            result.append((parts[0], parts[1], parts[3]))
        }
        return result.sorted { ($0.namespace, $0.pod, $0.volume) < ($1.namespace, $1.pod, $1.volume) }
    }

    // MARK: helpers

    private var base: String {
        stateDir.count > 1 && stateDir.hasSuffix("/") ? String(stateDir.dropLast()) : stateDir
    }

    static func checkComponents(namespace: String, pod: String, volume: String) throws(NodeError) {
        try checkComponent(namespace, kind: "namespace")
        try checkComponent(pod, kind: "pod")
        try checkComponent(volume, kind: "volume")
    }

    static func checkComponent(_ name: String, kind: String) throws(NodeError) {
        if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.utf8.contains(0) {
            throw NodeError.invalidName(kind: kind, name: name)
        }
    }

    private static func listDirectory(_ path: String) -> [String]? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return (try? Sys.entries(of: fd, path: path))?.map(Sys.display)
    }
}
