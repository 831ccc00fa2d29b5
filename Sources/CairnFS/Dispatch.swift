import CFuseKernel
import Glibc

/// Decodes each request, calls `Passthrough`, replies. Every error reaches the kernel through
/// `serve`, the one place errno values become replies; nothing here traps on a request.
struct Dispatcher {
    let fs: Passthrough

    func handle(_ req: Request, _ reply: Replier) {
        let unique = req.unique
        do throws(Errno) {
            try dispatch(req, reply)
        } catch {
            reply.fail(unique, error)
        }
    }

    private func caller(_ req: Request, umask: UInt32) -> Caller {
        Caller(uid: req.uid, gid: req.gid, umask: mode_t(umask))
    }

    private func entry(_ inode: Inode?, _ st: stat) -> cfk_entry_out {
        var e = cfk_entry_out()
        e.nodeid = inode?.nodeID ?? 0
        e.generation = inode.map { fs.table.generation(of: $0) } ?? 0
        (e.entry_valid, e.entry_valid_nsec) = Attr.validity(fs.entryTimeout)
        (e.attr_valid, e.attr_valid_nsec) = Attr.validity(fs.attrTimeout)
        e.attr = Attr.from(st)
        return e
    }

    /// Replies with a new entry; if the kernel did not take it (interrupted, or a resent request
    /// already answered), the lookup it would have counted is dropped again.
    private func replyEntry(_ req: Request, _ reply: Replier, _ made: (Inode, stat)) {
        if reply.send(req.unique, entry(made.0, made.1)) != 0 { fs.table.forget(made.0.nodeID, 1) }
    }

    private func replyAttr(_ req: Request, _ reply: Replier, _ st: stat) {
        var out = cfk_attr_out()
        (out.attr_valid, out.attr_valid_nsec) = Attr.validity(fs.attrTimeout)
        out.attr = Attr.from(st)
        reply.send(req.unique, out)
    }

    private func need<T>(_ value: T?) throws(Errno) -> T {
        guard let value else { throw Errno.invalid }
        return value
    }

    private func dispatch(_ req: Request, _ reply: Replier) throws(Errno) {
        let unique = req.unique
        let node = req.nodeID
        let replay = req.isResend
        switch Int(req.opcode) {
        case CFK_LOOKUP:
            let name = try need(req.name(at: 0))
            do throws(Errno) {
                replyEntry(req, reply, try fs.lookup(parent: node, name: name))
            } catch {
                guard error.code == ENOENT && node != Passthrough.rootID else { throw error }
                // A negative entry the kernel may cache: every create goes through the kernel,
                // which drops it then. Saves the second lookup of open(O_CREAT) after stat.
                var e = cfk_entry_out()
                (e.entry_valid, e.entry_valid_nsec) = Attr.validity(fs.entryTimeout)
                reply.send(unique, e)
            }

        case CFK_FORGET:
            if let f = req.arg(cfk_forget_in.self) { fs.table.forget(node, f.nlookup) }

        case CFK_BATCH_FORGET:
            guard let b = req.arg(cfk_batch_forget_in.self) else { return }
            let size = MemoryLayout<cfk_forget_one>.size
            for i in 0..<Int(b.count) {
                guard let one = req.arg(cfk_forget_one.self, at: 8 + i * size) else { break }
                fs.table.forget(one.nodeid, one.nlookup)
            }

        case CFK_GETATTR:
            replyAttr(req, reply, try fs.getattr(node))

        case CFK_SETATTR:
            let a = try need(req.arg(cfk_setattr_in.self))
            var change = Passthrough.AttrChange(valid: a.valid)
            change.mode = mode_t(a.mode)
            change.uid = a.uid
            change.gid = a.gid
            change.size = Int64(bitPattern: a.size)
            change.atime = timespec(tv_sec: Int(Int64(bitPattern: a.atime)), tv_nsec: Int(a.atimensec))
            change.mtime = timespec(tv_sec: Int(Int64(bitPattern: a.mtime)), tv_nsec: Int(a.mtimensec))
            if a.valid & UInt32(CFK_FATTR_FH) != 0 { change.fh = a.fh }
            replyAttr(req, reply, try fs.setattr(node, change))

        case CFK_READLINK:
            let n = try fs.readlink(node, into: reply.payload.assumingMemoryBound(to: CChar.self),
                                    capacity: min(reply.payloadCapacity, Int(PATH_MAX)))
            reply.send(unique, count: n)

        case CFK_SYMLINK:
            let name = try need(req.name(at: 0))
            let target = try need(req.name(at: strlen(name) + 1))
            replyEntry(req, reply, try fs.symlink(target: target, parent: node, name: name,
                                                  caller: caller(req, umask: 0), replay: replay))

        case CFK_MKNOD:
            let a = try need(req.arg(cfk_mknod_in.self))
            let name = try need(req.name(at: MemoryLayout<cfk_mknod_in>.size))
            replyEntry(req, reply, try fs.mknod(parent: node, name: name, mode: mode_t(a.mode), rdev: dev_t(a.rdev),
                                                caller: caller(req, umask: a.umask), replay: replay))

        case CFK_MKDIR:
            let a = try need(req.arg(cfk_mkdir_in.self))
            let name = try need(req.name(at: MemoryLayout<cfk_mkdir_in>.size))
            replyEntry(req, reply, try fs.mkdir(parent: node, name: name, mode: mode_t(a.mode),
                                                caller: caller(req, umask: a.umask), replay: replay))

        case CFK_UNLINK, CFK_RMDIR:
            let name = try need(req.name(at: 0))
            try fs.remove(parent: node, name: name, directory: Int(req.opcode) == CFK_RMDIR, replay: replay)
            reply.send(unique)

        case CFK_RENAME:
            let a = try need(req.arg(cfk_rename_in.self))
            let old = try need(req.name(at: 8))
            let new = try need(req.name(at: 8 + strlen(old) + 1))
            try fs.rename(parent: node, name: old, newParent: a.newdir, newName: new, flags: 0, replay: replay)
            reply.send(unique)

        case CFK_RENAME2:
            let a = try need(req.arg(cfk_rename2_in.self))
            let old = try need(req.name(at: 16))
            let new = try need(req.name(at: 16 + strlen(old) + 1))
            try fs.rename(parent: node, name: old, newParent: a.newdir, newName: new, flags: a.flags, replay: replay)
            reply.send(unique)

        case CFK_LINK:
            let a = try need(req.arg(cfk_link_in.self))
            let name = try need(req.name(at: 8))
            replyEntry(req, reply, try fs.link(a.oldnodeid, newParent: node, newName: name, replay: replay))

        case CFK_OPEN:
            let a = try need(req.arg(cfk_open_in.self))
            let opened = try fs.open(node, flags: Int32(bitPattern: a.flags),
                                     killSuidgid: a.open_flags & UInt32(CFK_OPEN_KILL_SUIDGID) != 0)
            let out = cfk_open_out(fh: opened.fh, open_flags: opened.openFlags, backing_id: opened.backingID)
            if reply.send(unique, out) != 0 { fs.release(opened.fh) }

        case CFK_CREATE:
            let a = try need(req.arg(cfk_create_in.self))
            let name = try need(req.name(at: MemoryLayout<cfk_create_in>.size))
            let (inode, st, opened) = try fs.create(parent: node, name: name, mode: mode_t(a.mode),
                                                    flags: Int32(bitPattern: a.flags),
                                                    killSuidgid: a.open_flags & UInt32(CFK_OPEN_KILL_SUIDGID) != 0,
                                                    caller: caller(req, umask: a.umask), replay: replay)
            let e = entry(inode, st)
            reply.payload.storeBytes(of: e, as: cfk_entry_out.self)
            (reply.payload + MemoryLayout<cfk_entry_out>.size).storeBytes(
                of: cfk_open_out(fh: opened.fh, open_flags: opened.openFlags, backing_id: opened.backingID),
                as: cfk_open_out.self)
            if reply.send(unique, count: MemoryLayout<cfk_entry_out>.size + MemoryLayout<cfk_open_out>.size) != 0 {
                fs.release(opened.fh)
                fs.table.forget(inode.nodeID, 1)
            }

        case CFK_READ:
            let a = try need(req.arg(cfk_read_in.self))
            let fd = try fs.files.fd(a.fh)
            let size = min(Int(a.size), reply.payloadCapacity)
            let n = try sysSize { pread(fd, reply.payload, size, off_t(Int64(bitPattern: a.offset))) }
            reply.send(unique, count: n)

        case CFK_WRITE:
            let a = try need(req.arg(cfk_write_in.self))
            let dataOffset = MemoryLayout<cfk_write_in>.size
            guard dataOffset + Int(a.size) <= req.bodyLength else { throw Errno.invalid }
            let n = try fs.write(node, fh: a.fh, offset: Int64(bitPattern: a.offset), data: req.body + dataOffset,
                                 count: Int(a.size),
                                 killSuidgid: a.write_flags & UInt32(CFK_WRITE_KILL_SUIDGID) != 0)
            reply.send(unique, cfk_write_out(size: UInt32(n), padding: 0))

        case CFK_STATFS:
            reply.send(unique, try fs.statfs(node))

        case CFK_RELEASE:
            if let a = req.arg(cfk_release_in.self) { fs.release(a.fh) }
            reply.send(unique)

        case CFK_FSYNC:
            let a = try need(req.arg(cfk_fsync_in.self))
            let fd = try fs.files.fd(a.fh)
            _ = try sys { a.fsync_flags & UInt32(CFK_FSYNC_FDATASYNC) != 0 ? fdatasync(fd) : fsync(fd) }
            // Passthrough writes reach the daemon's accounting here and at release.
            if let entry = fs.files.entry(a.fh), entry.mode == .passthrough { entry.inode.reconcile(statFD: fd) }
            reply.send(unique)

        case CFK_FLUSH:
            // Like close(2) on the backing file, for filesystems that report errors there.
            if let a = req.arg(cfk_flush_in.self), let fd = try? fs.files.fd(a.fh) {
                let copy = dup(fd)
                if copy >= 0 && close(copy) != 0 { throw Errno.current }
            }
            reply.send(unique)

        case CFK_OPENDIR:
            let fh = try fs.opendir(node)
            // Directory listings change with every create: no kernel cache of them.
            if reply.send(unique, cfk_open_out(fh: fh, open_flags: 0, backing_id: 0)) != 0 { fs.releasedir(fh) }

        case CFK_READDIR, CFK_READDIRPLUS:
            let a = try need(req.arg(cfk_read_in.self))
            let n = try readdir(node, fh: a.fh, offset: Int64(bitPattern: a.offset),
                                size: min(Int(a.size), reply.payloadCapacity), into: reply.payload,
                                plus: Int(req.opcode) == CFK_READDIRPLUS)
            reply.send(unique, count: n)

        case CFK_RELEASEDIR:
            if let a = req.arg(cfk_release_in.self) { fs.releasedir(a.fh) }
            reply.send(unique)

        case CFK_FSYNCDIR:
            let a = try need(req.arg(cfk_fsync_in.self))
            if let handle = fs.dirHandle(a.fh) {
                let fd = dirfd(handle.stream)
                _ = try sys { a.fsync_flags & UInt32(CFK_FSYNC_FDATASYNC) != 0 ? fdatasync(fd) : fsync(fd) }
            }
            reply.send(unique)

        case CFK_SETXATTR:
            try handleSetxattr(req, reply)

        case CFK_GETXATTR:
            let a = try need(req.arg(cfk_getxattr_in.self))
            let name = try need(req.name(at: MemoryLayout<cfk_getxattr_in>.size))
            guard let inode = try fs.xattrTarget(node, modify: false) else { throw Errno(ENODATA) }
            let size = Int(a.size)
            if size == 0 {
                let n = try sysSize { getxattr(inode.procPath, name, nil, 0) }
                reply.send(unique, cfk_getxattr_out(size: UInt32(n), padding: 0))
            } else {
                let n = try sysSize { getxattr(inode.procPath, name, reply.payload, min(size, reply.payloadCapacity)) }
                reply.send(unique, count: n)
            }

        case CFK_LISTXATTR:
            let a = try need(req.arg(cfk_getxattr_in.self))
            let size = Int(a.size)
            guard let inode = try fs.xattrTarget(node, modify: false) else {
                if size == 0 { reply.send(unique, cfk_getxattr_out(size: 0, padding: 0)) } else { reply.send(unique) }
                return
            }
            if size == 0 {
                let n = try sysSize { listxattr(inode.procPath, nil, 0) }
                reply.send(unique, cfk_getxattr_out(size: UInt32(n), padding: 0))
            } else {
                let n = try sysSize { listxattr(inode.procPath, reply.payload.assumingMemoryBound(to: CChar.self),
                                                min(size, reply.payloadCapacity)) }
                reply.send(unique, count: n)
            }

        case CFK_REMOVEXATTR:
            let name = try need(req.name(at: 0))
            guard let inode = try fs.xattrTarget(node, modify: true) else { throw Errno.readOnly }
            _ = try sys { removexattr(inode.procPath, name) }
            inode.reconcile()
            reply.send(unique)

        case CFK_FALLOCATE:
            let a = try need(req.arg(cfk_fallocate_in.self))
            try fs.fallocate(node, fh: a.fh, mode: Int32(bitPattern: a.mode), offset: Int64(bitPattern: a.offset),
                             length: Int64(bitPattern: a.length))
            reply.send(unique)

        case CFK_COPY_FILE_RANGE:
            let a = try need(req.arg(cfk_copy_file_range_in.self))
            let n = try fs.copyFileRange(inFH: a.fh_in, offIn: Int64(bitPattern: a.off_in), outID: a.nodeid_out,
                                         outFH: a.fh_out, offOut: Int64(bitPattern: a.off_out),
                                         length: Int(min(a.len, UInt64(Int32.max))), flags: UInt32(truncatingIfNeeded: a.flags))
            reply.send(unique, cfk_write_out(size: UInt32(n), padding: 0))

        case CFK_LSEEK:
            let a = try need(req.arg(cfk_lseek_in.self))
            let fd = try fs.files.fd(a.fh)
            let r = lseek(fd, off_t(Int64(bitPattern: a.offset)), Int32(a.whence))
            if r < 0 { throw Errno.current }
            reply.send(unique, cfk_lseek_out(offset: UInt64(r)))

        case CFK_INTERRUPT, CFK_NOTIFY_REPLY:
            // Every call here is a short syscall; nothing to interrupt. No reply is expected.
            return

        case CFK_DESTROY:
            reply.send(unique)

        default:
            // ACCESS (default_permissions checks in the kernel), locks (kept in the kernel), IOCTL,
            // POLL, BMAP, STATX (the kernel falls back to GETATTR), TMPFILE, COPY_FILE_RANGE_64...
            throw Errno(ENOSYS)
        }
    }

    private func handleSetxattr(_ req: Request, _ reply: Replier) throws(Errno) {
        // FUSE_SETXATTR_EXT is not negotiated: the 8-byte compat header (size, flags).
        guard let size = req.arg(UInt32.self, at: 0), let flags = req.arg(UInt32.self, at: 4) else { throw Errno.invalid }
        let headerSize = Int(CFK_COMPAT_SETXATTR_IN_SIZE)
        let name = try need(req.name(at: headerSize))
        let valueOffset = headerSize + strlen(name) + 1
        guard valueOffset + Int(size) <= req.bodyLength else { throw Errno.invalid }
        guard let inode = try fs.xattrTarget(req.nodeID, modify: true) else { throw Errno.readOnly }
        _ = try sys { setxattr(inode.procPath, name, req.body + valueOffset, Int(size), Int32(bitPattern: flags)) }
        inode.reconcile()
        reply.send(req.unique)
    }

    // MARK: - readdir

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    private func readdir(_ node: UInt64, fh: UInt64, offset: Int64, size: Int, into buf: UnsafeMutableRawPointer,
                         plus: Bool) throws(Errno) -> Int {
        var used = 0
        if node == Passthrough.rootID {
            var names: [(String, UInt64)] = [(".", 1), ("..", 1)]
            names += fs.volumeNames()
            var index = Int(offset)
            while index < names.count {
                let (name, id) = names[index]
                var st = stat()
                st.st_ino = ino_t(id)
                st.st_mode = S_IFDIR
                var e: cfk_entry_out? = nil
                var looked: Inode? = nil
                if plus {
                    var plain = cfk_entry_out()
                    plain.attr = Attr.from(st)
                    e = plain
                    var made: (Inode, stat)? = nil
                    if index >= 2 { name.withCString { p in made = try? fs.lookup(parent: 1, name: p) } }
                    if let made {
                        looked = made.0
                        e = entry(made.0, made.1)
                    }
                }
                let need = name.withCString { p in
                    DirentPacking.add(buf + used, room: size - used, name: p, nameLength: strlen(p), ino: id,
                                      type: UInt32(DT_DIR), nextOffset: UInt64(index + 1), entry: e)
                }
                if need == 0 {
                    if let looked { fs.table.forget(looked.nodeID, 1) }
                    break
                }
                used += need
                index += 1
            }
            return used
        }
        guard let handle = fs.dirHandle(fh) else { throw Errno(EBADF) }
        try handle.position.withLock { (position: inout Int64) throws(Errno) in
            if offset != position {
                seekdir(handle.stream, Int(offset))
                position = offset
            }
            while true {
                cairn_set_errno(0)
                guard let ent = Glibc.readdir(handle.stream) else {
                    if cairn_errno() != 0 && used == 0 { throw Errno.current }
                    break
                }
                let nextOff = ent.pointee.d_off
                let name = UnsafeRawPointer(ent).advanced(by: Self.nameOffset).assumingMemoryBound(to: CChar.self)
                let isDot = name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
                var e: cfk_entry_out? = nil
                var looked: Inode? = nil
                if plus {
                    // "." and ".." carry no entry (node id 0): the kernel skips them.
                    var plain = cfk_entry_out()
                    plain.attr.ino = UInt64(ent.pointee.d_ino)
                    plain.attr.mode = UInt32(ent.pointee.d_type) << 12
                    e = plain
                    if !isDot {
                        guard let made = try? fs.child(of: handle.inode, name: name, fresh: false) else {
                            position = Int64(nextOff)
                            continue  // gone since readdir saw it
                        }
                        looked = made.0
                        e = entry(made.0, made.1)
                    }
                }
                let need = DirentPacking.add(buf + used, room: size - used, name: name, nameLength: strlen(name),
                                             ino: UInt64(ent.pointee.d_ino), type: UInt32(ent.pointee.d_type),
                                             nextOffset: UInt64(bitPattern: Int64(nextOff)), entry: e)
                // The stream has moved past this entry whether or not it fits; one that does not is
                // asked for again at its offset, which differs from `position` and seeks back.
                position = Int64(nextOff)
                if need == 0 {
                    if let looked { fs.table.forget(looked.nodeID, 1) }
                    break
                }
                used += need
            }
        }
        return used
    }
}
