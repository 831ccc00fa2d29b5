import CFuseKernel
import Glibc
import Synchronization

/// Identity of a backing inode within one attached volume.
struct InodeKey: Hashable {
    let volume: UInt32
    let dev: UInt64
    let ino: UInt64
}

/// How the kernel does I/O on one open file (the kernel's per-inode rule: while any open of an
/// inode is passthrough, every open of it must be; while any is cached, none may be).
enum IOMode: UInt32, Sendable {
    /// Through the daemon, with the FUSE page cache (reads cached, writes written through).
    case cached = 0
    /// read/write/splice/mmap served by the kernel from the backing file.
    case passthrough = 1
    /// Passthrough for mmap, but read and write through the daemon (FOPEN_DIRECT_IO overrides
    /// FOPEN_PASSTHROUGH): a write open of an inode that already has passthrough opens, where the
    /// daemon must see the writes to enforce the capacity.
    case passthroughDirect = 2
}

/// A backing inode the kernel knows by a node id.
///
/// Holds an O_PATH|O_NOFOLLOW descriptor opened relative to its parent's descriptor, so no later
/// call ever resolves a path again: the descriptor stays on this inode whatever the pod renames or
/// replaces with symlinks. The descriptor is closed in deinit, after the last operation that
/// retained the object finished, so a descriptor number is never reused under a running call.
/// After a daemon takeover the descriptor comes from the inode's file handle; an inode that
/// cannot be reopened that way (removed while no daemon held it) has `fd == -1` and answers ESTALE.
final class Inode: @unchecked Sendable {
    struct Accounting {
        /// Allocated bytes of this inode that were last added to the volume's usage.
        var bytes: Int64
        /// Bytes taken out of the usage when the last name went away (the inode lives on while open).
        var excluded: Int64 = 0
        var orphan = false
    }

    struct CacheStamp: Equatable {
        var size: Int64
        var mtimeSec: Int
        var mtimeNsec: Int
    }

    /// Opens of this inode by I/O mode, the passthrough backing id, and the cache stamp.
    struct IOState {
        var cached = 0
        var passthrough = 0
        var passthroughDirect = 0
        var writable = 0
        /// Registered with FUSE_DEV_IOC_BACKING_OPEN on first passthrough open; kept until the
        /// inode is forgotten, since every passthrough open of an inode must name the same one.
        var backingID: Int32 = 0
        /// Size and mtime when the last handle was opened or closed; decides keep_cache.
        var stamp: CacheStamp?
        var opens: Int { cached + passthrough + passthroughDirect }

        mutating func count(_ mode: IOMode, writable isWriter: Bool, by n: Int) {
            switch mode {
            case .cached: cached += n
            case .passthrough: passthrough += n
            case .passthroughDirect: passthroughDirect += n
            }
            if isWriter { writable += n }
        }
    }

    let nodeID: UInt64
    let slot: Int
    let record: InodeRecord
    let fd: Int32
    let key: InodeKey
    let volume: Volume
    /// S_IFMT bits; a file's type never changes.
    let type: mode_t
    let hooks: InodeHooks
    /// The holder keeps a copy of the descriptor (unlinked while open; see HolderClient.Kind.orphan).
    let pinnedByHolder = Atomic<Bool>(false)

    /// Guards `Accounting`. Held across the fstat that reads the new size, so concurrent
    /// reconciles of the same inode apply their deltas in order. Leaf lock: nothing else is taken
    /// while holding it except the volume's atomics.
    let accounting: Mutex<Accounting>
    /// Leaf lock.
    let io = Mutex(IOState())

    init(nodeID: UInt64, slot: Int, record: InodeRecord, fd: Int32, key: InodeKey, volume: Volume,
         type: mode_t, countedBytes: Int64, hooks: InodeHooks) {
        self.nodeID = nodeID
        self.slot = slot
        self.record = record
        self.fd = fd
        self.key = key
        self.volume = volume
        self.type = type
        self.hooks = hooks
        let orphan = record.flags & InodeRecord.orphanFlag != 0
        self.accounting = Mutex(Accounting(bytes: countedBytes, excluded: record.excludedBytes, orphan: orphan))
        let backing = record.backingID
        if backing != 0 { io.withLock { $0.backingID = backing } }
    }

    deinit {
        let remaining = accounting.withLock { a -> Int64 in a.orphan ? a.bytes - a.excluded : 0 }
        if remaining != 0 { volume.account(-remaining) }
        let backing = io.withLock { $0.backingID }
        if backing != 0 { hooks.closeBacking(backing) }
        if pinnedByHolder.load(ordering: .relaxed) { hooks.unpin(id: pinID) }
        if fd >= 0 { close(fd) }
    }

    /// With daemon accounting: holes must not appear (see OpenPolicy).
    var hasPassthroughOpens: Bool {
        !volume.kernelQuota && io.withLock { $0.passthrough + $0.passthroughDirect > 0 }
    }

    var pinID: UInt64 { InodeHooks.pinID(slot: slot, generation: record.generation) }

    /// The last name went while the kernel still has the file open: let the holder keep the
    /// inode alive too, so a daemon crash does not free it under its users.
    func pinWhileOpen() {
        guard fd >= 0, io.withLock({ $0.opens > 0 }), !pinnedByHolder.load(ordering: .relaxed) else { return }
        if hooks.pin(fd, id: pinID) { pinnedByHolder.store(true, ordering: .relaxed) }
    }

    var isDirectory: Bool { type == S_IFDIR }
    var isSymlink: Bool { type == S_IFLNK }
    var isRegular: Bool { type == S_IFREG }

    /// "/proc/self/fd/N": the few calls that have no fd or *at() form (open of an O_PATH inode,
    /// chmod, truncate, xattrs) go through the magic link, which names this exact inode.
    var procPath: String { "/proc/self/fd/\(fd)" }

    func checkAlive() throws(Errno) {
        if fd < 0 { throw Errno.stale }
    }

    func stat() throws(Errno) -> Glibc.stat {
        try checkAlive()
        var st = Glibc.stat()
        _ = try sys { fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) }
        return st
    }

    /// Re-reads allocated bytes (from `statFD` if given, an open descriptor of this inode) and
    /// adds the change to the volume's usage. Idempotent; safe to call from any thread. Volumes
    /// with project quotas take usage from the kernel's quota and skip this.
    func reconcile(statFD: Int32? = nil) {
        guard !volume.kernelCounts, fd >= 0 else { return }
        accounting.withLock { a in
            var st = Glibc.stat()
            let r = statFD.map { fstat($0, &st) } ?? fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH))
            guard r == 0 else { return }
            let now = Int64(st.st_blocks) * 512
            let delta = now - a.bytes
            guard delta != 0 else { return }
            // Usage first, then the record: a daemon dying in between counts the delta twice at
            // worst (the next reconcile after a takeover sees the old record value), never loses it.
            volume.account(delta)
            a.bytes = now
            record.countedBytes = now
        }
    }

    /// The last name of this inode was removed: it no longer counts, as for `du`, although its
    /// blocks stay allocated until every descriptor is closed. Growth while orphaned still counts
    /// until the inode is forgotten.
    func orphaned() {
        accounting.withLock { a in
            guard !a.orphan else { return }
            a.orphan = true
            a.excluded = a.bytes
            record.excludedBytes = a.bytes
            record.flags |= InodeRecord.orphanFlag
            volume.account(-a.bytes)
        }
    }
}

/// Node id to inode, and backing identity to node id.
///
/// Node ids are record slots of the session memory plus 2 (1 is the virtual root), so a daemon
/// that takes the connection over finds every id the kernel holds in the same place. A slot is
/// reused only after the kernel forgot its id (lookup count 0); its generation then grows.
///
/// One mutex guards the in-process maps, every record's lookup count and pin, and the free list.
/// It is held only for dictionary work, never across a syscall, and no other lock is taken while
/// holding it.
final class InodeTable: @unchecked Sendable {
    private struct State {
        var objects: [Inode?] = []
        var byKey: [InodeKey: Int] = [:]
        var free: [Int] = []
        var highWater = 0
    }

    private let state = Mutex(State())
    let memory: SessionMemory
    let hooks: InodeHooks

    init(memory: SessionMemory, hooks: InodeHooks) {
        self.memory = memory
        self.hooks = hooks
    }

    static func nodeID(slot: Int) -> UInt64 { UInt64(slot) + 2 }
    static func slot(of nodeID: UInt64) -> Int? {
        nodeID >= 2 && nodeID - 2 < UInt64(SessionMemory.maxInodes) ? Int(nodeID - 2) : nil
    }

    func get(_ nodeID: UInt64) -> Inode? {
        guard let slot = Self.slot(of: nodeID) else { return nil }
        return state.withLock { s in slot < s.objects.count ? s.objects[slot] : nil }
    }

    func find(_ key: InodeKey) -> Inode? {
        state.withLock { s in s.byKey[key].flatMap { s.objects[$0] } }
    }

    var count: Int { state.withLock { $0.byKey.count } }

    func generation(of inode: Inode) -> UInt64 { inode.record.generation }

    /// Returns the inode for `st` with `lookups` more kernel lookups counted, creating it around
    /// `fd` if new. Takes ownership of `fd`: it is closed if an inode for the same backing identity
    /// already exists. `accounted`: whether the inode's current blocks are already part of the
    /// volume's usage (found by the scan, or looked up again); a fresh inode starts at zero.
    func insertOrRef(fd: Int32, stat st: stat, volume: Volume, accounted: Bool = true,
                     lookups: UInt64 = 1, pinned: Bool = false) throws(Errno) -> Inode {
        let key = InodeKey(volume: volume.serial, dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        if let existing = ref(key: key, lookups: lookups, pinned: pinned) {
            close(fd)
            return existing
        }
        // The handle is taken outside the lock (a syscall); losing a race to another thread that
        // inserted the same inode just discards it.
        var handleType: Int32 = 0
        var handle = [UInt8](repeating: 0, count: InodeRecord.handleCapacity)
        let handleSize = cairn_handle_of(fd, &handleType, &handle, UInt32(InodeRecord.handleCapacity), nil)
        let counted = accounted ? Int64(st.st_blocks) * 512 : 0
        let result = state.withLock { s -> (Inode, Bool)? in
            if let slot = s.byKey[key], let e = s.objects[slot] {
                e.record.lookups += lookups
                if pinned { e.record.flags |= InodeRecord.pinnedFlag }
                return (e, true)
            }
            let slot: Int
            if let f = s.free.popLast() {
                slot = f
            } else {
                guard s.highWater < SessionMemory.maxInodes else { return nil }
                slot = s.highWater
                s.highWater += 1
                memory.header.inodeHighWater = s.highWater
                s.objects.append(nil)
            }
            let record = memory.inode(slot)
            record.lookups = lookups
            record.generation &+= 1
            record.volumeSlot = Int32(volume.slot)
            record.volumeSerial = volume.serial
            record.dev = key.dev
            record.ino = key.ino
            record.countedBytes = counted
            record.excludedBytes = 0
            record.type = UInt32(st.st_mode & S_IFMT)
            record.flags = pinned ? InodeRecord.pinnedFlag : 0
            record.backingID = 0
            record.handleType = handleType
            record.handleSize = handleSize > 0 ? UInt32(handleSize) : 0
            if handleSize > 0 { handle.withUnsafeBufferPointer { record.handle.update(from: $0.baseAddress!, count: Int(handleSize)) } }
            record.state = 1
            let inode = Inode(nodeID: Self.nodeID(slot: slot), slot: slot, record: record, fd: fd, key: key,
                              volume: volume, type: st.st_mode & S_IFMT, countedBytes: counted,
                              hooks: hooks)
            s.objects[slot] = inode
            s.byKey[key] = slot
            return (inode, false)
        }
        guard let (inode, duplicate) = result else {
            close(fd)
            throw Errno(ENFILE)
        }
        if duplicate { close(fd) }
        return inode
    }

    /// Adds lookups to the inode with this identity, if known.
    private func ref(key: InodeKey, lookups: UInt64, pinned: Bool) -> Inode? {
        state.withLock { s in
            guard let slot = s.byKey[key], let e = s.objects[slot] else { return nil }
            e.record.lookups += lookups
            if pinned { e.record.flags |= InodeRecord.pinnedFlag }
            return e
        }
    }

    /// Adds kernel lookups to a known inode (volume roots).
    func ref(_ nodeID: UInt64) {
        guard let slot = Self.slot(of: nodeID) else { return }
        state.withLock { s in
            if slot < s.objects.count, let e = s.objects[slot] { e.record.lookups += 1 }
        }
    }

    func forget(_ nodeID: UInt64, _ n: UInt64) {
        guard let slot = Self.slot(of: nodeID) else { return }
        // The inode is released outside the lock: its deinit closes a descriptor.
        let dropped: Inode? = state.withLock { s in
            guard slot < s.objects.count, let e = s.objects[slot] else { return nil }
            let r = e.record
            r.lookups = r.lookups > n ? r.lookups - n : 0
            if r.lookups == 0 && r.flags & InodeRecord.pinnedFlag == 0 { return remove(&s, slot, e) }
            return nil
        }
        _ = dropped
    }

    func unpin(_ nodeID: UInt64) {
        guard let slot = Self.slot(of: nodeID) else { return }
        let dropped: Inode? = state.withLock { s in
            guard slot < s.objects.count, let e = s.objects[slot] else { return nil }
            e.record.flags &= ~InodeRecord.pinnedFlag
            if e.record.lookups == 0 { return remove(&s, slot, e) }
            return nil
        }
        _ = dropped
    }

    private func remove(_ s: inout State, _ slot: Int, _ e: Inode) -> Inode {
        e.record.state = 0
        s.objects[slot] = nil
        s.byKey[e.key] = nil
        s.free.append(slot)
        return e
    }

    /// Rebuilds the maps from the session memory after a takeover: every live record becomes an
    /// inode again, reopened from its file handle relative to its volume (`open` returns the new
    /// O_PATH descriptor, or -1 if the inode is gone). Records of volumes no longer attached stay
    /// (on `detached`, a placeholder) so the ids the kernel still holds answer ESTALE until it
    /// forgets them.
    func restore(volumes: [Int: Volume], detached: (InodeRecord) -> Volume,
                 open: (Int, InodeRecord, Volume) -> Int32) -> (restored: Int, stale: Int) {
        var restored = 0, stale = 0
        let high = memory.header.inodeHighWater
        var objects = [Inode?](repeating: nil, count: high)
        var byKey: [InodeKey: Int] = [:]
        var free: [Int] = []
        for slot in 0..<high {
            let r = memory.inode(slot)
            guard r.state == 1 else {
                free.append(slot)
                continue
            }
            let volume: Volume
            var fd: Int32 = -1
            if let v = volumes[Int(r.volumeSlot)], v.serial == r.volumeSerial {
                volume = v
                fd = open(slot, r, v)
            } else {
                volume = detached(r)
            }
            if fd < 0 { stale += 1 } else { restored += 1 }
            let key = InodeKey(volume: volume.serial, dev: r.dev, ino: r.ino)
            let inode = Inode(nodeID: Self.nodeID(slot: slot), slot: slot, record: r, fd: fd, key: key,
                              volume: volume, type: mode_t(r.type), countedBytes: r.countedBytes,
                              hooks: hooks)
            objects[slot] = inode
            if fd >= 0 { byKey[key] = slot }
        }
        state.withLock { s in
            s.objects = objects
            s.byKey = byKey
            s.free = free.reversed()
            s.highWater = high
        }
        return (restored, stale)
    }
}
