import CFuseKernel
import Glibc

/// What must outlive a daemon process for the next one to serve the same FUSE connection: the
/// attached volumes, every node id the kernel holds (with its lookup count and how to reopen its
/// backing inode) and every open file handle. It lives in a memfd that the descriptor holder keeps
/// open, so a daemon killed with -9 leaves it intact; the next daemon maps the same memfd.
///
/// Layout: fixed-size records in one sparse mapping (tmpfs allocates only the pages touched).
/// Every record has a state word written last (release) and read first (acquire), so a daemon
/// that dies in the middle of filling a record leaves a free record, never a half-made live one.
/// Writers are serialised by the owning table's lock; the counters that are updated without
/// one (volume usage) use C atomics.
final class SessionMemory: @unchecked Sendable {
    static let magic: UInt64 = 0x3153_464e_5249_4143  // "CAIRNFS1"
    static let version: UInt32 = 1

    static let headerBytes = 4096
    static let maxVolumes = 1024
    static let volumeRecordBytes = 8192
    static let maxInodes = 1 << 22
    static let inodeRecordBytes = 128
    static let maxOpenFiles = 1 << 20
    static let openRecordBytes = 32

    static let volumesOffset = headerBytes
    static let inodesOffset = volumesOffset + maxVolumes * volumeRecordBytes
    static let openFilesOffset = inodesOffset + maxInodes * inodeRecordBytes
    static let totalBytes = openFilesOffset + maxOpenFiles * openRecordBytes

    let fd: Int32
    let base: UnsafeMutableRawPointer

    private init(fd: Int32, base: UnsafeMutableRawPointer) {
        self.fd = fd
        self.base = base
    }

    deinit {
        munmap(base, Self.totalBytes)
        close(fd)
    }

    /// A fresh, zeroed region.
    static func create() throws(Errno) -> SessionMemory {
        let fd = cairn_memfd_create("cairnfs-session", UInt32(CAIRN_MFD_CLOEXEC))
        if fd < 0 { throw Errno.current }
        if ftruncate(fd, off_t(totalBytes)) != 0 {
            let e = Errno.current
            close(fd)
            throw e
        }
        let memory = try map(fd)
        memory.header.magic = magic
        memory.header.version = version
        return memory
    }

    /// The region a previous daemon left (received from the holder); takes ownership of `fd`.
    static func adopt(fd: Int32) throws(Errno) -> SessionMemory {
        var st = stat()
        if fstat(fd, &st) != 0 || Int(st.st_size) != totalBytes {
            close(fd)
            throw Errno(EPROTO)
        }
        let memory = try map(fd)
        guard memory.header.magic == magic, memory.header.version == version else { throw Errno(EPROTO) }
        return memory
    }

    private static func map(_ fd: Int32) throws(Errno) -> SessionMemory {
        guard let p = mmap(nil, totalBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            let e = Errno.current
            close(fd)
            throw e
        }
        return SessionMemory(fd: fd, base: p)
    }

    var header: HeaderRecord { HeaderRecord(p: base) }

    func volume(_ slot: Int) -> VolumeRecord {
        precondition(slot >= 0 && slot < Self.maxVolumes)
        return VolumeRecord(p: base + Self.volumesOffset + slot * Self.volumeRecordBytes)
    }

    func inode(_ slot: Int) -> InodeRecord {
        precondition(slot >= 0 && slot < Self.maxInodes)
        return InodeRecord(p: base + Self.inodesOffset + slot * Self.inodeRecordBytes)
    }

    func openFile(_ slot: Int) -> OpenFileRecord {
        precondition(slot >= 0 && slot < Self.maxOpenFiles)
        return OpenFileRecord(p: base + Self.openFilesOffset + slot * Self.openRecordBytes)
    }
}

/// Typed views of the records. Field offsets are the layout; change `SessionMemory.version` with them.
struct HeaderRecord {
    let p: UnsafeMutableRawPointer
    var magic: UInt64 { get { p.load(as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, as: UInt64.self) } }
    var version: UInt32 { get { p.load(fromByteOffset: 8, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 8, as: UInt32.self) } }
    /// Set once INIT was answered; a daemon taking over never sees INIT again.
    var initialized: Bool {
        get { cairn_atomic_load32((p + 12).assumingMemoryBound(to: Int32.self)) != 0 }
        nonmutating set { cairn_atomic_store32((p + 12).assumingMemoryBound(to: Int32.self), newValue ? 1 : 0) }
    }
    /// st_dev of the mount: a later daemon checks the mount point is still this connection.
    var device: UInt64 { get { p.load(fromByteOffset: 16, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 16, as: UInt64.self) } }
    /// The INIT flags both sides agreed on.
    var negotiatedFlags: UInt64 { get { p.load(fromByteOffset: 24, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 24, as: UInt64.self) } }
    var protocolMinor: UInt32 { get { p.load(fromByteOffset: 32, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 32, as: UInt32.self) } }
    var maxWrite: UInt32 { get { p.load(fromByteOffset: 36, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 36, as: UInt32.self) } }
    /// One past the highest inode record ever used; takeover scans up to here.
    var inodeHighWater: Int { get { Int(p.load(fromByteOffset: 40, as: Int64.self)) } nonmutating set { p.storeBytes(of: Int64(newValue), toByteOffset: 40, as: Int64.self) } }
    var openFileHighWater: Int { get { Int(p.load(fromByteOffset: 48, as: Int64.self)) } nonmutating set { p.storeBytes(of: Int64(newValue), toByteOffset: 48, as: Int64.self) } }
    var nextVolumeSerial: UInt32 { get { p.load(fromByteOffset: 56, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 56, as: UInt32.self) } }
    /// Daemons that took this connection over (restarts survived).
    var takeovers: UInt32 { get { p.load(fromByteOffset: 60, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 60, as: UInt32.self) } }
}

struct VolumeRecord {
    let p: UnsafeMutableRawPointer
    static let idCapacity = 256
    static let pathCapacity = 4096

    /// 0 free, 1 attached.
    var state: Int32 {
        get { cairn_atomic_load32(p.assumingMemoryBound(to: Int32.self)) }
        nonmutating set { cairn_atomic_store32(p.assumingMemoryBound(to: Int32.self), newValue) }
    }
    var readOnly: Bool { get { p.load(fromByteOffset: 4, as: UInt8.self) != 0 } nonmutating set { p.storeBytes(of: newValue ? 1 : 0, toByteOffset: 4, as: UInt8.self) } }
    /// 0 daemon, 1 project quota (`projectID`), 2 btrfs qgroup (`subvolumeID`).
    var enforcementKind: UInt8 { get { p.load(fromByteOffset: 5, as: UInt8.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 5, as: UInt8.self) } }
    var subvolumeID: UInt64 { get { p.load(fromByteOffset: 4416, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 4416, as: UInt64.self) } }
    var enforcement: CapacityEnforcement {
        get {
            switch enforcementKind {
            case 1: return .projectQuota(projectID: projectID)
            case 2: return .btrfsQgroup(subvolumeID: subvolumeID)
            default: return .daemon
            }
        }
        nonmutating set {
            switch newValue {
            case .projectQuota(let id): enforcementKind = 1; projectID = id; subvolumeID = 0
            case .btrfsQgroup(let id): enforcementKind = 2; projectID = 0; subvolumeID = id
            case .daemon: enforcementKind = 0; projectID = 0; subvolumeID = 0
            }
        }
    }
    var serial: UInt32 { get { p.load(fromByteOffset: 8, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 8, as: UInt32.self) } }
    var projectID: UInt32 { get { p.load(fromByteOffset: 12, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 12, as: UInt32.self) } }
    var capacity: UnsafeMutablePointer<Int64> { (p + 16).assumingMemoryBound(to: Int64.self) }
    var used: UnsafeMutablePointer<Int64> { (p + 24).assumingMemoryBound(to: Int64.self) }
    var charged: UnsafeMutablePointer<Int64> { (p + 32).assumingMemoryBound(to: Int64.self) }
    var files: UnsafeMutablePointer<Int64> { (p + 40).assumingMemoryBound(to: Int64.self) }
    var rootNodeID: UInt64 { get { p.load(fromByteOffset: 48, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 48, as: UInt64.self) } }

    var id: String {
        get { text(at: 64, lengthAt: 56) }
        nonmutating set { setText(newValue, at: 64, lengthAt: 56, capacity: Self.idCapacity) }
    }
    var backingPath: String {
        get { text(at: 64 + Self.idCapacity, lengthAt: 60) }
        nonmutating set { setText(newValue, at: 64 + Self.idCapacity, lengthAt: 60, capacity: Self.pathCapacity) }
    }

    private func text(at offset: Int, lengthAt: Int) -> String {
        let n = Int(p.load(fromByteOffset: lengthAt, as: UInt32.self))
        return String(decoding: UnsafeRawBufferPointer(start: p + offset, count: n), as: UTF8.self)
    }

    private func setText(_ s: String, at offset: Int, lengthAt: Int, capacity: Int) {
        let bytes = Array(s.utf8.prefix(capacity))
        bytes.withUnsafeBytes { (p + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        p.storeBytes(of: UInt32(bytes.count), toByteOffset: lengthAt, as: UInt32.self)
    }
}

struct InodeRecord {
    let p: UnsafeMutableRawPointer
    static let handleCapacity = 48

    var lookups: UInt64 { get { p.load(as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, as: UInt64.self) } }
    var generation: UInt64 { get { p.load(fromByteOffset: 8, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 8, as: UInt64.self) } }
    /// 0 free, 1 live.
    var state: Int32 {
        get { cairn_atomic_load32((p + 16).assumingMemoryBound(to: Int32.self)) }
        nonmutating set { cairn_atomic_store32((p + 16).assumingMemoryBound(to: Int32.self), newValue) }
    }
    var volumeSlot: Int32 { get { p.load(fromByteOffset: 20, as: Int32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 20, as: Int32.self) } }
    var dev: UInt64 { get { p.load(fromByteOffset: 24, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 24, as: UInt64.self) } }
    var ino: UInt64 { get { p.load(fromByteOffset: 32, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 32, as: UInt64.self) } }
    /// Allocated bytes last added to the volume's usage (daemon accounting).
    var countedBytes: Int64 { get { p.load(fromByteOffset: 40, as: Int64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 40, as: Int64.self) } }
    /// Bytes taken out of the usage when the last name went (the inode lives on while open).
    var excludedBytes: Int64 { get { p.load(fromByteOffset: 48, as: Int64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 48, as: Int64.self) } }
    var type: UInt32 { get { p.load(fromByteOffset: 56, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 56, as: UInt32.self) } }
    /// Bit 0 orphan (last name removed), bit 1 pinned (a volume root).
    var flags: UInt32 { get { p.load(fromByteOffset: 60, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 60, as: UInt32.self) } }
    /// FUSE backing id registered for passthrough opens of this inode, 0 if none.
    var backingID: Int32 { get { p.load(fromByteOffset: 64, as: Int32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 64, as: Int32.self) } }
    var handleType: Int32 { get { p.load(fromByteOffset: 68, as: Int32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 68, as: Int32.self) } }
    /// 0: no handle (the filesystem cannot export this inode).
    var handleSize: UInt32 { get { p.load(fromByteOffset: 72, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 72, as: UInt32.self) } }
    /// The serial of the volume (its slot may be reused by a later attach).
    var volumeSerial: UInt32 { get { p.load(fromByteOffset: 76, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 76, as: UInt32.self) } }
    var handle: UnsafeMutablePointer<UInt8> { (p + 80).assumingMemoryBound(to: UInt8.self) }

    static let orphanFlag: UInt32 = 1
    static let pinnedFlag: UInt32 = 2
}

struct OpenFileRecord {
    let p: UnsafeMutableRawPointer
    /// 0 free, 1 file, 2 directory.
    var state: Int32 {
        get { cairn_atomic_load32(p.assumingMemoryBound(to: Int32.self)) }
        nonmutating set { cairn_atomic_store32(p.assumingMemoryBound(to: Int32.self), newValue) }
    }
    /// The open(2) flags the backing descriptor was opened with (without O_CREAT/O_EXCL/O_TRUNC).
    var flags: Int32 { get { p.load(fromByteOffset: 4, as: Int32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 4, as: Int32.self) } }
    var nodeID: UInt64 { get { p.load(fromByteOffset: 8, as: UInt64.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 8, as: UInt64.self) } }
    /// IOMode raw value.
    var mode: UInt32 { get { p.load(fromByteOffset: 16, as: UInt32.self) } nonmutating set { p.storeBytes(of: newValue, toByteOffset: 16, as: UInt32.self) } }
}
