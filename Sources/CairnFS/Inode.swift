import CFuse3
import Glibc
import Synchronization

/// Identity of a backing inode within one attached volume.
struct InodeKey: Hashable {
    let volume: UInt32
    let dev: UInt64
    let ino: UInt64
}

/// A backing inode the kernel knows by a node id.
///
/// Holds an O_PATH|O_NOFOLLOW descriptor opened relative to its parent's descriptor, so no later
/// call ever resolves a path again: the descriptor stays on this inode whatever the pod renames or
/// replaces with symlinks. The descriptor is closed in deinit, after the last operation that
/// retained the object finished, so a descriptor number is never reused under a running call.
final class Inode: Sendable {
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

    let nodeID: UInt64
    let fd: Int32
    let key: InodeKey
    let volume: Volume
    /// S_IFMT bits; a file's type never changes.
    let type: mode_t

    /// Guards `Accounting`. Held across the fstat that reads the new size, so concurrent
    /// reconciles of the same inode apply their deltas in order. Leaf lock: nothing else is taken
    /// while holding it except the volume's atomics.
    let accounting: Mutex<Accounting>
    /// Size and mtime when the last handle was opened or closed; decides keep_cache. Leaf lock.
    let cacheStamp: Mutex<CacheStamp?>
    /// Known to have no `security.capability` xattr. The kernel asks for it before every write
    /// (file_remove_privs); answering from here saves a procfs path walk and a syscall per write.
    /// Set when the backing said ENODATA, cleared by any xattr change made through Cairn.
    let noCapabilityXattr = Atomic<Bool>(false)

    /// `accounted`: whether the inode's current blocks are already part of the volume's usage
    /// (found by the scan, or looked up again); a fresh inode starts at zero and reconciles.
    init(nodeID: UInt64, fd: Int32, key: InodeKey, volume: Volume, stat st: stat, accounted: Bool) {
        self.nodeID = nodeID
        self.fd = fd
        self.key = key
        self.volume = volume
        self.type = st.st_mode & S_IFMT
        self.accounting = Mutex(Accounting(bytes: accounted ? Int64(st.st_blocks) * 512 : 0))
        self.cacheStamp = Mutex(nil)
    }

    deinit {
        let remaining = accounting.withLock { a -> Int64 in a.orphan ? a.bytes - a.excluded : 0 }
        if remaining != 0 { volume.account(-remaining) }
        close(fd)
    }

    var isDirectory: Bool { type == S_IFDIR }
    var isSymlink: Bool { type == S_IFLNK }
    var isRegular: Bool { type == S_IFREG }

    /// "/proc/self/fd/N": the few calls that have no fd or *at() form (open of an O_PATH inode,
    /// chmod, truncate, xattrs) go through the magic link, which names this exact inode.
    var procPath: String { "/proc/self/fd/\(fd)" }

    func stat() throws(Errno) -> Glibc.stat {
        var st = Glibc.stat()
        _ = try sys { fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) }
        return st
    }

    /// Re-reads allocated bytes (from `statFD` if given, an open descriptor of this inode) and
    /// adds the change to the volume's usage. Idempotent; safe to call from any thread.
    func reconcile(statFD: Int32? = nil) {
        accounting.withLock { a in
            var st = Glibc.stat()
            let r = statFD.map { fstat($0, &st) } ?? fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH))
            guard r == 0 else { return }
            let now = Int64(st.st_blocks) * 512
            let delta = now - a.bytes
            a.bytes = now
            volume.account(delta)
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
            volume.account(-a.bytes)
        }
    }
}

/// Node id to inode, and backing identity to node id.
///
/// One mutex guards the whole table (both dictionaries, every entry's lookup count and pin, and
/// the id counter). It is held only for dictionary work, never across a syscall, and no other
/// lock is taken while holding it.
final class InodeTable: Sendable {
    private struct Entry {
        let inode: Inode
        var lookups: UInt64
        /// Volume roots stay while attached even when the kernel forgot them.
        var pinned: Bool
    }

    private struct State {
        var byID: [UInt64: Entry] = [:]
        var byKey: [InodeKey: UInt64] = [:]
        /// Node ids are never reused (1 is the virtual root), so generation is always 0.
        var nextID: UInt64 = 2
    }

    private let state = Mutex(State())

    func get(_ nodeID: UInt64) -> Inode? {
        state.withLock { $0.byID[nodeID]?.inode }
    }

    func find(_ key: InodeKey) -> Inode? {
        state.withLock { s in s.byKey[key].flatMap { s.byID[$0]?.inode } }
    }

    var count: Int { state.withLock { $0.byID.count } }

    /// Returns the inode for `st` with one more kernel lookup counted (none if `lookups` is 0),
    /// creating it around `fd` if new. Takes ownership of `fd`: it is closed if an inode for the
    /// same backing identity already exists.
    func insertOrRef(fd: Int32, stat st: stat, volume: Volume, accounted: Bool = true,
                     lookups: UInt64 = 1, pinned: Bool = false) -> Inode {
        let key = InodeKey(volume: volume.serial, dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        let (inode, duplicate) = state.withLock { s -> (Inode, Bool) in
            if let id = s.byKey[key], var e = s.byID[id] {
                e.lookups += lookups
                e.pinned = e.pinned || pinned
                s.byID[id] = e
                return (e.inode, true)
            }
            let id = s.nextID
            s.nextID += 1
            let inode = Inode(nodeID: id, fd: fd, key: key, volume: volume, stat: st, accounted: accounted)
            s.byID[id] = Entry(inode: inode, lookups: lookups, pinned: pinned)
            s.byKey[key] = id
            return (inode, false)
        }
        if duplicate { close(fd) }
        return inode
    }

    /// Adds kernel lookups to a known inode (volume roots).
    func ref(_ nodeID: UInt64) {
        state.withLock { s in s.byID[nodeID]?.lookups += 1 }
    }

    func forget(_ nodeID: UInt64, _ n: UInt64) {
        // The inode is released outside the lock: its deinit closes a descriptor.
        let dropped: Inode? = state.withLock { s in
            guard var e = s.byID[nodeID] else { return nil }
            e.lookups = e.lookups > n ? e.lookups - n : 0
            if e.lookups == 0 && !e.pinned {
                s.byID[nodeID] = nil
                s.byKey[e.inode.key] = nil
                return e.inode
            }
            s.byID[nodeID] = e
            return nil
        }
        _ = dropped
    }

    func unpin(_ nodeID: UInt64) {
        let dropped: Inode? = state.withLock { s in
            guard var e = s.byID[nodeID] else { return nil }
            e.pinned = false
            if e.lookups == 0 {
                s.byID[nodeID] = nil
                s.byKey[e.inode.key] = nil
                return e.inode
            }
            s.byID[nodeID] = e
            return nil
        }
        _ = dropped
    }
}
