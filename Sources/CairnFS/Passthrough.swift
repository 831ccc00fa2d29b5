import CFuseKernel
import Glibc
import Logging
import Synchronization

/// Who made a request (the request header): new inodes belong to this uid/gid, and `umask` is
/// applied to their mode here because the session asks the kernel not to (FUSE_DONT_MASK).
struct Caller {
    var uid: uid_t
    var gid: gid_t
    var umask: mode_t
}

/// What an OPEN or CREATE is answered with.
struct OpenReply {
    var fh: UInt64
    var openFlags: UInt32
    var backingID: Int32
}

/// The device a session serves, for the calls the filesystem makes on it besides requests:
/// registering passthrough backing files. Its descriptor is set once the connection exists.
final class DeviceHandle: Sendable {
    let fd = Atomic<Int32>(-1)

    /// FUSE_DEV_IOC_BACKING_OPEN; the kernel keeps its own reference to the file. The calling
    /// thread's credentials, captured here, are the ones the kernel uses for passthrough I/O on it:
    /// worker threads have given up CAP_SYS_RESOURCE (quota limits apply to them), and CAP_FSETID
    /// is dropped for the call, so a passthrough write clears set-user-ID and set-group-ID bits as
    /// an unprivileged writer's does (FUSE_HANDLE_KILLPRIV_V2 leaves that to the server, which never
    /// sees a passthrough write).
    func registerBacking(_ file: Int32) throws(Errno) -> Int32 {
        var map = cfk_backing_map(fd: file, flags: 0, padding: 0)
        _ = cairn_thread_drop_effective_cap(Int32(CAIRN_CAP_FSETID))
        let id = cairn_ioctl_ptr(fd.load(ordering: .relaxed), CFK_DEV_IOC_BACKING_OPEN, &map)
        let e = Errno.current
        _ = cairn_thread_raise_effective_cap(Int32(CAIRN_CAP_FSETID))
        if id <= 0 { throw e }
        return id
    }

    func closeBacking(_ id: Int32) {
        var value = UInt32(bitPattern: id)
        _ = cairn_ioctl_ptr(fd.load(ordering: .relaxed), CFK_DEV_IOC_BACKING_CLOSE, &value)
    }
}

/// The passthrough: every operation on backing inodes, relative to descriptors Cairn holds.
///
/// Fields and their guards:
/// - `table`, `files`: their own mutexes (see InodeTable, OpenFileTable).
/// - `registry`: attached volumes by id and their root node ids; its mutex is never held across a
///   syscall except the O(volumes) work of listing, and never together with the table's mutex
///   except to pin or unpin a volume root (registry, then table).
/// - the volume counters: atomics (see Volume).
final class Passthrough: @unchecked Sendable {
    struct Registry {
        var volumes: [String: (volume: Volume, rootID: UInt64)] = [:]
        var changed = timespec(tv_sec: 0, tv_nsec: 0)
    }

    static let blockSize: Int64 = 4096
    static let rootID: UInt64 = 1

    let memory: SessionMemory
    let device: DeviceHandle
    let hooks: InodeHooks
    let table: InodeTable
    let files: OpenFileTable
    let registry: Mutex<Registry>
    let entryTimeout: Double
    let attrTimeout: Double
    let logger: Logger
    /// Whether the kernel agreed to FUSE_PASSTHROUGH (set from INIT).
    let passthroughEnabled = Atomic<Bool>(false)
    /// Opens may use passthrough (a tuning switch, for measuring the daemon path alone).
    let passthroughAllowed: Bool

    init(memory: SessionMemory, device: DeviceHandle, logger: Logger, entryTimeout: Double = 10,
         attrTimeout: Double = 10, passthroughAllowed: Bool = true) {
        self.memory = memory
        self.device = device
        self.logger = logger
        self.entryTimeout = entryTimeout
        self.attrTimeout = attrTimeout
        self.passthroughAllowed = passthroughAllowed
        self.hooks = InodeHooks(device: device)
        self.table = InodeTable(memory: memory, hooks: hooks)
        self.files = OpenFileTable(memory: memory)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        registry = Mutex(Registry(changed: now))
    }

    // MARK: - Resolving node ids

    enum Node {
        case root
        case inode(Inode)
    }

    func node(_ id: UInt64) throws(Errno) -> Node {
        if id == Self.rootID { return .root }
        return .inode(try inode(id))
    }

    /// The inode for a node id; the virtual root has none (EROFS for what would modify it).
    func inode(_ id: UInt64, rootError: Errno = .readOnly) throws(Errno) -> Inode {
        if id == Self.rootID { throw rootError }
        guard let inode = table.get(id), inode.fd >= 0 else { throw Errno.stale }
        if inode.volume.detached.load(ordering: .relaxed) { throw Errno.stale }
        return inode
    }

    /// An inode whose volume accepts changes.
    func writable(_ id: UInt64) throws(Errno) -> Inode {
        let inode = try inode(id)
        if inode.volume.readOnly { throw Errno.readOnly }
        return inode
    }

    /// The kernel never sends these, but a name is the only thing a request can steer, so the
    /// check stays: a single component that is not "." or "..".
    func checkName(_ name: UnsafePointer<CChar>) throws(Errno) {
        let len = strlen(name)
        if len == 0 { throw Errno(ENOENT) }
        if len > 255 { throw Errno(ENAMETOOLONG) }
        if name[0] == 0x2E && (len == 1 || (len == 2 && name[1] == 0x2E)) { throw Errno.invalid }
        if strchr(name, 0x2F) != nil { throw Errno.invalid }
    }

    // MARK: - The virtual root

    func rootStat() -> stat {
        let (count, changed) = registry.withLock { ($0.volumes.count, $0.changed) }
        var st = stat()
        st.st_ino = 1
        st.st_mode = S_IFDIR | 0o555
        st.st_nlink = nlink_t(2 + count)
        st.st_blksize = 4096
        st.st_mtim = changed
        st.st_ctim = changed
        st.st_atim = changed
        return st
    }

    func volumeNames() -> [(String, UInt64)] {
        registry.withLock { r in r.volumes.map { ($0.key, $0.value.rootID) } }.sorted { $0.0 < $1.0 }
    }

    func volume(named id: String) -> (volume: Volume, rootID: UInt64)? {
        registry.withLock { $0.volumes[id] }
    }

    // MARK: - Lookup and attributes

    func lookup(parent: UInt64, name: UnsafePointer<CChar>) throws(Errno) -> (Inode, stat) {
        if parent == Self.rootID {
            guard let (_, rootID) = volume(named: String(cString: name)) else { throw Errno.notFound }
            table.ref(rootID)
            guard let inode = table.get(rootID) else { throw Errno.notFound }
            do {
                return (inode, try inode.stat())
            } catch {
                table.forget(rootID, 1)
                throw error
            }
        }
        let p = try inode(parent, rootError: .notFound)
        try checkName(name)
        return try child(of: p, name: name, fresh: false)
    }

    /// Opens `name` under `parent` as a new O_PATH descriptor and returns its inode with one more
    /// kernel lookup. `fresh` marks an inode this call created, whose blocks are not counted yet.
    func child(of p: Inode, name: UnsafePointer<CChar>, fresh: Bool) throws(Errno) -> (Inode, stat) {
        let fd = try sys { openat(p.fd, name, Int32(CAIRN_O_PATH) | O_NOFOLLOW | O_CLOEXEC) }
        return try adopt(fd: fd, volume: p.volume, fresh: fresh)
    }

    /// Takes ownership of an O_PATH descriptor.
    func adopt(fd: Int32, volume: Volume, fresh: Bool) throws(Errno) -> (Inode, stat) {
        var st = stat()
        if fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) != 0 {
            let e = Errno.current
            close(fd)
            throw e
        }
        let inode = try table.insertOrRef(fd: fd, stat: st, volume: volume, accounted: !fresh)
        if fresh { inode.reconcile() }
        return (inode, st)
    }

    func getattr(_ id: UInt64) throws(Errno) -> stat {
        switch try node(id) {
        case .root: return rootStat()
        case .inode(let inode): return try inode.stat()
        }
    }

    /// What a SETATTR asks for (FATTR_* bits of `valid`).
    struct AttrChange {
        var valid: UInt32
        var mode: mode_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        var size: Int64 = 0
        var atime = timespec()
        var mtime = timespec()
        var fh: UInt64?

        func has(_ flag: Int) -> Bool { valid & UInt32(flag) != 0 }
    }

    func setattr(_ id: UInt64, _ change: AttrChange) throws(Errno) -> stat {
        let inode = try writable(id)
        let handleFD: Int32? = try change.fh.map { fh throws(Errno) in try files.fd(fh) }
        if change.has(CFK_FATTR_MODE) {
            if inode.isSymlink { throw Errno.notSupported }
            let mode = change.mode & 0o7777
            if let handleFD {
                _ = try sys { fchmod(handleFD, mode) }
            } else {
                _ = try sys { chmod(inode.procPath, mode) }
            }
        }
        if change.has(CFK_FATTR_UID) || change.has(CFK_FATTR_GID) {
            let uid = change.has(CFK_FATTR_UID) ? change.uid : uid_t.max
            let gid = change.has(CFK_FATTR_GID) ? change.gid : gid_t.max
            _ = try sys { fchownat(inode.fd, "", uid, gid, Int32(CAIRN_AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW) }
        }
        if change.has(CFK_FATTR_SIZE) {
            guard inode.isRegular else { throw inode.isDirectory ? Errno(EISDIR) : Errno.invalid }
            let size = change.size
            let current = Int64(try inode.stat().st_size)
            // Growing only makes a hole (no blocks), but a file longer than the volume could
            // never be filled: the volume's capacity is its largest file size (EFBIG, as
            // truncate(2) answers past the filesystem's maximum).
            if size > current && size > inode.volume.capacity { throw Errno(EFBIG) }
            var allocated = false
            if size > current && inode.hasPassthroughOpens {
                let fd: Int32
                if let handleFD { fd = handleFD } else { fd = try sys { Glibc.open(inode.procPath, O_WRONLY | O_CLOEXEC) } }
                defer { if handleFD == nil { close(fd) } }
                allocated = try allocateInsteadOfHole(inode, fd: fd, from: current, to: size)
            }
            if allocated {
                // fallocate already set the size.
            } else if let handleFD {
                _ = try sys { ftruncate(handleFD, off_t(size)) }
            } else {
                _ = try sys { truncate(inode.procPath, off_t(size)) }
            }
            if change.has(CFK_FATTR_KILL_SUIDGID) { Self.killSuidgid(path: inode.procPath) }
            inode.reconcile()
        }
        if change.has(CFK_FATTR_ATIME) || change.has(CFK_FATTR_MTIME) {
            var times = [timespec(tv_sec: 0, tv_nsec: CAIRN_UTIME_OMIT),
                         timespec(tv_sec: 0, tv_nsec: CAIRN_UTIME_OMIT)]
            if change.has(CFK_FATTR_ATIME_NOW) {
                times[0].tv_nsec = CAIRN_UTIME_NOW
            } else if change.has(CFK_FATTR_ATIME) {
                times[0] = change.atime
            }
            if change.has(CFK_FATTR_MTIME_NOW) {
                times[1].tv_nsec = CAIRN_UTIME_NOW
            } else if change.has(CFK_FATTR_MTIME) {
                times[1] = change.mtime
            }
            _ = try sys { utimensat(inode.fd, "", times, Int32(CAIRN_AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW) }
        }
        return try inode.stat()
    }

    /// What the kernel does on a write or truncate by a caller without CAP_FSETID (it asks the
    /// server to, with FUSE_HANDLE_KILLPRIV_V2): clear set-user-ID, and set-group-ID if the group
    /// may execute. The daemon's own calls run with CAP_FSETID, so the backing would keep them.
    static func killSuidgid(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        let mode = killedMode(st.st_mode)
        if mode != st.st_mode & 0o7777 { _ = fchmod(fd, mode) }
    }

    static func killSuidgid(path: String) {
        let fd = Glibc.open(path, Int32(CAIRN_O_PATH) | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var st = stat()
        guard fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) == 0 else { return }
        let mode = killedMode(st.st_mode)
        if mode != st.st_mode & 0o7777 { _ = chmod(path, mode) }
    }

    static func killedMode(_ mode: mode_t) -> mode_t {
        var m = mode & 0o7777
        m &= ~S_ISUID
        if m & S_IXGRP != 0 { m &= ~S_ISGID }
        return m
    }

    func readlink(_ id: UInt64, into buf: UnsafeMutablePointer<CChar>, capacity: Int) throws(Errno) -> Int {
        let inode = try inode(id, rootError: .invalid)
        return try sysSize { readlinkat(inode.fd, "", buf, capacity) }
    }

    // MARK: - Creating names

    /// Creates a node through `make` (mkdirat, mknodat or symlinkat on the parent descriptor) as
    /// the daemon, then hands it to the caller: owner uid, group from a set-group-ID parent or
    /// the caller's gid. The new inode is re-opened O_PATH|O_NOFOLLOW and checked to be of the
    /// type just made and still owned by the daemon before its owner changes, so a concurrent
    /// rename inside the directory cannot redirect the chown to another inode. A resent request
    /// (the daemon before this one may have made the name already) that finds the name taken
    /// answers with what is there: the kernel holds the directory's lock while the request is
    /// pending, so nobody else can have made it.
    func makeNode(parent: UInt64, name: UnsafePointer<CChar>, type: mode_t, caller: Caller,
                  reserve: Int64, replay: Bool, _ make: (Int32) -> Int32) throws(Errno) -> (Inode, stat) {
        let p = try writable(parent)
        try checkName(name)
        guard p.volume.reserve(reserve) else { throw Errno.noSpace }
        defer { p.volume.unreserve(reserve) }
        _ = cairn_thread_private_umask0()
        let parentStat = try p.stat()
        if make(p.fd) < 0 {
            let e = Errno.current
            if replay && e.code == EEXIST { return try child(of: p, name: name, fresh: false) }
            throw e
        }
        let fd = try sys { openat(p.fd, name, Int32(CAIRN_O_PATH) | O_NOFOLLOW | O_CLOEXEC) }
        var st = stat()
        if fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) == 0, st.st_mode & S_IFMT == type,
           st.st_uid == geteuid() {
            let gid = parentStat.st_mode & S_ISGID != 0 ? parentStat.st_gid : caller.gid
            if st.st_uid != caller.uid || st.st_gid != gid {
                _ = fchownat(fd, "", caller.uid, gid, Int32(CAIRN_AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW)
            }
        }
        p.volume.addFiles(1)
        let made = try adopt(fd: fd, volume: p.volume, fresh: true)
        p.reconcile()
        return made
    }

    func mkdir(parent: UInt64, name: UnsafePointer<CChar>, mode: mode_t, caller: Caller, replay: Bool) throws(Errno) -> (Inode, stat) {
        let m = mode & 0o7777 & ~caller.umask
        return try makeNode(parent: parent, name: name, type: S_IFDIR, caller: caller,
                            reserve: Self.blockSize, replay: replay) { mkdirat($0, name, m) }
    }

    func mknod(parent: UInt64, name: UnsafePointer<CChar>, mode: mode_t, rdev: dev_t, caller: Caller, replay: Bool) throws(Errno) -> (Inode, stat) {
        let type = mode & S_IFMT
        if type == S_IFCHR || type == S_IFBLK {
            // A device node made by a root daemon would hand pods the host's devices, unless both
            // copies are inert: the node mount is nodev, and so must the backing be.
            let p = try writable(parent)
            guard p.volume.devicesInert else { throw Errno.notPermitted }
        } else if type != S_IFIFO && type != S_IFSOCK && type != S_IFREG {
            throw Errno.invalid
        }
        let m = type | (mode & 0o7777 & ~caller.umask)
        return try makeNode(parent: parent, name: name, type: type, caller: caller, reserve: 0, replay: replay) {
            mknodat($0, name, m, rdev)
        }
    }

    func symlink(target: UnsafePointer<CChar>, parent: UInt64, name: UnsafePointer<CChar>, caller: Caller, replay: Bool) throws(Errno) -> (Inode, stat) {
        try makeNode(parent: parent, name: name, type: S_IFLNK, caller: caller,
                     reserve: Self.blockSize, replay: replay) { symlinkat(target, $0, name) }
    }

    /// Creates and opens a regular file. Returns the inode, its attributes and the open reply.
    func create(parent: UInt64, name: UnsafePointer<CChar>, mode: mode_t, flags: Int32, killSuidgid: Bool,
                caller: Caller, replay: Bool) throws(Errno) -> (Inode, stat, OpenReply) {
        let p = try writable(parent)
        try checkName(name)
        _ = cairn_thread_private_umask0()
        let m = mode & 0o7777 & ~caller.umask
        let openFlags = Self.backingFlags(flags) & ~(O_CREAT | O_EXCL)
        var created = true
        var fd = openat(p.fd, name, openFlags | O_CREAT | O_EXCL | O_NOFOLLOW, m)
        if fd < 0 && cairn_errno() == EEXIST && (flags & O_EXCL == 0 || replay) {
            created = false
            fd = openat(p.fd, name, openFlags | O_NOFOLLOW)
        }
        if fd < 0 { throw Errno.current }
        if created {
            // The descriptor is the new file itself: no rename can redirect these calls.
            var parentStat = stat()
            let setgidParent = fstatat(p.fd, "", &parentStat, Int32(CAIRN_AT_EMPTY_PATH)) == 0
                && parentStat.st_mode & S_ISGID != 0
            let gid = setgidParent ? parentStat.st_gid : caller.gid
            if caller.uid != geteuid() || gid != getegid() {
                _ = fchown(fd, caller.uid, gid)
                if m & (S_ISUID | S_ISGID) != 0 {
                    // chown cleared them; restore what the caller may keep.
                    var keep = m
                    if setgidParent && gid != caller.gid && !Self.callerInGroup(gid) { keep &= ~S_ISGID }
                    _ = fchmod(fd, keep)
                }
            }
            p.volume.addFiles(1)
        } else if killSuidgid && flags & O_TRUNC != 0 {
            Self.killSuidgid(fd: fd)
        }
        // The O_PATH descriptor comes from the open file, not the name: same inode for sure.
        let pathFD = Glibc.open("/proc/self/fd/\(fd)", Int32(CAIRN_O_PATH) | O_CLOEXEC)
        if pathFD < 0 {
            let e = Errno.current
            close(fd)
            throw e
        }
        let made: (Inode, stat)
        do {
            made = try adopt(fd: pathFD, volume: p.volume, fresh: created)
        } catch {
            close(fd)
            throw error
        }
        if !created && flags & O_TRUNC != 0 { made.0.reconcile(statFD: fd) }
        if created { p.reconcile() }
        do {
            let reply = try openHandle(made.0, flags: flags, fd: fd, stat: made.1)
            return (made.0, made.1, reply)
        } catch {
            table.forget(made.0.nodeID, 1)
            throw error
        }
    }

    /// Supplementary groups are not in the request; this edge (set-group-ID file in a setgid
    /// directory of a group the caller is not in) is rare enough to not need them: keep the bit
    /// only for the caller's primary group.
    static func callerInGroup(_ gid: gid_t) -> Bool { false }

    /// Flags for the backing open: O_DIRECT is dropped (the kernel already bypasses the FUSE page
    /// cache for O_DIRECT opens; request buffers are not aligned for the backing device), and so
    /// is O_APPEND: the kernel sends every write with its offset (the end of the file, for an
    /// O_APPEND open), which also makes a resent write idempotent.
    static func backingFlags(_ flags: Int32) -> Int32 {
        (flags & ~(O_NOCTTY | Int32(CAIRN_O_DIRECT) | O_NOFOLLOW | O_APPEND)) | O_CLOEXEC
    }

    func link(_ id: UInt64, newParent: UInt64, newName: UnsafePointer<CChar>, replay: Bool) throws(Errno) -> (Inode, stat) {
        let inode = try writable(id)
        let np = try writable(newParent)
        try checkName(newName)
        guard inode.volume === np.volume else { throw Errno.crossDevice }
        guard !inode.isDirectory else { throw Errno.notPermitted }
        if linkat(inode.fd, "", np.fd, newName, Int32(CAIRN_AT_EMPTY_PATH)) != 0 {
            let e = Errno.current
            guard replay && e.code == EEXIST else { throw e }
        }
        table.ref(inode.nodeID)
        np.reconcile()
        return (inode, try inode.stat())
    }

    // MARK: - Removing names

    /// Bookkeeping after the last name of `st` went away.
    func lastNameRemoved(_ volume: Volume, _ st: stat) {
        volume.addFiles(-1)
        let key = InodeKey(volume: volume.serial, dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        if let inode = table.find(key) {
            inode.orphaned()
            inode.pinWhileOpen()
        } else {
            volume.account(-Int64(st.st_blocks) * 512)
        }
    }

    /// A resent unlink or rmdir whose name is already gone was done by the daemon before.
    func remove(parent: UInt64, name: UnsafePointer<CChar>, directory: Bool, replay: Bool) throws(Errno) {
        let p = try writable(parent)
        try checkName(name)
        var st = stat()
        let known = fstatat(p.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
        if unlinkat(p.fd, name, directory ? AT_REMOVEDIR : 0) != 0 {
            let e = Errno.current
            if replay && e.code == ENOENT { return }
            throw e
        }
        if known && (directory || st.st_nlink <= 1) { lastNameRemoved(p.volume, st) }
    }

    func rename(parent: UInt64, name: UnsafePointer<CChar>, newParent: UInt64,
                newName: UnsafePointer<CChar>, flags: UInt32, replay: Bool) throws(Errno) {
        let p = try writable(parent)
        let np = try writable(newParent)
        try checkName(name)
        try checkName(newName)
        guard p.volume === np.volume else { throw Errno.crossDevice }
        if flags & ~UInt32(CAIRN_RENAME_NOREPLACE | CAIRN_RENAME_EXCHANGE) != 0 { throw Errno.invalid }
        var victim = stat()
        let replaces = flags == 0 && fstatat(np.fd, newName, &victim, AT_SYMLINK_NOFOLLOW) == 0
        if cairn_renameat2(p.fd, name, np.fd, newName, flags) != 0 {
            let e = Errno.current
            // The kernel holds both directories' locks while the request is pending.
            if replay && e.code == ENOENT { return }
            throw e
        }
        if replaces {
            var moved = stat()
            let sameInode = fstatat(np.fd, newName, &moved, AT_SYMLINK_NOFOLLOW) == 0
                && moved.st_ino == victim.st_ino && moved.st_dev == victim.st_dev
            // Renaming a name onto another link of the same inode removes nothing.
            if !sameInode && ((victim.st_mode & S_IFMT) == S_IFDIR || victim.st_nlink <= 1) {
                lastNameRemoved(np.volume, victim)
            }
        }
        if p !== np { np.reconcile() }
    }

    // MARK: - Files

    /// Opens the inode for I/O through its /proc/self/fd magic link (never by name).
    func open(_ id: UInt64, flags: Int32, killSuidgid: Bool) throws(Errno) -> OpenReply {
        let inode = try self.inode(id, rootError: Errno(EISDIR))
        let accmode = flags & O_ACCMODE
        if inode.volume.readOnly && (accmode != O_RDONLY || flags & O_TRUNC != 0) { throw Errno.readOnly }
        if inode.isDirectory && accmode != O_RDONLY { throw Errno(EISDIR) }
        var fd: Int32 = -1
        if flags & O_TRUNC != 0 {
            // The truncation happens here, at the open (FUSE_ATOMIC_O_TRUNC).
            fd = try sys { Glibc.open(inode.procPath, Self.backingFlags(flags) & ~(O_CREAT | O_EXCL)) }
            if killSuidgid { Self.killSuidgid(fd: fd) }
            inode.reconcile(statFD: fd)
        }
        var st = stat()
        if fd >= 0 {
            fstat(fd, &st)
        } else {
            st = try inode.stat()
        }
        return try openHandle(inode, flags: flags, fd: fd, stat: st)
    }

    /// Counts the open in its mode (deciding it again under the inode's lock: another open may have
    /// changed what is allowed since), registers the backing file for passthrough, and records the
    /// handle. Takes ownership of `fd` (-1: none yet; only passthrough opens may stay without one).
    private func openHandle(_ inode: Inode, flags: Int32, fd: Int32, stat st: stat) throws(Errno) -> OpenReply {
        let writable = flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0
        let available = passthroughAllowed && passthroughEnabled.load(ordering: .relaxed)
        let stamp = Inode.CacheStamp(size: Int64(st.st_size), mtimeSec: st.st_mtim.tv_sec, mtimeNsec: st.st_mtim.tv_nsec)
        let handleFlags = Self.backingFlags(flags) & ~(O_CREAT | O_EXCL | O_TRUNC)
        var handleFD = fd
        // With daemon accounting, the first passthrough open of an inode needs a file without
        // holes (see OpenPolicy): probed on a descriptor the backing registration can use too.
        var probe: Int32 = -1
        if available && !writable && inode.isRegular && !inode.volume.kernelQuota
            && inode.io.withLock({ $0.passthrough + $0.passthroughDirect == 0 && $0.cached == 0 }) {
            probe = Glibc.open(inode.procPath, O_RDONLY | O_CLOEXEC | Int32(CAIRN_O_NOATIME))
        }
        defer { if probe >= 0 { close(probe) } }
        var (mode, keep, backing) = inode.io.withLock { io -> (IOMode, Bool, Int32) in
            let first = io.passthrough + io.passthroughDirect == 0
            let holes = first && !inode.volume.kernelQuota && (probe < 0 || Self.hasHoles(probe))
            let m = OpenPolicy.mode(kernelQuota: inode.volume.kernelQuota, writable: writable,
                                    passthroughAvailable: available, regularFile: inode.isRegular,
                                    counts: .init(cached: io.cached, passthrough: io.passthrough + io.passthroughDirect),
                                    holes: holes)
            io.count(m, writable: writable, by: 1)
            var keep = false
            if m == .cached {
                keep = io.stamp == stamp
                io.stamp = stamp
            }
            return (m, keep, io.backingID)
        }
        do {
            if mode != .passthrough && handleFD < 0 {
                handleFD = try sys { Glibc.open(inode.procPath, handleFlags) }
            }
            if mode != .cached && backing == 0 {
                do {
                    backing = try registerBacking(inode, using: handleFD >= 0 ? handleFD : probe)
                } catch {
                    // Passthrough is not possible for this file (a stacked backing filesystem,
                    // say): serve it on the daemon path instead.
                    logger.debug("passthrough unavailable, using the daemon path", metadata: ["error": "\(error)"])
                    if handleFD < 0 { handleFD = try sys { Glibc.open(inode.procPath, handleFlags) } }
                    inode.io.withLock { io in
                        io.count(mode, writable: writable, by: -1)
                        io.count(.cached, writable: writable, by: 1)
                        io.stamp = nil
                    }
                    mode = .cached
                    keep = false
                }
            }
        } catch {
            inode.io.withLock { $0.count(mode, writable: writable, by: -1) }
            if handleFD >= 0 { close(handleFD) }
            throw error
        }
        let fh: UInt64
        do {
            fh = try files.add(inode: inode, flags: handleFlags, mode: mode, fd: handleFD, truncated: flags & O_TRUNC != 0)
        } catch {
            inode.io.withLock { $0.count(mode, writable: writable, by: -1) }
            if handleFD >= 0 { close(handleFD) }
            throw error
        }
        inode.volume.openHandles.add(1, ordering: .relaxed)
        return OpenReply(fh: fh, openFlags: OpenPolicy.replyFlags(mode, keepCache: keep),
                         backingID: mode == .cached ? 0 : backing)
    }

    /// Whether the open file `fd` has a hole before its end (SEEK_HOLE; unwritten preallocated
    /// extents count as data).
    static func hasHoles(_ fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return true }
        if st.st_size == 0 { return false }
        let hole = lseek(fd, 0, Int32(CAIRN_SEEK_HOLE))
        return hole < 0 || Int64(hole) < Int64(st.st_size)
    }

    /// With daemon accounting, while `inode` has passthrough opens, what would become a hole in
    /// [from, to) (a write past the end, a growing truncate) is allocated instead (see OpenPolicy),
    /// reserved like a write. Returns false if the inode has no passthrough opens (nothing done).
    func allocateInsteadOfHole(_ inode: Inode, fd: Int32, from: Int64, to: Int64) throws(Errno) -> Bool {
        guard !inode.volume.kernelQuota, to > from else { return false }
        return try inode.io.withLock { (io: inout Inode.IOState) throws(Errno) -> Bool in
            guard io.passthrough + io.passthroughDirect > 0 else { return false }
            let reserved = Self.unallocated(fd: fd, offset: from, length: to - from)
            guard inode.volume.reserve(reserved) else { throw Errno.noSpace }
            defer {
                inode.reconcile(statFD: fd)
                inode.volume.unreserve(reserved)
            }
            _ = try sys { cairn_fallocate(fd, 0, off_t(from), off_t(to - from)) }
            return true
        }
    }

    /// The inode's backing id, registering one if it has none (under the inode's lock, so two
    /// opens never register two: every passthrough open of an inode must name the same one).
    private func registerBacking(_ inode: Inode, using handleFD: Int32) throws(Errno) -> Int32 {
        try inode.io.withLock { (io: inout Inode.IOState) throws(Errno) -> Int32 in
            if io.backingID != 0 { return io.backingID }
            let file: Int32
            var opened = false
            if handleFD >= 0 {
                file = handleFD
            } else {
                file = try sys { Glibc.open(inode.procPath, O_RDONLY | O_CLOEXEC | Int32(CAIRN_O_NOATIME)) }
                opened = true
            }
            defer { if opened { close(file) } }
            let id = try device.registerBacking(file)
            io.backingID = id
            inode.record.backingID = id
            return id
        }
    }

    /// Called on release: the page cache the kernel keeps reflects writes made through it, so
    /// the stamp after them is the one a later open compares against.
    func release(_ fh: UInt64) {
        guard let (entry, fd) = files.remove(fh) else { return }
        let inode = entry.inode
        let writable = entry.flags & O_ACCMODE != O_RDONLY
        if writable {
            var st = stat()
            let statFD = fd >= 0 ? fd : nil
            if entry.mode == .cached, let statFD, fstat(statFD, &st) == 0 {
                let stamp = Inode.CacheStamp(size: Int64(st.st_size), mtimeSec: st.st_mtim.tv_sec,
                                             mtimeNsec: st.st_mtim.tv_nsec)
                inode.io.withLock { $0.stamp = stamp }
            }
            inode.reconcile(statFD: statFD)
        }
        inode.io.withLock { $0.count(entry.mode, writable: writable || entry.truncated, by: -1) }
        inode.volume.openHandles.subtract(1, ordering: .relaxed)
        if fd >= 0 { close(fd) }
    }

    /// A WRITE on the daemon path: reserve, write at the kernel's offset, reconcile.
    func write(_ id: UInt64, fh: UInt64, offset: Int64, data: UnsafeRawPointer, count: Int,
               killSuidgid: Bool) throws(Errno) -> Int {
        let inode = try writable(id)
        let fd = try files.fd(fh)
        let reserved = try reserveWrite(inode.volume, fd: fd, offset: offset, length: Int64(count))
        defer { inode.volume.unreserve(reserved) }
        if killSuidgid { Self.killSuidgid(fd: fd) }
        if inode.hasPassthroughOpens {
            var st = stat()
            if fstat(fd, &st) == 0 && offset > Int64(st.st_size) {
                _ = try allocateInsteadOfHole(inode, fd: fd, from: Int64(st.st_size), to: offset)
            }
        }
        let n = pwrite(fd, data, count, off_t(offset))
        let e = Errno.current
        inode.reconcile(statFD: fd)
        if n < 0 { throw e }
        return n
    }

    /// Bytes in [offset, offset+length) (widened to blocks) that are not allocated yet:
    /// FIEMAP (which counts unwritten and delayed-allocation extents as allocated), or
    /// SEEK_DATA/SEEK_HOLE where the backing filesystem has no FIEMAP.
    static func unallocated(fd: Int32, offset: Int64, length: Int64) -> Int64 {
        let bs = blockSize
        let start = offset & ~(bs - 1)
        let end = (offset + length + bs - 1) & ~(bs - 1)
        if let allocated = allocatedBytes(fd: fd, start: start, end: end) {
            return max(0, end - start - allocated)
        }
        var pos = start
        var total: Int64 = 0
        while pos < end {
            let data = Int64(lseek(fd, off_t(pos), Int32(CAIRN_SEEK_DATA)))
            if data < 0 {  // ENXIO: nothing but hole up to EOF and beyond
                total += end - pos
                break
            }
            if data > pos {
                total += min(data, end) - pos
                pos = data
                continue
            }
            let hole = Int64(lseek(fd, off_t(pos), Int32(CAIRN_SEEK_HOLE)))
            if hole <= pos { break }
            pos = (hole + bs - 1) & ~(bs - 1)
        }
        return total
    }

    /// Allocated bytes of [start, end) from FIEMAP; nil if the filesystem does not support it.
    static func allocatedBytes(fd: Int32, start: Int64, end: Int64) -> Int64? {
        let count = 128
        let header = MemoryLayout<fiemap>.size
        let size = header + count * MemoryLayout<fiemap_extent>.stride
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buf.deallocate() }
        var pos = start
        var total: Int64 = 0
        while pos < end {
            memset(buf, 0, size)
            let map = buf.assumingMemoryBound(to: fiemap.self)
            map.pointee.fm_start = UInt64(pos)
            map.pointee.fm_length = UInt64(end - pos)
            map.pointee.fm_extent_count = UInt32(count)
            if cairn_ioctl_ptr(fd, CAIRN_FS_IOC_FIEMAP, buf) != 0 { return nil }
            let mapped = Int(map.pointee.fm_mapped_extents)
            if mapped == 0 { break }
            let extents = (buf + header).assumingMemoryBound(to: fiemap_extent.self)
            var next = pos
            var last = false
            for i in 0..<mapped {
                let e = extents[i]
                let from = max(Int64(e.fe_logical), pos)
                let to = min(Int64(e.fe_logical + e.fe_length), end)
                if to > from { total += to - from }
                next = Int64(e.fe_logical + e.fe_length)
                if e.fe_flags & UInt32(FIEMAP_EXTENT_LAST) != 0 { last = true }
            }
            if last || mapped < count || next <= pos { break }
            pos = next
        }
        return total
    }

    /// Reserves what a write of `length` bytes at `offset` can allocate: first the worst case
    /// (every block of the range new, cheap), and only when that does not fit the exact count of
    /// unallocated blocks (FIEMAP), so overwrites still succeed on a full volume.
    func reserveWrite(_ volume: Volume, fd: Int32, offset: Int64, length: Int64) throws(Errno) -> Int64 {
        if length <= 0 || volume.kernelQuota { return 0 }
        let bs = Self.blockSize
        let worst = ((offset + length + bs - 1) & ~(bs - 1)) - (offset & ~(bs - 1))
        if volume.reserve(worst) { return worst }
        let exact = Self.unallocated(fd: fd, offset: offset, length: length)
        if volume.reserve(exact) { return exact }
        throw Errno.noSpace
    }

    func fallocate(_ id: UInt64, fh: UInt64, mode: Int32, offset: Int64, length: Int64) throws(Errno) {
        let inode = try writable(id)
        let fd = try files.fd(fh)
        var reserved: Int64 = 0
        if mode & Int32(CAIRN_FALLOC_FL_PUNCH_HOLE) == 0 && !inode.volume.kernelQuota {
            reserved = Self.unallocated(fd: fd, offset: offset, length: length)
            guard inode.volume.reserve(reserved) else { throw Errno.noSpace }
        }
        defer {
            inode.reconcile(statFD: fd)
            inode.volume.unreserve(reserved)
        }
        _ = try sys { cairn_fallocate(fd, mode, off_t(offset), off_t(length)) }
    }

    func copyFileRange(inFH: UInt64, offIn: Int64, outID: UInt64, outFH: UInt64, offOut: Int64,
                       length: Int, flags: UInt32) throws(Errno) -> Int {
        let out = try writable(outID)
        let inFD = try files.fd(inFH)
        let outFD = try files.fd(outFH)
        let reserved = try reserveWrite(out.volume, fd: outFD, offset: offOut, length: Int64(length))
        defer {
            out.reconcile(statFD: outFD)
            out.volume.unreserve(reserved)
        }
        var inOff = off_t(offIn)
        var outOff = off_t(offOut)
        return try sysSize { cairn_copy_file_range(inFD, &inOff, outFD, &outOff, length, flags) }
    }

    // MARK: - Directories

    func opendir(_ id: UInt64) throws(Errno) -> UInt64 {
        guard case .inode(let inode) = try node(id) else { return 0 }
        guard inode.isDirectory else { throw Errno(ENOTDIR) }
        let handle = try openDirStream(inode)
        let fh = try files.add(inode: inode, flags: O_RDONLY | O_DIRECTORY, mode: .cached, fd: -1, truncated: false, dir: handle)
        inode.volume.openHandles.add(1, ordering: .relaxed)
        return fh
    }

    func openDirStream(_ inode: Inode) throws(Errno) -> DirHandle {
        try inode.checkAlive()
        let fd = try sys { openat(inode.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard let stream = fdopendir(fd) else {
            let e = Errno.current
            close(fd)
            throw e
        }
        return DirHandle(stream: stream, inode: inode)
    }

    func dirHandle(_ fh: UInt64) -> DirHandle? { files.entry(fh)?.dir }

    func releasedir(_ fh: UInt64) {
        guard fh != 0, let (entry, _) = files.remove(fh) else { return }
        entry.inode.volume.openHandles.subtract(1, ordering: .relaxed)
    }

    // MARK: - statfs

    func statfs(_ id: UInt64) throws(Errno) -> cfk_kstatfs {
        var out = cfk_kstatfs()
        out.bsize = UInt32(Self.blockSize)
        out.frsize = UInt32(Self.blockSize)
        out.namelen = 255
        let volumes: [Volume]
        switch try node(id) {
        case .root: volumes = registry.withLock { r in r.volumes.values.map(\.volume) }
        case .inode(let inode): volumes = [inode.volume]
        }
        var capacity: Int64 = 0, used: Int64 = 0, files: Int64 = 0, freeFiles: UInt64 = 0
        for v in volumes {
            let cap = v.capacity
            let (u, f) = v.usedAndFiles
            capacity += cap
            used += u
            files += f
            var backing = statvfs()
            if fstatvfs(v.dataFD, &backing) == 0 {
                // Free inodes: what the backing filesystem has, but no more than one per free
                // block of this volume, so `df -i` scales with the volume, not the host disk.
                let freeBlocks = UInt64(max(0, cap - u) / Self.blockSize)
                freeFiles += min(UInt64(backing.f_ffree), freeBlocks)
            }
        }
        out.blocks = UInt64(capacity / Self.blockSize)
        let free = UInt64(max(0, capacity - used) / Self.blockSize)
        out.bfree = free
        out.bavail = free
        out.files = UInt64(files) + freeFiles
        out.ffree = freeFiles
        return out
    }

    // MARK: - Extended attributes

    func xattrTarget(_ id: UInt64, modify: Bool) throws(Errno) -> Inode? {
        switch try node(id) {
        case .root:
            if modify { throw Errno.readOnly }
            return nil
        case .inode(let inode):
            if modify && inode.volume.readOnly { throw Errno.readOnly }
            // Symlinks have no fd-based or magic-link route to their own xattrs.
            if inode.isSymlink { throw Errno.notSupported }
            return inode
        }
    }
}
