import CFuse3
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

/// One attached volume and its space accounting.
///
/// Accounting model (all lock-free atomics, no lock order involved):
/// - `used` is the sum of the allocated bytes Cairn has observed for the volume's inodes
///   (scan at attach, then every change reconciled from fstat after the call that made it).
/// - `charged` is `used` plus the reservations of calls in flight. A call that may allocate
///   reserves its worst case first (compare-and-swap against `capacity`), so concurrent writers
///   can never together pass the capacity; after the call its real delta is added to both and
///   the reservation is returned.
final class Volume: Sendable {
    let id: String
    let backingPath: String
    let readOnly: Bool
    /// Unique per attach; part of every inode key so two volumes never share an inode.
    let serial: UInt32
    /// O_PATH descriptor of the backing directory; closed when the volume object dies.
    let rootFD: Int32

    let capacity: Atomic<Int64>
    let used: Atomic<Int64>
    let charged: Atomic<Int64>
    let files: Atomic<Int64>
    /// Open file and directory handles; detach refuses while non-zero.
    let openHandles: Atomic<Int>
    let detached: Atomic<Bool>

    init(spec: VolumeSpec, serial: UInt32, rootFD: Int32, usedBytes: Int64, files: Int64) {
        id = spec.id
        backingPath = spec.backingPath
        readOnly = spec.readOnly
        self.serial = serial
        self.rootFD = rootFD
        capacity = Atomic(spec.capacityBytes)
        used = Atomic(usedBytes)
        charged = Atomic(usedBytes)
        self.files = Atomic(files)
        openHandles = Atomic(0)
        detached = Atomic(false)
    }

    deinit { close(rootFD) }

    var spec: VolumeSpec {
        VolumeSpec(id: id, backingPath: backingPath, capacityBytes: capacity.load(ordering: .relaxed),
                   readOnly: readOnly)
    }

    var usage: VolumeUsage {
        VolumeUsage(usedBytes: max(0, used.load(ordering: .relaxed)),
                    capacityBytes: capacity.load(ordering: .relaxed),
                    files: max(0, files.load(ordering: .relaxed)))
    }

    /// Reserves `bytes` against the capacity; false if that would pass it.
    func reserve(_ bytes: Int64) -> Bool {
        if bytes <= 0 { return true }
        let cap = capacity.load(ordering: .relaxed)
        var current = charged.load(ordering: .relaxed)
        while true {
            if current + bytes > cap { return false }
            let (exchanged, original) = charged.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func unreserve(_ bytes: Int64) {
        if bytes > 0 { charged.subtract(bytes, ordering: .relaxed) }
    }

    /// Adds an observed change of allocated bytes.
    func account(_ delta: Int64) {
        guard delta != 0 else { return }
        used.add(delta, ordering: .relaxed)
        charged.add(delta, ordering: .relaxed)
    }

    /// Bytes still free for new allocations (capacity minus used and reserved).
    var available: Int64 { max(0, capacity.load(ordering: .relaxed) - charged.load(ordering: .relaxed)) }
}

/// Walks a backing directory like `du -s --apparent-size=no`: every inode once (hard links are
/// counted once), allocated bytes from st_blocks, never following symlinks, never leaving the
/// directory through `..`. Uses only *at() calls relative to descriptors it holds.
enum UsageScanner {
    struct Totals { var bytes: Int64 = 0; var files: Int64 = 0 }
    struct Key: Hashable { let dev: UInt64; let ino: UInt64 }

    static func scan(rootFD: Int32) throws(Errno) -> Totals {
        var totals = Totals()
        var seen = Set<Key>()
        var st = stat()
        _ = try sys { fstatat(rootFD, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) }
        count(st, &totals, &seen)
        let dirFD = try sys { openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        try walk(dirFD: dirFD, totals: &totals, seen: &seen)
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
    private static func walk(dirFD: Int32, totals: inout Totals, seen: inout Set<Key>) throws(Errno) {
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
            if (st.st_mode & S_IFMT) == S_IFDIR { subdirs.append(name) }
        }
        for name in subdirs {
            let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub < 0 {
                if cairn_errno() == ENOENT { continue }
                throw Errno.current
            }
            try walk(dirFD: sub, totals: &totals, seen: &seen)
        }
    }
}
