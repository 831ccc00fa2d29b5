import CFuse3
import Glibc

/// Knobs of the kernel protocol. The defaults are what Cairn runs with; the harness exposes
/// them so the benchmark can show what each one is worth.
public struct FileSystemTuning: Sendable, Equatable {
    /// Splice request data from /dev/fuse into the backing file (writes). Off: no measurable
    /// gain for writes here.
    public var spliceRead = false
    /// Splice backing file data into /dev/fuse (reads). On: without it libfuse mallocs (mmaps) a
    /// reply buffer per READ and copies into it; cold 1 GiB reads went from ~0.6 to ~1.1 GB/s.
    public var spliceWrite = true
    /// Kernel writeback cache. Off: with it, write() returns before Cairn sees the data, so
    /// ENOSPC could only surface at fsync/close. Only for measuring what it would be worth.
    public var writebackCache = false
    /// Worker threads. The kernel hands each request to the reader that has waited longest, so
    /// every extra idle thread makes a synchronous stream hop between threads (and caches);
    /// measured on 2 cores, 4 threads keep small-write latency near the single-thread figure
    /// while a slow backing call (an fsync of a large file) still leaves 3 threads for the
    /// node's other volumes. Idle = max, so threads are never torn down and re-created.
    public var maxThreads: UInt32 = 4
    public var maxIdleThreads: UInt32 = 4
    /// One /dev/fuse descriptor per worker thread.
    public var cloneFD = true
    public var entryTimeout: Double = 10
    public var attrTimeout: Double = 10
    /// Readahead of the FUSE mount's backing device info, set after INIT (the kernel otherwise
    /// caps it at 128 KiB).
    public var readaheadKiB: Int = 1024
    /// Re-check attributes before cached reads and drop the cache when mtime/size moved. Every
    /// change goes through this mount, so the kernel already knows; open() still compares
    /// mtime and size (keep_cache) for changes made to the backing directory directly.
    public var autoInvalidateData = false

    public init() {}
}

/// The libfuse low-level callbacks: decode the request, call `Passthrough`, reply. Every error
/// reaches the kernel through `serve`, the one place errno values become replies.
enum FuseBridge {
    static let maxWrite: UInt32 = 1 << 20

    struct Context {
        let fs: Passthrough
        let tuning: FileSystemTuning
    }

    /// What fuse_session_new's userdata points at.
    final class Box: Sendable {
        let context: Context
        init(_ context: Context) { self.context = context }
    }

    static func operations() -> fuse_lowlevel_ops { makeOperations() }
}

@inline(__always)
private func context(_ req: fuse_req_t?) -> FuseBridge.Context {
    Unmanaged<FuseBridge.Box>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue().context
}


@inline(__always)
private func serve(_ req: fuse_req_t?, _ body: (Passthrough) throws(Errno) -> Void) {
    do {
        try body(context(req).fs)
    } catch {
        fuse_reply_err(req, error.code)
    }
}

private func caller(_ req: fuse_req_t?) -> Caller {
    let ctx = fuse_req_ctx(req)!.pointee
    return Caller(uid: ctx.uid, gid: ctx.gid, umask: ctx.umask)
}

private func entry(_ fs: Passthrough, _ inode: Inode?, _ st: stat) -> fuse_entry_param {
    var e = fuse_entry_param()
    e.ino = inode.map { fuse_ino_t($0.nodeID) } ?? 0
    e.generation = 0
    e.attr = st
    e.attr_timeout = fs.attrTimeout
    e.entry_timeout = fs.entryTimeout
    return e
}

/// Replies with a new entry; if the kernel did not take it (interrupted), the lookup it
/// would have counted is dropped again.
private func replyEntry(_ req: fuse_req_t?, _ fs: Passthrough, _ made: (Inode, stat)) {
    var e = entry(fs, made.0, made.1)
    if fuse_reply_entry(req, &e) != 0 { fs.table.forget(made.0.nodeID, 1) }
}

private func fh(_ fi: UnsafeMutablePointer<fuse_file_info>?) -> Int32 {
    Int32(truncatingIfNeeded: fi!.pointee.fh)
}

private func makeOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()
    ops.`init` = { userdata, conn in
        guard let conn, let userdata else { return }
        let tuning = Unmanaged<FuseBridge.Box>.fromOpaque(userdata).takeUnretainedValue().context.tuning
        var want = conn.pointee.want
        let capable = conn.pointee.capable
        func set(_ flag: Int32, _ on: Bool) {
            let f = UInt32(bitPattern: flag)
            if on && capable & f != 0 { want |= f } else if !on { want &= ~f }
        }
        set(FUSE_CAP_DONT_MASK, true)
        set(FUSE_CAP_ASYNC_READ, true)
        set(FUSE_CAP_ASYNC_DIO, true)
        set(FUSE_CAP_PARALLEL_DIROPS, true)
        set(FUSE_CAP_AUTO_INVAL_DATA, tuning.autoInvalidateData)
        set(FUSE_CAP_ATOMIC_O_TRUNC, true)
        set(FUSE_CAP_CACHE_SYMLINKS, true)
        set(FUSE_CAP_READDIRPLUS, true)
        set(FUSE_CAP_READDIRPLUS_AUTO, true)
        set(FUSE_CAP_EXPORT_SUPPORT, false)
        // Locks stay in the kernel: one superblock serves every pod, so the kernel's own
        // POSIX, OFD and flock locks are exact and no worker thread ever blocks on a lock.
        set(FUSE_CAP_POSIX_LOCKS, false)
        set(FUSE_CAP_FLOCK_LOCKS, false)
        set(FUSE_CAP_SPLICE_READ, tuning.spliceRead)
        set(FUSE_CAP_SPLICE_WRITE, tuning.spliceWrite)
        set(FUSE_CAP_SPLICE_MOVE, tuning.spliceWrite)
        set(FUSE_CAP_WRITEBACK_CACHE, tuning.writebackCache)
        conn.pointee.want = want
        conn.pointee.max_write = FuseBridge.maxWrite
        conn.pointee.max_readahead = FuseBridge.maxWrite
        conn.pointee.max_read = FuseBridge.maxWrite
        conn.pointee.max_background = 64
        conn.pointee.congestion_threshold = 48
    }

    ops.lookup = { req, parent, name in
        serve(req) { fs throws(Errno) in
            do throws(Errno) {
                replyEntry(req, fs, try fs.lookup(parent: UInt64(parent), name: name!))
            } catch {
                guard error.code == ENOENT && parent != 1 else { throw error }
                // A negative entry the kernel may cache: every create goes through the kernel,
                // which drops it then. Saves the second lookup of open(O_CREAT) after stat.
                var e = fuse_entry_param()
                e.ino = 0
                e.entry_timeout = fs.entryTimeout
                fuse_reply_entry(req, &e)
            }
        }
    }
    ops.forget = { req, ino, nlookup in
        context(req).fs.table.forget(UInt64(ino), nlookup)
        fuse_reply_none(req)
    }
    ops.forget_multi = { req, count, forgets in
        let fs = context(req).fs
        for i in 0..<count {
            let f = forgets![i]
            fs.table.forget(UInt64(f.ino), f.nlookup)
        }
        fuse_reply_none(req)
    }
    ops.getattr = { req, ino, _ in
        serve(req) { fs throws(Errno) in
            var st = try fs.getattr(UInt64(ino))
            fuse_reply_attr(req, &st, fs.attrTimeout)
        }
    }
    ops.setattr = { req, ino, attr, toSet, fi in
        serve(req) { fs throws(Errno) in
            let handle = fi.map { Int32(truncatingIfNeeded: $0.pointee.fh) }
            var st = try fs.setattr(UInt64(ino), attr!.pointee, toSet, fh: handle)
            fuse_reply_attr(req, &st, fs.attrTimeout)
        }
    }
    ops.readlink = { req, ino in
        serve(req) { fs throws(Errno) in
            let target = try fs.readlink(UInt64(ino))
            fuse_reply_readlink(req, target)
        }
    }
    ops.mknod = { req, parent, name, mode, rdev in
        serve(req) { fs throws(Errno) in
            replyEntry(req, fs, try fs.mknod(parent: UInt64(parent), name: name!, mode: mode,
                                             rdev: rdev, caller: caller(req)))
        }
    }
    ops.mkdir = { req, parent, name, mode in
        serve(req) { fs throws(Errno) in
            replyEntry(req, fs, try fs.mkdir(parent: UInt64(parent), name: name!, mode: mode,
                                             caller: caller(req)))
        }
    }
    ops.symlink = { req, link, parent, name in
        serve(req) { fs throws(Errno) in
            replyEntry(req, fs, try fs.symlink(target: link!, parent: UInt64(parent), name: name!,
                                               caller: caller(req)))
        }
    }
    ops.unlink = { req, parent, name in
        serve(req) { fs throws(Errno) in
            try fs.remove(parent: UInt64(parent), name: name!, directory: false)
            fuse_reply_err(req, 0)
        }
    }
    ops.rmdir = { req, parent, name in
        serve(req) { fs throws(Errno) in
            try fs.remove(parent: UInt64(parent), name: name!, directory: true)
            fuse_reply_err(req, 0)
        }
    }
    ops.rename = { req, parent, name, newParent, newName, flags in
        serve(req) { fs throws(Errno) in
            try fs.rename(parent: UInt64(parent), name: name!, newParent: UInt64(newParent),
                          newName: newName!, flags: flags)
            fuse_reply_err(req, 0)
        }
    }
    ops.link = { req, ino, newParent, newName in
        serve(req) { fs throws(Errno) in
            replyEntry(req, fs, try fs.link(UInt64(ino), newParent: UInt64(newParent), newName: newName!))
        }
    }
    ops.create = { req, parent, name, mode, fi in
        serve(req) { fs throws(Errno) in
            let fi = fi!
            let (inode, st, fd) = try fs.create(parent: UInt64(parent), name: name!, mode: mode,
                                                flags: fi.pointee.flags, caller: caller(req))
            fi.pointee.fh = UInt64(fd)
            // Locks live in the kernel and there is no writeback cache: FLUSH has nothing to do.
            fi.pointee.noflush = 1
            var e = entry(fs, inode, st)
            if fuse_reply_create(req, &e, fi) != 0 {
                fs.release(inode.nodeID, fd: fd, flags: fi.pointee.flags)
                fs.table.forget(inode.nodeID, 1)
            }
        }
    }
    ops.open = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            let fi = fi!
            let (fd, keep) = try fs.open(UInt64(ino), flags: fi.pointee.flags)
            fi.pointee.fh = UInt64(fd)
            fi.pointee.keep_cache = keep ? 1 : 0
            fi.pointee.noflush = 1
            if fuse_reply_open(req, fi) != 0 { fs.release(UInt64(ino), fd: fd, flags: fi.pointee.flags) }
        }
    }
    ops.read = { req, _, size, off, fi in
        var buf = cairn_fd_bufvec(fh(fi), size, off)
        // libfuse reads the descriptor (splicing when enabled) and replies, errors included.
        fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE)
    }
    ops.write_buf = { req, ino, bufv, off, fi in
        serve(req) { fs throws(Errno) in
            let inode = try fs.writable(UInt64(ino))
            let fd = fh(fi)
            let size = fuse_buf_size(bufv)
            let reserved = try fs.reserveWrite(inode.volume, fd: fd, offset: Int64(off), length: Int64(size))
            var dst = cairn_fd_bufvec(fd, size, off)
            let n = fuse_buf_copy(&dst, bufv, fuse_buf_copy_flags(rawValue: 0))
            inode.reconcile(statFD: fd)
            inode.volume.unreserve(reserved)
            if n < 0 { throw Errno(Int32(-n)) }
            fuse_reply_write(req, n)
        }
    }
    ops.flush = { req, _, fi in
        // Like close(2) on the backing file, for filesystems that report errors there.
        let dupFD = dup(fh(fi))
        let err = dupFD >= 0 && close(dupFD) == 0 ? 0 : cairn_errno()
        fuse_reply_err(req, err)
    }
    ops.release = { req, ino, fi in
        context(req).fs.release(UInt64(ino), fd: fh(fi), flags: fi!.pointee.flags)
        fuse_reply_err(req, 0)
    }
    ops.fsync = { req, _, datasync, fi in
        serve(req) { _ throws(Errno) in
            let fd = fh(fi)
            _ = try sys { datasync != 0 ? fdatasync(fd) : fsync(fd) }
            fuse_reply_err(req, 0)
        }
    }
    ops.opendir = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            let handle = try fs.opendir(UInt64(ino))
            fi!.pointee.fh = handle.map { UInt64(UInt(bitPattern: Unmanaged.passRetained($0).toOpaque())) } ?? 0
            if fuse_reply_open(req, fi) != 0, let handle {
                fs.releasedir(handle)
                Unmanaged.passUnretained(handle).release()
            }
        }
    }
    ops.readdir = { req, ino, size, off, fi in readdir(req, ino, size, off, fi, plus: false) }
    ops.readdirplus = { req, ino, size, off, fi in readdir(req, ino, size, off, fi, plus: true) }
    ops.releasedir = { req, _, fi in
        if let handle = dirHandle(fi) {
            context(req).fs.releasedir(handle)
            Unmanaged.passUnretained(handle).release()
        }
        fuse_reply_err(req, 0)
    }
    ops.fsyncdir = { req, _, datasync, fi in
        serve(req) { _ throws(Errno) in
            if let handle = dirHandle(fi) {
                let fd = dirfd(handle.stream)
                _ = try sys { datasync != 0 ? fdatasync(fd) : fsync(fd) }
            }
            fuse_reply_err(req, 0)
        }
    }
    ops.statfs = { req, ino in
        serve(req) { fs throws(Errno) in
            var st = try fs.statfs(UInt64(ino))
            fuse_reply_statfs(req, &st)
        }
    }
    ops.setxattr = { req, ino, name, value, size, flags in
        serve(req) { fs throws(Errno) in
            guard let inode = try fs.xattrTarget(UInt64(ino), modify: true) else { throw Errno.readOnly }
            inode.noCapabilityXattr.store(false, ordering: .relaxed)
            _ = try sys { setxattr(inode.procPath, name!, value, size, flags) }
            inode.reconcile()
            fuse_reply_err(req, 0)
        }
    }
    ops.getxattr = { req, ino, name, size in
        serve(req) { fs throws(Errno) in
            guard let inode = try fs.xattrTarget(UInt64(ino), modify: false) else { throw Errno(ENODATA) }
            let isCapability = strcmp(name!, "security.capability") == 0
            if isCapability && inode.noCapabilityXattr.load(ordering: .relaxed) { throw Errno(ENODATA) }
            let buf = size == 0 ? nil : UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
            defer { buf?.deallocate() }
            let n: Int
            do throws(Errno) {
                n = try sysSize { getxattr(inode.procPath, name!, buf, size) }
            } catch {
                if isCapability && error.code == ENODATA { inode.noCapabilityXattr.store(true, ordering: .relaxed) }
                throw error
            }
            if let buf {
                fuse_reply_buf(req, buf.assumingMemoryBound(to: CChar.self), n)
            } else {
                fuse_reply_xattr(req, n)
            }
        }
    }
    ops.listxattr = { req, ino, size in
        serve(req) { fs throws(Errno) in
            guard let inode = try fs.xattrTarget(UInt64(ino), modify: false) else {
                if size == 0 { fuse_reply_xattr(req, 0) } else { fuse_reply_buf(req, nil, 0) }
                return
            }
            if size == 0 {
                let n = try sysSize { listxattr(inode.procPath, nil, 0) }
                fuse_reply_xattr(req, n)
            } else {
                let buf = UnsafeMutablePointer<CChar>.allocate(capacity: size)
                defer { buf.deallocate() }
                let n = try sysSize { listxattr(inode.procPath, buf, size) }
                fuse_reply_buf(req, buf, n)
            }
        }
    }
    ops.removexattr = { req, ino, name in
        serve(req) { fs throws(Errno) in
            guard let inode = try fs.xattrTarget(UInt64(ino), modify: true) else { throw Errno.readOnly }
            inode.noCapabilityXattr.store(false, ordering: .relaxed)
            _ = try sys { removexattr(inode.procPath, name!) }
            inode.reconcile()
            fuse_reply_err(req, 0)
        }
    }
    ops.fallocate = { req, ino, mode, offset, length, fi in
        serve(req) { fs throws(Errno) in
            try fs.fallocate(UInt64(ino), fd: fh(fi), mode: mode, offset: Int64(offset), length: Int64(length))
            fuse_reply_err(req, 0)
        }
    }
    ops.copy_file_range = { req, _, offIn, fiIn, inoOut, offOut, fiOut, len, flags in
        serve(req) { fs throws(Errno) in
            let n = try fs.copyFileRange(inFD: fh(fiIn), offIn: Int64(offIn), outID: UInt64(inoOut),
                                         outFD: fh(fiOut), offOut: Int64(offOut), length: len,
                                         flags: UInt32(bitPattern: flags))
            fuse_reply_write(req, n)
        }
    }
    ops.lseek = { req, _, off, whence, fi in
        serve(req) { _ throws(Errno) in
            let r = lseek(fh(fi), off, whence)
            if r < 0 { throw Errno.current }
            fuse_reply_lseek(req, r)
        }
    }
    return ops
}

private func dirHandle(_ fi: UnsafeMutablePointer<fuse_file_info>?) -> DirHandle? {
    guard let fi, fi.pointee.fh != 0, let raw = UnsafeRawPointer(bitPattern: UInt(fi.pointee.fh)) else { return nil }
    return Unmanaged<DirHandle>.fromOpaque(raw).takeUnretainedValue()
}

private let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

private func readdir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                    _ fi: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
    serve(req) { fs throws(Errno) in
        let buf = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { buf.deallocate() }
        var used = 0
        if UInt64(ino) == Passthrough.rootID {
            var names: [(String, UInt64)] = [(".", 1), ("..", 1)]
            names += fs.volumeNames()
            var index = Int(off)
            while index < names.count {
                let (name, id) = names[index]
                var st = stat()
                st.st_ino = ino_t(id)
                st.st_mode = S_IFDIR
                let need: Int
                var looked: Inode? = nil
                if plus {
                    var e = fuse_entry_param()
                    e.attr = st
                    if index >= 2, let made = try? fs.lookup(parent: 1, name: name) {
                        looked = made.0
                        e = entry(fs, made.0, made.1)
                    }
                    need = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, off_t(index + 1))
                } else {
                    need = fuse_add_direntry(req, buf + used, size - used, name, &st, off_t(index + 1))
                }
                if need > size - used {
                    if let looked { fs.table.forget(looked.nodeID, 1) }
                    break
                }
                used += need
                index += 1
            }
        } else {
            guard let handle = dirHandle(fi) else { throw Errno(EBADF) }
            try handle.position.withLock { (position: inout Int64) throws(Errno) in
                if off != position {
                    seekdir(handle.stream, Int(off))
                    position = Int64(off)
                }
                while true {
                    cairn_set_errno(0)
                    guard let ent = Glibc.readdir(handle.stream) else {
                        if cairn_errno() != 0 && used == 0 { throw Errno.current }
                        break
                    }
                    let nextOff = ent.pointee.d_off
                    let name = UnsafeRawPointer(ent).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
                    let isDot = name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
                    let need: Int
                    var looked: Inode? = nil
                    if plus {
                        var e = fuse_entry_param()
                        e.attr.st_ino = ent.pointee.d_ino
                        e.attr.st_mode = mode_t(ent.pointee.d_type) << 12
                        if !isDot {
                            guard let made = try? fs.child(of: handle.inode, name: name, fresh: false) else {
                                position = Int64(nextOff)
                                continue  // gone since readdir saw it
                            }
                            looked = made.0
                            e = entry(fs, made.0, made.1)
                        }
                        need = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, nextOff)
                    } else {
                        var st = stat()
                        st.st_ino = ent.pointee.d_ino
                        st.st_mode = mode_t(ent.pointee.d_type) << 12
                        need = fuse_add_direntry(req, buf + used, size - used, name, &st, nextOff)
                    }
                    // The stream has moved past this entry whether or not it fits.
                    position = Int64(nextOff)
                    if need > size - used {
                        if let looked { fs.table.forget(looked.nodeID, 1) }
                        break
                    }
                    used += need
                }
            }
        }
        fuse_reply_buf(req, buf, used)
    }
}

