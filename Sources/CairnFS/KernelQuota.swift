import CFuseKernel
import Glibc

/// Whether a data root's filesystem can enforce each volume's capacity in the kernel, how, and
/// if not, why not.
public struct KernelQuotaSupport: Sendable, Equatable, CustomStringConvertible {
    public enum Mechanism: String, Sendable, Equatable {
        /// ext4 made with `-O project,quota` and mounted `prjquota`, or XFS mounted `prjquota`:
        /// each volume directory its own project id with a hard block limit.
        case projectQuota = "project-quota"
        /// btrfs with qgroups on: each volume a subvolume with a limit on the bytes it references.
        case btrfsQgroup = "btrfs-qgroup"
    }

    public var mechanism: Mechanism?
    /// What was found ("ext4 project quotas enforced"), or why there is nothing the kernel enforces.
    public var detail: String

    public var available: Bool { mechanism != nil }

    public init(mechanism: Mechanism?, detail: String) {
        self.mechanism = mechanism
        self.detail = detail
    }

    public var description: String { detail }
}

/// Kernel-enforced capacity on the backing filesystem. With project quotas each volume
/// directory gets its own project id (inherited by everything created in it,
/// FS_XFLAG_PROJINHERIT) and a hard block limit equal to its capacity; with btrfs qgroups the
/// volume is a subvolume whose qgroup limits the bytes it references. Either way the kernel
/// refuses a write that would pass the capacity (EDQUOT) whoever makes it, so every open of such
/// a volume can be passthrough, and usage comes from the kernel's count.
enum KernelQuota {
    /// Looks at the filesystem of the open directory `fd` (not O_PATH).
    static func support(fd: Int32) -> KernelQuotaSupport {
        let magic = cairn_fs_type(fd)
        if magic == CAIRN_BTRFS_SUPER_MAGIC {
            let on = cairn_btrfs_quota_enabled(fd)
            if on == 1 { return KernelQuotaSupport(mechanism: .btrfsQgroup, detail: "btrfs qgroups enabled") }
            return KernelQuotaSupport(mechanism: nil, detail: on < 0
                ? "btrfs qgroups cannot be read (\(errnoText(-on)))"
                : "btrfs without qgroups; run `btrfs quota enable` on the data root's filesystem")
        }
        var attr = cairn_fsxattr()
        let got = cairn_get_fsxattr(fd, &attr)
        if got != 0 {
            return KernelQuotaSupport(mechanism: nil, detail: "the filesystem has no project ids (FS_IOC_FSGETXATTR: \(errnoText(-got)))")
        }
        let state = cairn_project_quota_state(fd)
        let type = magic >= 0 ? fsName(Int(magic)) : "filesystem"
        if state < 0 {
            return KernelQuotaSupport(mechanism: nil, detail: "\(type) without project quotas (\(errnoText(-state))); ext4 needs mkfs/tune2fs -O project,quota, the prjquota mount option and a kernel with CONFIG_QFMT_V2, XFS the prjquota mount option and CONFIG_XFS_QUOTA")
        }
        if state & Int32(CAIRN_FS_QUOTA_PDQ_ACCT) == 0 || state & Int32(CAIRN_FS_QUOTA_PDQ_ENFD) == 0 {
            return KernelQuotaSupport(mechanism: nil, detail: "\(type) project quotas are accounted but not enforced; mount with prjquota")
        }
        return KernelQuotaSupport(mechanism: .projectQuota, detail: "\(type) project quotas enforced")
    }

    /// The btrfs subvolume id of the directory `fd` if it is a subvolume's root (inode 256).
    static func btrfsSubvolume(fd: Int32) -> UInt64? {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_ino == ino_t(CAIRN_BTRFS_FIRST_FREE_OBJECTID) else { return nil }
        var id: UInt64 = 0
        return cairn_btrfs_subvolume_id(fd, &id) == 0 ? id : nil
    }

    static func setBtrfsLimit(fd: Int32, bytes: Int64) throws(Errno) {
        let r = cairn_btrfs_qgroup_limit(fd, UInt64(max(1, bytes)))
        if r != 0 { throw Errno(-r) }
    }

    static func fsName(_ magic: Int) -> String {
        switch UInt32(truncatingIfNeeded: magic) {
        case 0xEF53: return "ext4"
        case 0x5846_5342: return "xfs"
        case 0x9123_683E: return "btrfs"
        default: return "filesystem 0x\(String(magic, radix: 16))"
        }
    }

    /// The project id a volume asks for first: a hash of its id (never 0, the default project).
    static func preferredID(for volumeID: String) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for b in volumeID.utf8 {
            hash ^= UInt32(b)
            hash = hash &* 0x0100_0193
        }
        // Stay clear of 0 and of the small ids administrators hand out by hand (/etc/projid).
        return (hash % 0x7fff_0000) + 0x1_0000
    }

    /// Whether `id` is unused on the filesystem of `fd`: no inode and no block charged to it.
    static func isUnused(fd: Int32, id: UInt32) -> Bool {
        var q = cairn_dqblk()
        guard cairn_project_quota_get(fd, id, &q) == 0 else { return true }  // ESRCH: no such dquot
        return q.dqb_curinodes == 0 && q.dqb_curspace == 0
    }

    /// Gives the volume directory `dirFD` (open, not O_PATH) its project id: the one it has if it
    /// has one (`taken` lists ids other attached volumes use), else the first free id from the
    /// volume's preferred one; new ids are set on everything already inside (one walk, at the
    /// first attach). Returns the id.
    static func assign(dirFD: Int32, volumeID: String, taken: Set<UInt32>) throws(Errno) -> UInt32 {
        var attr = cairn_fsxattr()
        let got = cairn_get_fsxattr(dirFD, &attr)
        if got != 0 { throw Errno(-got) }
        if attr.fsx_projid != 0 && attr.fsx_xflags & UInt32(CAIRN_FS_XFLAG_PROJINHERIT) != 0 {
            if taken.contains(attr.fsx_projid) { throw Errno(EEXIST) }
            return attr.fsx_projid
        }
        var id = preferredID(for: volumeID)
        var tries = 0
        while taken.contains(id) || !isUnused(fd: dirFD, id: id) {
            id = id == 0x7fff_ffff ? 0x1_0000 : id + 1
            tries += 1
            if tries > 4096 { throw Errno(ENOSPC) }
        }
        // Everything already inside first, the directory (whose flag marks the volume as done)
        // last: a crash in between repeats the walk at the next attach.
        var root = stat()
        if fstat(dirFD, &root) != 0 { throw Errno.current }
        _ = try UsageScanner.scan(rootFD: dirFD) { parent, name, st in
            guard let name else {
                if st.st_ino != root.st_ino || st.st_dev != root.st_dev { setID(fd: parent, id: id, inherit: true) }
                return
            }
            let type = st.st_mode & S_IFMT
            // Only regular files can be opened for the ioctl without side effects (a FIFO would
            // block, a device would open the device); the others hold no blocks.
            guard type == S_IFREG else { return }
            let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | Int32(CAIRN_O_NOATIME))
            guard fd >= 0 else { return }
            setID(fd: fd, id: id, inherit: false)
            close(fd)
        }
        attr.fsx_projid = id
        attr.fsx_xflags |= UInt32(CAIRN_FS_XFLAG_PROJINHERIT)
        let set = cairn_set_fsxattr(dirFD, &attr)
        if set != 0 { throw Errno(-set) }
        return id
    }

    private static func setID(fd: Int32, id: UInt32, inherit: Bool) {
        var attr = cairn_fsxattr()
        guard cairn_get_fsxattr(fd, &attr) == 0 else { return }
        attr.fsx_projid = id
        if inherit { attr.fsx_xflags |= UInt32(CAIRN_FS_XFLAG_PROJINHERIT) }
        _ = cairn_set_fsxattr(fd, &attr)
    }

    /// Sets the hard block limit of project `id` to `bytes` (rounded down to the quota's 1 KiB
    /// units); no inode limit.
    static func setLimit(fd: Int32, id: UInt32, bytes: Int64) throws(Errno) {
        var q = cairn_dqblk()
        q.dqb_bhardlimit = UInt64(max(0, bytes) / 1024)
        q.dqb_bsoftlimit = 0
        q.dqb_valid = UInt32(CAIRN_QIF_BLIMITS)
        let r = cairn_project_quota_set(fd, id, &q)
        if r != 0 { throw Errno(-r) }
    }
}
