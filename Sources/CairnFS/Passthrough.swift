import CFuse3
import Glibc
import Logging
import Synchronization

/// Who made a request (fuse_req_ctx): new inodes belong to this uid/gid, and `umask` is applied
/// to their mode here because the session asks the kernel not to (FUSE_CAP_DONT_MASK).
struct Caller {
    var uid: uid_t
    var gid: gid_t
    var umask: mode_t
}

/// What a directory handle holds: the stream and where it stands.
final class DirHandle: @unchecked Sendable {
    /// The DIR stream; used only while holding `position`.
    let stream: OpaquePointer
    /// Guards the stream and holds the d_off of the last entry read from it (where the stream
    /// stands). The kernel serialises readdir on one open directory; the lock makes that an
    /// invariant rather than an assumption. Leaf lock.
    let position = Mutex<Int64>(0)
    let inode: Inode

    init(stream: OpaquePointer, inode: Inode) {
        self.stream = stream
        self.inode = inode
    }

    deinit { closedir(stream) }
}

/// The passthrough: every operation on backing inodes, relative to descriptors Cairn holds.
///
/// Fields and their guards:
/// - `table`: its own mutex (see InodeTable).
/// - `registry`: attached volumes by id and their root node ids; its mutex is never held across a
///   syscall except the O(volumes) work of listing, and never together with the table's mutex.
/// - the volume counters: atomics (see Volume).
final class Passthrough: Sendable {
    struct Registry {
        var volumes: [String: (volume: Volume, rootID: UInt64)] = [:]
        var nextSerial: UInt32 = 1
        var changed = timespec(tv_sec: 0, tv_nsec: 0)
    }

    static let blockSize: Int64 = 4096
    static let rootID: UInt64 = 1

    let table = InodeTable()
    let registry: Mutex<Registry>
    let entryTimeout: Double
    let attrTimeout: Double
    let logger: Logger

    init(logger: Logger, entryTimeout: Double = 10, attrTimeout: Double = 10) {
        self.logger = logger
        self.entryTimeout = entryTimeout
        self.attrTimeout = attrTimeout
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
        guard let inode = table.get(id) else { throw Errno.stale }
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
        let inode = table.insertOrRef(fd: fd, stat: st, volume: volume, accounted: !fresh)
        if fresh { inode.reconcile() }
        return (inode, st)
    }

    func getattr(_ id: UInt64) throws(Errno) -> stat {
        switch try node(id) {
        case .root: return rootStat()
        case .inode(let inode): return try inode.stat()
        }
    }

    func setattr(_ id: UInt64, _ attr: stat, _ toSet: Int32, fh: Int32?) throws(Errno) -> stat {
        let inode = try writable(id)
        if toSet & FUSE_SET_ATTR_MODE != 0 {
            if inode.isSymlink { throw Errno.notSupported }
            let mode = attr.st_mode & 0o7777
            if let fh {
                _ = try sys { fchmod(fh, mode) }
            } else {
                _ = try sys { chmod(inode.procPath, mode) }
            }
        }
        if toSet & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID) != 0 {
            let uid = toSet & FUSE_SET_ATTR_UID != 0 ? attr.st_uid : uid_t.max
            let gid = toSet & FUSE_SET_ATTR_GID != 0 ? attr.st_gid : gid_t.max
            _ = try sys { fchownat(inode.fd, "", uid, gid, Int32(CAIRN_AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW) }
        }
        if toSet & FUSE_SET_ATTR_SIZE != 0 {
            guard inode.isRegular else { throw inode.isDirectory ? Errno(EISDIR) : Errno.invalid }
            let size = Int64(attr.st_size)
            let current = Int64(try inode.stat().st_size)
            // Growing only makes a hole (no blocks), but a file longer than the volume could
            // never be filled: refuse it at the call, as the capacity promises.
            if size > current && size > inode.volume.capacity.load(ordering: .relaxed) {
                throw Errno.noSpace
            }
            if let fh {
                _ = try sys { ftruncate(fh, off_t(size)) }
            } else {
                _ = try sys { truncate(inode.procPath, off_t(size)) }
            }
            inode.reconcile()
        }
        if toSet & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME) != 0 {
            var times = [timespec(tv_sec: 0, tv_nsec: CAIRN_UTIME_OMIT),
                         timespec(tv_sec: 0, tv_nsec: CAIRN_UTIME_OMIT)]
            if toSet & FUSE_SET_ATTR_ATIME_NOW != 0 {
                times[0].tv_nsec = CAIRN_UTIME_NOW
            } else if toSet & FUSE_SET_ATTR_ATIME != 0 {
                times[0] = attr.st_atim
            }
            if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
                times[1].tv_nsec = CAIRN_UTIME_NOW
            } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
                times[1] = attr.st_mtim
            }
            _ = try sys { utimensat(inode.fd, "", times, Int32(CAIRN_AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW) }
        }
        return try inode.stat()
    }

    func readlink(_ id: UInt64) throws(Errno) -> [CChar] {
        let inode = try inode(id, rootError: .invalid)
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try sysSize { readlinkat(inode.fd, "", &buf, Int(PATH_MAX)) }
        buf[n] = 0
        return buf
    }

    // MARK: - Creating names

    /// Creates a node through `make` (mkdirat, mknodat or symlinkat on the parent descriptor) as
    /// the daemon, then hands it to the caller: owner uid, group from a set-group-ID parent or
    /// the caller's gid. The new inode is re-opened O_PATH|O_NOFOLLOW and checked to be of the
    /// type just made and still owned by the daemon before its owner changes, so a concurrent
    /// rename inside the directory cannot redirect the chown to another inode.
    func makeNode(parent: UInt64, name: UnsafePointer<CChar>, type: mode_t, caller: Caller,
                  reserve: Int64, _ make: (Int32) -> Int32) throws(Errno) -> (Inode, stat) {
        let p = try writable(parent)
        try checkName(name)
        guard p.volume.reserve(reserve) else { throw Errno.noSpace }
        defer { p.volume.unreserve(reserve) }
        _ = cairn_thread_private_umask0()
        let parentStat = try p.stat()
        _ = try sys { make(p.fd) }
        let fd = try sys { openat(p.fd, name, Int32(CAIRN_O_PATH) | O_NOFOLLOW | O_CLOEXEC) }
        var st = stat()
        if fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) == 0, st.st_mode & S_IFMT == type,
           st.st_uid == geteuid() {
            let gid = parentStat.st_mode & S_ISGID != 0 ? parentStat.st_gid : caller.gid
            if st.st_uid != caller.uid || st.st_gid != gid {
                _ = fchownat(fd, "", caller.uid, gid, Int32(CAIRN_AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW)
            }
        }
        p.volume.files.add(1, ordering: .relaxed)
        let made = try adopt(fd: fd, volume: p.volume, fresh: true)
        p.reconcile()
        return made
    }

    func mkdir(parent: UInt64, name: UnsafePointer<CChar>, mode: mode_t, caller: Caller) throws(Errno) -> (Inode, stat) {
        let m = mode & 0o7777 & ~caller.umask
        return try makeNode(parent: parent, name: name, type: S_IFDIR, caller: caller,
                            reserve: Self.blockSize) { mkdirat($0, name, m) }
    }

    func mknod(parent: UInt64, name: UnsafePointer<CChar>, mode: mode_t, rdev: dev_t, caller: Caller) throws(Errno) -> (Inode, stat) {
        let type = mode & S_IFMT
        // Device nodes made by a root daemon would hand pods the host's devices.
        guard type == S_IFIFO || type == S_IFSOCK || type == S_IFREG else { throw Errno.notPermitted }
        let m = type | (mode & 0o7777 & ~caller.umask)
        return try makeNode(parent: parent, name: name, type: type, caller: caller, reserve: 0) {
            mknodat($0, name, m, 0)
        }
    }

    func symlink(target: UnsafePointer<CChar>, parent: UInt64, name: UnsafePointer<CChar>, caller: Caller) throws(Errno) -> (Inode, stat) {
        try makeNode(parent: parent, name: name, type: S_IFLNK, caller: caller,
                     reserve: Self.blockSize) { symlinkat(target, $0, name) }
    }

    /// Creates and opens a regular file. Returns the inode, its attributes and an open descriptor.
    func create(parent: UInt64, name: UnsafePointer<CChar>, mode: mode_t, flags: Int32,
                caller: Caller) throws(Errno) -> (Inode, stat, Int32) {
        let p = try writable(parent)
        try checkName(name)
        _ = cairn_thread_private_umask0()
        let m = mode & 0o7777 & ~caller.umask
        let openFlags = Self.backingFlags(flags) & ~(O_CREAT | O_EXCL)
        var created = true
        var fd = openat(p.fd, name, openFlags | O_CREAT | O_EXCL | O_NOFOLLOW, m)
        if fd < 0 && cairn_errno() == EEXIST && flags & O_EXCL == 0 {
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
            p.volume.files.add(1, ordering: .relaxed)
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
        p.volume.openHandles.add(1, ordering: .relaxed)
        return (made.0, made.1, fd)
    }

    /// Supplementary groups are not in fuse_req_ctx; this edge (set-group-ID file in a setgid
    /// directory of a group the caller is not in) is rare enough to not need them: keep the bit
    /// only for the caller's primary group.
    static func callerInGroup(_ gid: gid_t) -> Bool { false }

    /// Flags for the backing open: O_DIRECT is dropped (the kernel already bypasses the FUSE page
    /// cache for O_DIRECT opens; libfuse's buffers are not aligned for the backing device).
    static func backingFlags(_ flags: Int32) -> Int32 {
        (flags & ~(O_NOCTTY | Int32(CAIRN_O_DIRECT) | O_NOFOLLOW)) | O_CLOEXEC
    }

    func link(_ id: UInt64, newParent: UInt64, newName: UnsafePointer<CChar>) throws(Errno) -> (Inode, stat) {
        let inode = try writable(id)
        let np = try writable(newParent)
        try checkName(newName)
        guard inode.volume === np.volume else { throw Errno.crossDevice }
        guard !inode.isDirectory else { throw Errno.notPermitted }
        _ = try sys { linkat(inode.fd, "", np.fd, newName, Int32(CAIRN_AT_EMPTY_PATH)) }
        table.ref(inode.nodeID)
        np.reconcile()
        return (inode, try inode.stat())
    }

    // MARK: - Removing names

    /// Bookkeeping after the last name of `st` went away.
    func lastNameRemoved(_ volume: Volume, _ st: stat) {
        volume.files.subtract(1, ordering: .relaxed)
        let key = InodeKey(volume: volume.serial, dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        if let inode = table.find(key) {
            inode.orphaned()
        } else {
            volume.account(-Int64(st.st_blocks) * 512)
        }
    }

    func remove(parent: UInt64, name: UnsafePointer<CChar>, directory: Bool) throws(Errno) {
        let p = try writable(parent)
        try checkName(name)
        var st = stat()
        let known = fstatat(p.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
        _ = try sys { unlinkat(p.fd, name, directory ? AT_REMOVEDIR : 0) }
        if known && (directory || st.st_nlink <= 1) { lastNameRemoved(p.volume, st) }
    }

    func rename(parent: UInt64, name: UnsafePointer<CChar>, newParent: UInt64,
                newName: UnsafePointer<CChar>, flags: UInt32) throws(Errno) {
        let p = try writable(parent)
        let np = try writable(newParent)
        try checkName(name)
        try checkName(newName)
        guard p.volume === np.volume else { throw Errno.crossDevice }
        if flags & ~UInt32(CAIRN_RENAME_NOREPLACE | CAIRN_RENAME_EXCHANGE) != 0 { throw Errno.invalid }
        var victim = stat()
        let replaces = flags == 0 && fstatat(np.fd, newName, &victim, AT_SYMLINK_NOFOLLOW) == 0
        _ = try sys { cairn_renameat2(p.fd, name, np.fd, newName, flags) }
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
    /// Returns the descriptor and whether the kernel may keep its page cache.
    func open(_ id: UInt64, flags: Int32) throws(Errno) -> (Int32, Bool) {
        let inode = try self.inode(id, rootError: Errno(EISDIR))
        let accmode = flags & O_ACCMODE
        if inode.volume.readOnly && (accmode != O_RDONLY || flags & O_TRUNC != 0) { throw Errno.readOnly }
        let openFlags = Self.backingFlags(flags) & ~(O_CREAT | O_EXCL)
        let fd = try sys { Glibc.open(inode.procPath, openFlags) }
        var st = stat()
        fstat(fd, &st)
        let stamp = Inode.CacheStamp(size: Int64(st.st_size), mtimeSec: st.st_mtim.tv_sec,
                                     mtimeNsec: st.st_mtim.tv_nsec)
        let keep = inode.cacheStamp.withLock { s -> Bool in
            defer { s = stamp }
            return s == stamp
        }
        if flags & O_TRUNC != 0 { inode.reconcile(statFD: fd) }
        inode.volume.openHandles.add(1, ordering: .relaxed)
        return (fd, keep)
    }

    /// Called on release: the page cache the kernel keeps reflects writes made through it, so
    /// the stamp after them is the one a later open compares against.
    func release(_ id: UInt64, fd: Int32, flags: Int32) {
        if let inode = table.get(id) {
            if flags & O_ACCMODE != O_RDONLY {
                var st = stat()
                if fstat(fd, &st) == 0 {
                    let stamp = Inode.CacheStamp(size: Int64(st.st_size), mtimeSec: st.st_mtim.tv_sec,
                                                 mtimeNsec: st.st_mtim.tv_nsec)
                    inode.cacheStamp.withLock { $0 = stamp }
                }
                inode.reconcile(statFD: fd)
            }
            inode.volume.openHandles.subtract(1, ordering: .relaxed)
        }
        close(fd)
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
    /// unallocated blocks (SEEK_DATA/SEEK_HOLE), so overwrites still succeed on a full volume.
    func reserveWrite(_ volume: Volume, fd: Int32, offset: Int64, length: Int64) throws(Errno) -> Int64 {
        if length <= 0 { return 0 }
        let bs = Self.blockSize
        let worst = ((offset + length + bs - 1) & ~(bs - 1)) - (offset & ~(bs - 1))
        if volume.reserve(worst) { return worst }
        let exact = Self.unallocated(fd: fd, offset: offset, length: length)
        if volume.reserve(exact) { return exact }
        throw Errno.noSpace
    }

    func fallocate(_ id: UInt64, fd: Int32, mode: Int32, offset: Int64, length: Int64) throws(Errno) {
        let inode = try writable(id)
        var reserved: Int64 = 0
        if mode & Int32(CAIRN_FALLOC_FL_PUNCH_HOLE) == 0 {
            reserved = Self.unallocated(fd: fd, offset: offset, length: length)
            guard inode.volume.reserve(reserved) else { throw Errno.noSpace }
        }
        defer {
            inode.reconcile(statFD: fd)
            inode.volume.unreserve(reserved)
        }
        _ = try sys { cairn_fallocate(fd, mode, off_t(offset), off_t(length)) }
    }

    func copyFileRange(inFD: Int32, offIn: Int64, outID: UInt64, outFD: Int32, offOut: Int64,
                       length: Int, flags: UInt32) throws(Errno) -> Int {
        let out = try writable(outID)
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

    func opendir(_ id: UInt64) throws(Errno) -> DirHandle? {
        guard case .inode(let inode) = try node(id) else { return nil }
        let fd = try sys { openat(inode.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard let stream = fdopendir(fd) else {
            let e = Errno.current
            close(fd)
            throw e
        }
        inode.volume.openHandles.add(1, ordering: .relaxed)
        return DirHandle(stream: stream, inode: inode)
    }

    func releasedir(_ handle: DirHandle) {
        handle.inode.volume.openHandles.subtract(1, ordering: .relaxed)
    }

    // MARK: - statfs

    func statfs(_ id: UInt64) throws(Errno) -> statvfs {
        var out = statvfs()
        out.f_bsize = UInt(Self.blockSize)
        out.f_frsize = UInt(Self.blockSize)
        out.f_namemax = 255
        let volumes: [Volume]
        switch try node(id) {
        case .root: volumes = registry.withLock { r in r.volumes.values.map(\.volume) }
        case .inode(let inode): volumes = [inode.volume]
        }
        var capacity: Int64 = 0, used: Int64 = 0, files: Int64 = 0, freeFiles: UInt64 = 0
        for v in volumes {
            capacity += v.capacity.load(ordering: .relaxed)
            used += max(0, v.used.load(ordering: .relaxed))
            files += max(0, v.files.load(ordering: .relaxed))
            var backing = statvfs()
            if fstatvfs(v.rootFD, &backing) == 0 {
                // Free inodes: what the backing filesystem has, but no more than one per free
                // block of this volume, so `df -i` scales with the volume, not the host disk.
                let freeBlocks = UInt64(max(0, v.capacity.load(ordering: .relaxed) - max(0, v.used.load(ordering: .relaxed))) / Self.blockSize)
                freeFiles += min(UInt64(backing.f_ffree), freeBlocks)
            }
        }
        out.f_blocks = fsblkcnt_t(capacity / Self.blockSize)
        let free = fsblkcnt_t(max(0, capacity - used) / Self.blockSize)
        out.f_bfree = free
        out.f_bavail = free
        out.f_files = fsfilcnt_t(UInt64(files) + freeFiles)
        out.f_ffree = fsfilcnt_t(freeFiles)
        out.f_favail = fsfilcnt_t(freeFiles)
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
