#if canImport(Glibc)
import Glibc
#endif
import CFuseKernel
import Logging

/// A pthread mutex (CairnNode does not import Foundation).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}

/// One line of /proc/self/mountinfo.
public struct MountEntry: Sendable, Hashable, Codable {
    public var mountID: Int
    public var parentID: Int
    /// Device of the filesystem ("major:minor" in mountinfo); for FUSE the minor names the connection.
    public var major: UInt32
    public var minor: UInt32
    /// The directory of the filesystem that is mounted here ("/" unless a bind of a subdirectory).
    public var root: String
    public var mountPoint: String
    /// Per-mount options ("rw,nosuid,relatime").
    public var options: String
    /// Propagation and other optional fields ("shared:1", "master:2").
    public var optionalFields: [String]
    public var fsType: String
    public var source: String
    /// Per-superblock options.
    public var superOptions: String

    public init(mountID: Int, parentID: Int, major: UInt32, minor: UInt32, root: String,
                mountPoint: String, options: String, optionalFields: [String] = [], fsType: String,
                source: String, superOptions: String) {
        self.mountID = mountID
        self.parentID = parentID
        self.major = major
        self.minor = minor
        self.root = root
        self.mountPoint = mountPoint
        self.options = options
        self.optionalFields = optionalFields
        self.fsType = fsType
        self.source = source
        self.superOptions = superOptions
    }

    public var isReadOnly: Bool { options.split(separator: ",").contains("ro") }
    public var isFuse: Bool { fsType == "fuse" || fsType == "fuseblk" || fsType.hasPrefix("fuse.") }
}

public enum MountTable {
    /// The mounts this process sees, in mount order (a later entry at the same path is on top).
    public static func mounts() -> [MountEntry] {
        parse(mountInfo: Sys.readSmallFile("/proc/self/mountinfo") ?? "")
    }

    /// Parses mountinfo text (proc(5)); malformed lines are skipped.
    public static func parse(mountInfo text: String) -> [MountEntry] {
        text.split(separator: "\n").compactMap(parseLine)
    }

    private static func parseLine(_ line: Substring) -> MountEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 10, let separator = fields[6...].firstIndex(of: "-"),
              fields.count >= separator + 3,
              let id = Int(fields[0]), let parent = Int(fields[1]) else { return nil }
        let device = fields[2].split(separator: ":")
        guard device.count == 2, let major = UInt32(device[0]), let minor = UInt32(device[1]) else {
            return nil
        }
        return MountEntry(
            mountID: id, parentID: parent, major: major, minor: minor,
            root: unescape(fields[3]), mountPoint: unescape(fields[4]), options: String(fields[5]),
            optionalFields: fields[6..<separator].map(String.init),
            fsType: unescape(fields[separator + 1]), source: unescape(fields[separator + 2]),
            superOptions: fields.count > separator + 3 ? String(fields[separator + 3]) : "")
    }

    /// Undoes the kernel's octal escapes: "\040" is a space, "\011" a tab, "\012" a newline,
    /// "\134" a backslash.
    static func unescape(_ field: Substring) -> String {
        let bytes = Array(field.utf8)
        guard bytes.contains(92) else { return String(field) }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 92, i + 3 < bytes.count, let value = octal(bytes[(i + 1)...(i + 3)]) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        guard digits.count == 3 else { return nil }
        var value = 0
        for d in digits {
            guard d >= 48, d <= 55 else { return nil }
            value = value * 8 + Int(d - 48)
        }
        return value <= 255 ? UInt8(value) : nil
    }

    /// Whether `path` is a mount point: by device numbers when they decide it, else by mountinfo (so a
    /// bind mount of the same filesystem and a dead FUSE mount, whose stat fails, are both seen).
    public static func isMountPoint(_ path: String) -> Bool {
        // Cheap answers first, since mountinfo grows with every pod volume and reading it for each
        // mount would make starting N pods cost N squared: a path that does not exist is not a mount
        // point, and one on another device than its parent is one. Only the undecided cases (a bind
        // mount within one filesystem, a dead FUSE mount) read mountinfo.
        var st = Glibc.stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return false }
        } else if let parent = Sys.lstatPath(Sys.parentPath(Sys.lexicallyNormalized(path))), parent.st_dev != st.st_dev {
            return true
        }
        let canonical = Sys.canonical(path)
        return mounts().contains { $0.mountPoint == canonical }
    }

    /// Bind-mounts `source` on `target`, creating `target` if missing; read-only through a second
    /// remount, which repeats nosuid/nodev/noexec so it does not clear them. If that remount fails,
    /// the bind is undone: a writable mount is never left where a read-only one was asked for.
    public static func bindMount(source: String, target: String, readOnly: Bool) throws {
        guard let sourceInfo = Sys.statPath(source) else { throw Sys.error("stat", source) }
        if Sys.statPath(target) == nil {
            if Sys.isDirectory(sourceInfo) {
                try Sys.makeDirectories(target, mode: 0o750)
            } else {
                try Sys.makeDirectories(Sys.parentPath(Sys.lexicallyNormalized(target)), mode: 0o750)
                let fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw Sys.error("create", target) }
                close(fd)
            }
        }
        guard mount(source, target, nil, UInt(MS_BIND), nil) == 0 else {
            throw Sys.error("mount --bind \(source)", target)
        }
        if readOnly {
            do {
                try remountBind(target, readOnly: true)
            } catch {
                umount2(target, Sys.MNT_DETACH)
                throw error
            }
        }
    }

    /// Makes device nodes and set-user-ID files under `path` inert on the host: unless it is on a
    /// nodev,nosuid mount already, `path` is bind-mounted onto itself and remounted nodev,nosuid
    /// (its other flags kept). The node filesystem then creates device nodes pods ask for instead of
    /// refusing them: the copy in the pod's mount (nodev) and the backing one both open nothing.
    /// Returns whether it mounted (false: already inert).
    @discardableResult
    public static func makeInert(_ path: String) throws -> Bool {
        var sv = statvfs()
        guard statvfs(path, &sv) == 0 else { throw Sys.error("statvfs", path) }
        if sv.f_flag & UInt(CAIRN_ST_NODEV) != 0 && sv.f_flag & UInt(CAIRN_ST_NOSUID) != 0 { return false }
        guard mount(path, path, nil, UInt(MS_BIND), nil) == 0 else { throw Sys.error("mount --bind", path) }
        let flags = UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_NODEV) | UInt(MS_NOSUID) | Sys.preservedMountFlags(path)
        guard mount(nil, path, nil, flags, nil) == 0 else {
            let e = Sys.error("mount -o remount,bind,nodev,nosuid", path)
            umount2(path, Sys.MNT_DETACH)
            throw e
        }
        return true
    }

    static func remountBind(_ target: String, readOnly: Bool) throws(NodeError) {
        let flags = UInt(MS_REMOUNT) | UInt(MS_BIND) | (readOnly ? UInt(MS_RDONLY) : 0)
            | Sys.preservedMountFlags(target)
        guard mount(nil, target, nil, flags, nil) == 0 else {
            throw Sys.error("mount -o remount,bind,\(readOnly ? "ro" : "rw")", target)
        }
    }

    /// umount2, lazily (MNT_DETACH) if asked. A path that is not mounted, or gone, is success.
    /// The last component is never followed if it is a symlink.
    public static func unmount(_ path: String, lazy: Bool) throws {
        let umountNoFollow: Int32 = 8
        if umount2(path, (lazy ? Sys.MNT_DETACH : 0) | umountNoFollow) == 0 { return }
        if errno == EINVAL || errno == ENOENT { return }
        throw Sys.error(lazy ? "umount --lazy" : "umount", path)
    }

    /// Lazily unmounts every mount at or below `prefix` whose FUSE daemon is gone (statfs or stat
    /// fails with ENOTCONN or ECONNABORTED), deepest first, bind mounts of such a mount included. Returns the
    /// mount points that are no longer mounted afterwards (a bind of one that sat below another
    /// goes with it). Note: statfs on a FUSE mount whose daemon is alive but hung blocks; abort that
    /// connection first.
    @discardableResult
    public static func cleanStaleMounts(under prefix: String, logger: Logger? = nil) -> [String] {
        let canonicalPrefix = Sys.canonical(prefix)
        let all = mounts()
        let stale = all.enumerated().filter { _, entry in
            Sys.isAtOrBelow(entry.mountPoint, canonicalPrefix) && isStale(entry.mountPoint)
        }
        let ordered = stale.sorted { a, b in
            let depthA = a.element.mountPoint.split(separator: "/").count
            let depthB = b.element.mountPoint.split(separator: "/").count
            return depthA != depthB ? depthA > depthB : a.offset > b.offset
        }
        for (_, entry) in ordered {
            do {
                try unmount(entry.mountPoint, lazy: true)
                logger?.info("unmounted stale mount", metadata: ["path": "\(entry.mountPoint)"])
            } catch {
                // Below another dead mount the path itself may not resolve; detaching the
                // parent takes it along.
                logger?.debug("stale mount not unmounted yet",
                              metadata: ["path": "\(entry.mountPoint)", "error": "\(error)"])
            }
        }
        let remaining = Set(mounts().map(\.mountID))
        return ordered.map(\.element).filter { !remaining.contains($0.mountID) }.map(\.mountPoint)
    }

    /// statfs, not only stat: FUSE answers stat from its attribute cache for a while after the
    /// daemon died, but always sends statfs to the daemon.
    static func isStale(_ mountPoint: String) -> Bool {
        // glibc's statvfs is the statfs system call.
        var fs = statvfs()
        let dead: (Int32) -> Bool = { $0 == ENOTCONN || $0 == ECONNABORTED }
        if statvfs(mountPoint, &fs) != 0, dead(errno) { return true }
        return Sys.statPath(mountPoint) == nil && dead(errno)
    }

    /// Aborts the FUSE connection behind `mountPoint` through /sys/fs/fuse/connections/<id>/abort
    /// (id = the kernel's device number of the mount: its minor for FUSE's anonymous devices).
    /// fusectl is mounted for the call if it is not, and unmounted again. Afterwards every access
    /// fails with ENOTCONN and `cleanStaleMounts` will unmount it. False if there is no such FUSE
    /// mount or the write failed.
    /// Serialises the mount and unmount of fusectl between threads (two aborts at once would both
    /// mount it and leave one mounted).
    private static let fusectlLock = NSLockLike()

    @discardableResult
    public static func abortFuseConnection(mountPoint: String) -> Bool {
        fusectlLock.lock()
        defer { fusectlLock.unlock() }
        let canonical = Sys.canonical(mountPoint)
        guard let entry = mounts().last(where: { $0.mountPoint == canonical }), entry.isFuse else {
            return false
        }
        // The kernel's internal dev_t: MKDEV(major, minor) = major << 20 | minor.
        let id = UInt64(entry.major) << 20 | UInt64(entry.minor)
        let connections = "/sys/fs/fuse/connections"
        var mountedHere = false
        if Sys.statPath("\(connections)/\(id)") == nil, !isMountPoint(connections) {
            mountedHere = mount("fusectl", connections, "fusectl", 0, nil) == 0
        }
        defer { if mountedHere { umount2(connections, 0) } }
        return Sys.writeFile("\(connections)/\(id)/abort", "1")
    }
}
