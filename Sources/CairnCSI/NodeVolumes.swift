import CairnFS
import CairnNode
import CairnStore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The node's data path in CSI mode (the adapter that acts; NodeRules decides). One CairnFS session is
/// mounted at `<state-dir>/mnt/<node>`; a staged volume is attached to it (appearing at
/// `<mount>/<volume id>`, its capacity enforced) and that directory is bind-mounted at the staging
/// path; a publication is a bind mount of the staging path at the target path. Every step is
/// idempotent, so a retried call, and the restore after a restart, simply make the mounts match what
/// SQLite says.
final class NodeVolumes: Sendable {
    let mountPoint: String
    let fs: NodeFileSystem
    let logger: Logger

    init(stateDir: String, node: String, logger: Logger) {
        mountPoint = PodVolumeLayout(stateDir: stateDir).nodeMountPoint(node: node)
        fs = NodeFileSystem(mountPoint: mountPoint, logger: logger)
        self.logger = logger
    }

    /// Mounts the node's FUSE session, first detaching the dead one a killed driver left there.
    func start() throws {
        if MountTable.isMountPoint(mountPoint) {
            logger.notice("detaching the FUSE mount a previous driver left at \(mountPoint)")
            try MountTable.unmount(mountPoint, lazy: true)
        }
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try fs.mount()
    }

    /// Ends the session. Staging and target paths are bind mounts of it that keep the connection
    /// alive after the session's own mount is gone, so when there are any the connection is aborted
    /// first: they go dead (ENOTCONN) as after a crash, and the next start remounts them.
    func shutdown() {
        let all = MountTable.mounts()
        if let session = all.last(where: { $0.mountPoint == mountPoint && $0.isFuse }),
           all.contains(where: { $0.mountPoint != mountPoint && $0.major == session.major && $0.minor == session.minor }) {
            logger.notice("aborting the FUSE connection: staged volumes are remounted at the next start")
            if !Self.abort(session) {
                logger.error("could not abort the FUSE connection \(session.major):\(session.minor); the unmount may wait for it")
            }
        }
        fs.unmount()
    }

    /// Writes the connection's `abort` file. fusectl is mounted for it if needed and left mounted
    /// (systemd mounts it at boot anyway): unmounting it again could cut short another process's abort
    /// in between (MountTable.abortFuseConnection mounts and unmounts it per call).
    static func abort(_ session: MountEntry) -> Bool {
        let connections = "/sys/fs/fuse/connections"
        let file = "\(connections)/\(UInt64(session.major) << 20 | UInt64(session.minor))/abort"
        for _ in 0..<3 {
            if access(file, W_OK) != 0 { _ = mount("fusectl", connections, "fusectl", 0, nil) }
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                let written = write(fd, "1", 1)
                close(fd)
                if written == 1 { return true }
            }
            usleep(50_000)
        }
        return false
    }

    /// `<mount>/<volume id>`: the volume as the FUSE session serves it.
    func source(of volumeID: String) -> String { "\(mountPoint)/\(volumeID)" }

    /// Attaches the volume's directory to the session (its usage is scanned first). Attached already
    /// is success: the session then holds the newest capacity, which an expansion may have raised.
    func attach(_ volume: CSIVolumeRecord) throws {
        if fs.usage(volumeID: volume.volumeID) != nil { return }
        try fs.attach(VolumeSpec(id: volume.volumeID, backingPath: volume.path, capacityBytes: volume.capacityBytes,
                                 readOnly: false))
    }

    /// Detaches the volume from the session; refused while files of it are open.
    func detach(_ volumeID: String) throws { try fs.detach(volumeID: volumeID) }

    func usage(_ volumeID: String) -> VolumeUsage? { fs.usage(volumeID: volumeID) }

    func setCapacity(_ volumeID: String, bytes: Int64) throws {
        guard fs.usage(volumeID: volumeID) != nil else { return }
        try fs.setCapacity(volumeID: volumeID, bytes: bytes)
    }

    /// Whether the session still answers (statfs of its root reaches the daemon's own threads).
    var sessionAlive: Bool { Self.deadMountErrno(mountPoint) == nil && MountTable.isMountPoint(mountPoint) }

    // MARK: - Bind mounts

    /// Makes `target` a bind mount of `source`. The same source there already is success (its
    /// read-only flag brought in line); a dead mount there (the FUSE session of a killed driver) is
    /// detached first; another source is refused. The parent of `target` must exist: the driver
    /// creates the last component only, never a path the CO did not prepare.
    func bind(source: String, target: String, readOnly: Bool) throws {
        var layers = 0
        while MountTable.isMountPoint(target), layers < 8 {
            layers += 1
            if Self.deadMountErrno(target) != nil {
                logger.notice("detaching the dead mount at \(target) (its FUSE session ended)")
                try MountTable.unmount(target, lazy: true)
                continue
            }
            guard Self.sameInode(source, target) else {
                throw CSIFailure(.failedPrecondition,
                    "\(target) is already a mount point of something other than \(source); unmount it first")
            }
            if Self.isReadOnlyMount(target) == readOnly { return }
            try MountTable.unmount(target, lazy: false)
        }
        let parent = (target as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: parent) else {
            throw CSIFailure(.failedPrecondition,
                "the parent directory \(parent) of \(target) does not exist; the CO creates it before this call")
        }
        try MountTable.bindMount(source: source, target: target, readOnly: readOnly)
    }

    /// Unmounts every mount at `path` (a busy or dead one lazily: the data lives in the data root, a
    /// detached bind loses nothing). Nothing mounted is success.
    func unmountAll(_ path: String) throws {
        var layers = 0
        while MountTable.isMountPoint(path), layers < 8 {
            layers += 1
            do {
                try MountTable.unmount(path, lazy: Self.deadMountErrno(path) != nil)
            } catch let e as NodeError where e.errno == EBUSY {
                try MountTable.unmount(path, lazy: true)
            }
        }
    }

    /// Removes the directory NodePublishVolume created at `path` (rmdir only: never anything in it).
    func removeTarget(_ path: String) throws {
        if rmdir(path) == 0 || errno == ENOENT { return }
        let code = errno
        throw CSIFailure(.internal,
            "cannot remove the target path \(path) after unmounting it: \(String(cString: strerror(code))); "
            + "something was written there while it was not mounted, inspect and remove it by hand")
    }

    // MARK: - Health

    struct Condition: Equatable {
        var abnormal: Bool
        var message: String
    }

    /// The condition of the volume mounted at `path`: abnormal when the FUSE session behind it is
    /// gone, when nothing is mounted there, or when it is mounted from elsewhere.
    func condition(volumeID: String, path: String) -> Condition {
        if let code = Self.deadMountErrno(path) {
            return Condition(abnormal: true, message:
                "the FUSE session serving \(path) is gone (\(String(cString: strerror(code)))); the driver remounts "
                + "every staged volume when it restarts, and its Probe fails until then")
        }
        guard MountTable.isMountPoint(path) else {
            return Condition(abnormal: true, message: "\(path) is not mounted; stage and publish the volume again")
        }
        guard Self.sameInode(source(of: volumeID), path) else {
            return Condition(abnormal: true, message:
                "\(path) is mounted from something other than Cairn's FUSE filesystem (\(source(of: volumeID)))")
        }
        guard let usage = fs.usage(volumeID: volumeID) else {
            return Condition(abnormal: true, message: "the volume is not attached to the node's FUSE session")
        }
        if usage.usedBytes >= usage.capacityBytes {
            return Condition(abnormal: false, message:
                "mounted and served by Cairn's FUSE filesystem; full: \(usage.usedBytes) of \(usage.capacityBytes) bytes used, writes fail with ENOSPC")
        }
        return Condition(abnormal: false, message: "mounted and served by Cairn's FUSE filesystem, capacity enforced")
    }

    /// Inode figures of the mount at `path`, from the filesystem's own statfs (per volume).
    static func inodes(_ path: String) -> (total: Int64, free: Int64)? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return (Int64(st.f_files), Int64(st.f_ffree))
    }

    /// The errno of a mount whose FUSE daemon is gone (statfs always reaches the daemon; stat may be
    /// answered from cached attributes), else nil.
    static func deadMountErrno(_ path: String) -> Int32? {
        var st = statvfs()
        if statvfs(path, &st) != 0, errno == ENOTCONN || errno == ECONNABORTED { return errno }
        return nil
    }

    static func sameInode(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    static func isReadOnlyMount(_ path: String) -> Bool {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return false }
        return st.f_flag & UInt(ST_RDONLY) != 0
    }
}
