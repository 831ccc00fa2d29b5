import CFuseKernel
import Glibc
import Synchronization

/// Decides how the kernel does I/O on a new open. Pure: tested by a table.
///
/// - With project quotas the kernel enforces the capacity at every write, so every open is
///   passthrough.
/// - With daemon accounting only read-only opens are passthrough (the daemon must see every
///   write), and a write open of an inode that has passthrough opens gets passthrough for mmap but
///   its reads and writes through the daemon (`passthroughDirect`).
/// - The kernel's rule: an inode with cached opens takes no passthrough open (the open would fail
///   with EIO), so while the daemon knows of cached opens every new one is cached too. The
///   daemon's counts include opens whose RELEASE is still on its way (the kernel drops its own
///   count before sending RELEASE), so they are never below the kernel's.
/// - A `passthroughDirect` open maps the backing file for mmap, where a shared writable mapping
///   could fill holes the daemon never sees. So with daemon accounting a file with holes is not
///   read through passthrough (its first passthrough open is decided with `holes` probed), and while
///   an inode has passthrough opens the daemon allocates what would otherwise become a hole (a
///   write past the end, a truncate that grows the file): the invariant is that such an inode has
///   no hole to fill.
enum OpenPolicy {
    struct Counts: Equatable {
        var cached = 0
        var passthrough = 0  // passthrough and passthroughDirect
    }

    static func mode(kernelQuota: Bool, writable: Bool, passthroughAvailable: Bool, regularFile: Bool,
                     counts: Counts, holes: Bool = false) -> IOMode {
        guard passthroughAvailable, regularFile, counts.cached == 0 else { return .cached }
        if kernelQuota { return .passthrough }
        if !writable { return counts.passthrough == 0 && holes ? .cached : .passthrough }
        return counts.passthrough > 0 ? .passthroughDirect : .cached
    }

    /// FOPEN_* flags of the reply.
    static func replyFlags(_ mode: IOMode, keepCache: Bool) -> UInt32 {
        switch mode {
        case .cached:
            // Locks live in the kernel and there is no writeback cache: FLUSH has nothing to do.
            return UInt32(CFK_FOPEN_NOFLUSH) | (keepCache ? UInt32(CFK_FOPEN_KEEP_CACHE) : 0)
        case .passthrough:
            return UInt32(CFK_FOPEN_PASSTHROUGH | CFK_FOPEN_NOFLUSH)
        case .passthroughDirect:
            return UInt32(CFK_FOPEN_PASSTHROUGH | CFK_FOPEN_DIRECT_IO | CFK_FOPEN_NOFLUSH)
        }
    }
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

/// Open file handles (the `fh` the kernel sends back with every READ, WRITE, RELEASE...).
///
/// `fh` is a slot of the session memory's open-file records plus 1, so a daemon taking over
/// resolves the handles the kernel holds. The backing descriptor of each handle lives only in this
/// process (`descriptors`, read without a lock on the READ/WRITE path); a handle whose descriptor is
/// not open yet (passthrough opens, which need one only for fsync and the like, and every handle
/// after a takeover) opens it on first use with the flags the record keeps.
final class OpenFileTable: @unchecked Sendable {
    struct Entry {
        let inode: Inode
        let flags: Int32
        let mode: IOMode
        /// Opened with O_TRUNC (counted as a writer of the inode).
        let truncated: Bool
        let dir: DirHandle?
    }

    private struct State {
        var entries: [Entry?] = []
        var free: [Int] = []
        var highWater = 0
    }

    let memory: SessionMemory
    /// fd + 1 per slot (0: not open in this process).
    private let descriptors: UnsafeMutablePointer<Int32>
    private let state = Mutex(State())

    init(memory: SessionMemory) {
        self.memory = memory
        // Anonymous memory reads as zeros and costs nothing until a page is touched.
        let bytes = SessionMemory.maxOpenFiles * MemoryLayout<Int32>.stride
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(p != MAP_FAILED, "cannot map the descriptor table")
        descriptors = p!.assumingMemoryBound(to: Int32.self)
    }

    deinit { munmap(descriptors, SessionMemory.maxOpenFiles * MemoryLayout<Int32>.stride) }

    var count: Int { state.withLock { $0.entries.count - $0.free.count } }

    /// Registers a handle; `fd` may be -1 (opened on first use). Returns the kernel's fh.
    func add(inode: Inode, flags: Int32, mode: IOMode, fd: Int32, truncated: Bool, dir: DirHandle? = nil) throws(Errno) -> UInt64 {
        let slot = state.withLock { s -> Int? in
            let slot: Int
            if let f = s.free.popLast() {
                slot = f
            } else {
                guard s.highWater < SessionMemory.maxOpenFiles else { return nil }
                slot = s.highWater
                s.highWater += 1
                memory.header.openFileHighWater = s.highWater
                s.entries.append(nil)
            }
            s.entries[slot] = Entry(inode: inode, flags: flags, mode: mode, truncated: truncated, dir: dir)
            let r = memory.openFile(slot)
            r.flags = flags
            r.nodeID = inode.nodeID
            r.mode = mode.rawValue
            r.state = dir == nil ? 1 : 2
            return slot
        }
        guard let slot else { throw Errno(ENFILE) }
        cairn_atomic_store32(descriptors.advanced(by: slot), fd + 1)
        return UInt64(slot) + 1
    }

    func entry(_ fh: UInt64) -> Entry? {
        guard fh >= 1, fh <= UInt64(SessionMemory.maxOpenFiles) else { return nil }
        let slot = Int(fh - 1)
        return state.withLock { s in slot < s.entries.count ? s.entries[slot] : nil }
    }

    /// The backing descriptor of a handle, opening it on first use.
    @inline(__always)
    func fd(_ fh: UInt64) throws(Errno) -> Int32 {
        guard fh >= 1, fh <= UInt64(SessionMemory.maxOpenFiles) else { throw Errno(EBADF) }
        let stored = cairn_atomic_load32(descriptors.advanced(by: Int(fh - 1)))
        if stored > 0 { return stored - 1 }
        return try openLazily(fh)
    }

    private func openLazily(_ fh: UInt64) throws(Errno) -> Int32 {
        guard let e = entry(fh), e.dir == nil else { throw Errno(EBADF) }
        try e.inode.checkAlive()
        let fd = try sys { Glibc.open(e.inode.procPath, e.flags | O_CLOEXEC) }
        let p = descriptors.advanced(by: Int(fh - 1))
        // Two threads may race to open the same handle; the first one stored wins.
        let won = state.withLock { _ -> Bool in
            if cairn_atomic_load32(p) > 0 { return false }
            cairn_atomic_store32(p, fd + 1)
            return true
        }
        if won { return fd }
        close(fd)
        return cairn_atomic_load32(p) - 1
    }

    /// Removes a handle; returns its entry and its descriptor (-1 if never opened), which the
    /// caller closes.
    func remove(_ fh: UInt64) -> (Entry, Int32)? {
        guard fh >= 1, fh <= UInt64(SessionMemory.maxOpenFiles) else { return nil }
        let slot = Int(fh - 1)
        return state.withLock { s -> (Entry, Int32)? in
            guard slot < s.entries.count, let e = s.entries[slot] else { return nil }
            s.entries[slot] = nil
            s.free.append(slot)
            memory.openFile(slot).state = 0
            let p = descriptors.advanced(by: slot)
            let fd = cairn_atomic_load32(p) - 1
            cairn_atomic_store32(p, 0)
            return (e, fd)
        }
    }

    func forEachEntry(_ body: (Entry) -> Void) {
        let all = state.withLock { $0.entries.compactMap { $0 } }
        all.forEach(body)
    }

    /// Rebuilds the handles after a takeover from the session memory. `reopenDir` opens a
    /// directory stream for a directory handle; descriptors of files open lazily.
    func restore(inode: (UInt64) -> Inode?, reopenDir: (Inode) -> DirHandle?) -> Int {
        let high = memory.header.openFileHighWater
        var entries = [Entry?](repeating: nil, count: high)
        var free: [Int] = []
        var restored = 0
        for slot in 0..<high {
            let r = memory.openFile(slot)
            let kind = r.state
            guard kind != 0, let node = inode(r.nodeID) else {
                if kind != 0 { r.state = 0 }
                free.append(slot)
                continue
            }
            let dir = kind == 2 ? reopenDir(node) : nil
            entries[slot] = Entry(inode: node, flags: r.flags, mode: IOMode(rawValue: r.mode) ?? .cached, truncated: false, dir: dir)
            restored += 1
        }
        state.withLock { s in
            s.entries = entries
            s.free = free.reversed()
            s.highWater = high
        }
        return restored
    }
}
