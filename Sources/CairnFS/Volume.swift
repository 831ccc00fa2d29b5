import CFuseKernel
import Glibc
import Synchronization

/// What the node agent asks to serve: a backing directory under `<mountPoint>/<id>`.
public struct VolumeSpec: Sendable, Equatable {
    public var id: String
    public var backingPath: String
    public var capacityBytes: Int64
    public var readOnly: Bool

    public init(id: String, backingPath: String, capacityBytes: Int64, readOnly: Bool) {
        self.id = id
        self.backingPath = backingPath
        self.capacityBytes = capacityBytes
        self.readOnly = readOnly
    }
}

/// Usage as `du` counts it: allocated bytes (st_blocks * 512) of every inode once, and the
/// number of inodes (files, directories, symlinks, ...) including the volume's root directory.
public struct VolumeUsage: Sendable, Equatable {
    public var usedBytes: Int64
    public var capacityBytes: Int64
    public var files: Int64

    public init(usedBytes: Int64, capacityBytes: Int64, files: Int64) {
        self.usedBytes = usedBytes
        self.capacityBytes = capacityBytes
        self.files = files
    }
}

/// Who enforces a volume's capacity.
public enum CapacityEnforcement: Sendable, Equatable, CustomStringConvertible {
    /// The backing filesystem's project quota (its own project id, hard limit = capacity): the
    /// kernel refuses the write itself, so every open can be passthrough.
    case projectQuota(projectID: UInt32)
    /// A btrfs subvolume whose qgroup limits the bytes it references (data and metadata): the
    /// kernel refuses the write too.
    case btrfsQgroup(subvolumeID: UInt64)
    /// Cairn's own accounting on the daemon path (reservations before, fstat after each call).
    case daemon

    public var description: String {
        switch self {
        case .projectQuota(let id): return "project quota \(id)"
        case .btrfsQgroup(let id): return "btrfs qgroup 0/\(id)"
        case .daemon: return "daemon accounting"
        }
    }

    /// The kernel refuses writes past the capacity.
    public var isKernel: Bool {
        if case .daemon = self { return false }
        return true
    }

    /// The kernel also counts the volume's inodes (project quotas do; qgroups count bytes only).
    var countsFiles: Bool {
        if case .projectQuota = self { return true }
        return false
    }
}

/// One attached volume and its space accounting.
///
/// Accounting model (daemon enforcement; lock-free atomics on the session memory record, so a
/// daemon taking over continues from the same figures):
/// - `used` is the sum of the allocated bytes Cairn has observed for the volume's inodes
///   (scan at attach, then every change reconciled from fstat after the call that made it).
/// - `charged` is `used` plus the reservations of calls in flight. A call that may allocate
///   reserves its worst case first (compare-and-swap against `capacity`), so concurrent writers
///   can never together pass the capacity; after the call its real delta is added to both and
///   the reservation is returned.
/// With project quotas the kernel counts and refuses; `used` and `files` come from the quota.
final class Volume: @unchecked Sendable {
    let id: String
    let backingPath: String
    let readOnly: Bool
    /// Unique per attach; part of every inode key so two volumes never share an inode.
    let serial: UInt32
    /// The volume's record in the session memory.
    let slot: Int
    let record: VolumeRecord
    /// O_PATH descriptor of the backing directory; closed when the volume object dies.
    let rootFD: Int32
    /// O_RDONLY descriptor of the backing directory: the mount descriptor for open_by_handle_at,
    /// statfs and quotactl_fd, which do not take O_PATH descriptors.
    let dataFD: Int32
    let enforcement: CapacityEnforcement
    /// The backing directory is on a nodev mount, so a device node made there opens nothing on the
    /// host either: mknod of block and character devices is allowed (the node mount is nodev too).
    let devicesInert: Bool

    /// Open file and directory handles; detach refuses while non-zero.
    let openHandles = Atomic<Int>(0)
    let detached = Atomic<Bool>(false)

    init(id: String, backingPath: String, readOnly: Bool, serial: UInt32, slot: Int, record: VolumeRecord,
         rootFD: Int32, dataFD: Int32, enforcement: CapacityEnforcement) {
        self.id = id
        self.backingPath = backingPath
        self.readOnly = readOnly
        self.serial = serial
        self.slot = slot
        self.record = record
        self.rootFD = rootFD
        self.dataFD = dataFD
        self.enforcement = enforcement
        var vfs = statvfs()
        devicesInert = fstatvfs(dataFD, &vfs) == 0 && vfs.f_flag & UInt(CAIRN_ST_NODEV) != 0
    }

    deinit {
        if rootFD >= 0 { close(rootFD) }
        if dataFD >= 0 { close(dataFD) }
    }

    /// The kernel refuses writes past the capacity: no reservations needed.
    var kernelQuota: Bool { enforcement.isKernel }
    /// The kernel's count is the usage (project quotas: exactly du's). btrfs qgroups count
    /// metadata too and only at transaction commit, so there Cairn keeps du's figure itself:
    /// reconciled after daemon calls, and after fsync and close of passthrough writers.
    var kernelCounts: Bool {
        if case .projectQuota = enforcement { return true }
        return false
    }

    var capacity: Int64 { cairn_atomic_load64(record.capacity) }

    func setCapacity(_ bytes: Int64) { cairn_atomic_store64(record.capacity, bytes) }

    var spec: VolumeSpec {
        VolumeSpec(id: id, backingPath: backingPath, capacityBytes: capacity, readOnly: readOnly)
    }

    /// (allocated bytes, inodes) now.
    var usedAndFiles: (Int64, Int64) {
        let files = max(0, cairn_atomic_load64(record.files))
        switch enforcement {
        case .projectQuota(let project):
            var q = cairn_dqblk()
            if cairn_project_quota_get(dataFD, project, &q) == 0 {
                return (Int64(q.dqb_curspace), Int64(q.dqb_curinodes))
            }
        case .btrfsQgroup, .daemon:
            break
        }
        return (max(0, cairn_atomic_load64(record.used)), files)
    }

    var usage: VolumeUsage {
        let (used, files) = usedAndFiles
        return VolumeUsage(usedBytes: used, capacityBytes: capacity, files: files)
    }

    /// Reserves `bytes` against the capacity; false if that would pass it. Always true where the
    /// kernel enforces the capacity.
    func reserve(_ bytes: Int64) -> Bool {
        if bytes <= 0 || kernelQuota { return true }
        let cap = capacity
        var current = cairn_atomic_load64(record.charged)
        while true {
            if current + bytes > cap { return false }
            if cairn_atomic_cas64(record.charged, &current, current + bytes) != 0 { return true }
        }
    }

    func unreserve(_ bytes: Int64) {
        if bytes > 0 && !kernelQuota { _ = cairn_atomic_add64(record.charged, -bytes) }
    }

    /// Adds an observed change of allocated bytes.
    func account(_ delta: Int64) {
        guard delta != 0, !kernelCounts else { return }
        _ = cairn_atomic_add64(record.used, delta)
        _ = cairn_atomic_add64(record.charged, delta)
    }

    func addFiles(_ n: Int64) {
        if !enforcement.countsFiles { _ = cairn_atomic_add64(record.files, n) }
    }

    /// Bytes still free for new allocations (capacity minus used and reserved).
    var available: Int64 {
        if kernelCounts { return max(0, capacity - usedAndFiles.0) }
        return max(0, capacity - cairn_atomic_load64(record.charged))
    }

    /// After a takeover no call is in flight: reservations of the dead daemon's calls are void.
    func dropReservations() {
        cairn_atomic_store64(record.charged, cairn_atomic_load64(record.used))
    }
}

/// Walks a backing directory like `du -s --apparent-size=no`: every inode once (hard links are
/// counted once), allocated bytes from st_blocks, never following symlinks, never leaving the
/// directory through `..`. Uses only *at() calls relative to descriptors it holds. `visit` sees
/// every directory descriptor and every non-directory (parent descriptor, name) on the way, so
/// the project-quota attach can give each inode the volume's project id in the same pass.
enum UsageScanner {
    struct Totals { var bytes: Int64 = 0; var files: Int64 = 0 }
    struct Key: Hashable { let dev: UInt64; let ino: UInt64 }

    static func scan(rootFD: Int32, visit: ((_ parentFD: Int32, _ name: String?, _ st: stat) -> Void)? = nil) throws(Errno) -> Totals {
        var totals = Totals()
        var seen = Set<Key>()
        var st = stat()
        _ = try sys { fstatat(rootFD, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) }
        count(st, &totals, &seen)
        let dirFD = try sys { openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        visit?(dirFD, nil, st)
        try walk(dirFD: dirFD, totals: &totals, seen: &seen, visit: visit)
        return totals
    }

    private static func count(_ st: stat, _ totals: inout Totals, _ seen: inout Set<Key>) {
        if st.st_nlink > 1 && (st.st_mode & S_IFMT) != S_IFDIR {
            guard seen.insert(Key(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))).inserted else { return }
        }
        totals.bytes += Int64(st.st_blocks) * 512
        totals.files += 1
    }

    /// Takes ownership of dirFD.
    private static func walk(dirFD: Int32, totals: inout Totals, seen: inout Set<Key>,
                             visit: ((Int32, String?, stat) -> Void)?) throws(Errno) {
        guard let dir = fdopendir(dirFD) else {
            let e = Errno.current
            close(dirFD)
            throw e
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var subdirs: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var st = stat()
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                if cairn_errno() == ENOENT { continue }  // removed while scanning
                throw Errno.current
            }
            count(st, &totals, &seen)
            if (st.st_mode & S_IFMT) == S_IFDIR { subdirs.append(name) } else { visit?(fd, name, st) }
        }
        for name in subdirs {
            let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub < 0 {
                if cairn_errno() == ENOENT { continue }
                throw Errno.current
            }
            if let visit {
                var st = stat()
                if fstat(sub, &st) == 0 { visit(sub, nil, st) }
            }
            try walk(dirFD: sub, totals: &totals, seen: &seen, visit: visit)
        }
    }
}
