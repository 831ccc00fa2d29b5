import CFuseKernel
import Glibc

/// One request as read from /dev/fuse: a view into the worker's buffer, valid until the next read.
struct Request {
    let base: UnsafeRawPointer
    let length: Int

    static let headerSize = MemoryLayout<cfk_in_header>.size

    var header: cfk_in_header { base.load(as: cfk_in_header.self) }
    var opcode: UInt32 { base.load(fromByteOffset: 4, as: UInt32.self) }
    var unique: UInt64 { base.load(fromByteOffset: 8, as: UInt64.self) }
    var nodeID: UInt64 { base.load(fromByteOffset: 16, as: UInt64.self) }
    var uid: UInt32 { base.load(fromByteOffset: 24, as: UInt32.self) }
    var gid: UInt32 { base.load(fromByteOffset: 28, as: UInt32.self) }
    /// Resent by the kernel (FUSE_NOTIFY_RESEND after a takeover): the daemon before may have
    /// done it already.
    var isResend: Bool { unique & CFK_UNIQUE_RESEND != 0 }

    /// The argument bytes (without the extensions the kernel may append).
    var body: UnsafeRawPointer { base + Self.headerSize }
    var bodyLength: Int {
        let ext = Int(base.load(fromByteOffset: 36, as: UInt16.self)) * 8
        return max(0, length - Self.headerSize - ext)
    }

    func arg<T>(_ type: T.Type, at offset: Int = 0) -> T? {
        guard offset + MemoryLayout<T>.size <= bodyLength else { return nil }
        return (body + offset).loadUnaligned(as: T.self)
    }

    /// A NUL-terminated name in the body at `offset`; nil if it is not terminated inside the body.
    func name(at offset: Int) -> UnsafePointer<CChar>? {
        guard offset < bodyLength else { return nil }
        let start = (body + offset).assumingMemoryBound(to: CChar.self)
        guard memchr(start, 0, bodyLength - offset) != nil else { return nil }
        return UnsafePointer(start)
    }
}

/// Builds replies in a worker's output buffer and writes each with one write(2).
struct Replier {
    let fd: Int32
    let out: UnsafeMutableRawPointer
    let capacity: Int

    static let headerSize = MemoryLayout<cfk_out_header>.size

    /// Where a reply's payload goes.
    var payload: UnsafeMutableRawPointer { out + Self.headerSize }
    var payloadCapacity: Int { capacity - Self.headerSize }

    /// Sends `count` payload bytes already in `payload`. Returns 0 or the errno of the write:
    /// ENOENT means the kernel no longer waits for this request (interrupted, or answered
    /// before a takeover), which callers that handed out a lookup must undo.
    @discardableResult
    func send(_ unique: UInt64, count: Int = 0, error: Int32 = 0) -> Int32 {
        let header = cfk_out_header(len: UInt32(Self.headerSize + count), error: -error, unique: unique)
        out.storeBytes(of: header, as: cfk_out_header.self)
        while true {
            let n = Glibc.write(fd, out, Self.headerSize + count)
            if n >= 0 { return 0 }
            let e = cairn_errno()
            if e != EINTR { return e }
        }
    }

    @discardableResult
    func send<T>(_ unique: UInt64, _ value: T) -> Int32 {
        payload.storeBytes(of: value, as: T.self)
        return send(unique, count: MemoryLayout<T>.size)
    }

    @discardableResult
    func fail(_ unique: UInt64, _ error: Errno) -> Int32 {
        send(unique, error: error.code)
    }

}

enum Attr {
    static func from(_ st: stat) -> cfk_attr {
        var a = cfk_attr()
        a.ino = UInt64(st.st_ino)
        a.size = UInt64(bitPattern: Int64(st.st_size))
        a.blocks = UInt64(bitPattern: Int64(st.st_blocks))
        a.atime = UInt64(bitPattern: Int64(st.st_atim.tv_sec))
        a.mtime = UInt64(bitPattern: Int64(st.st_mtim.tv_sec))
        a.ctime = UInt64(bitPattern: Int64(st.st_ctim.tv_sec))
        a.atimensec = UInt32(truncatingIfNeeded: st.st_atim.tv_nsec)
        a.mtimensec = UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec)
        a.ctimensec = UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec)
        a.mode = UInt32(st.st_mode)
        a.nlink = UInt32(truncatingIfNeeded: st.st_nlink)
        a.uid = st.st_uid
        a.gid = st.st_gid
        // The kernel decodes rdev with new_decode_dev, which glibc's makedev matches for every
        // device number that fits 32 bits.
        a.rdev = UInt32(truncatingIfNeeded: st.st_rdev)
        a.blksize = UInt32(truncatingIfNeeded: st.st_blksize)
        return a
    }

    static func validity(_ seconds: Double) -> (UInt64, UInt32) {
        let whole = seconds.rounded(.down)
        return (UInt64(whole), UInt32((seconds - whole) * 1e9))
    }
}

/// Directory entries in the kernel's format: fuse_dirent, or fuse_entry_out + fuse_dirent for
/// READDIRPLUS, each padded to 8 bytes.
enum DirentPacking {
    static let direntHeader = MemoryLayout<cfk_dirent>.size
    static let entrySize = MemoryLayout<cfk_entry_out>.size

    static func size(nameLength: Int, plus: Bool) -> Int {
        ((plus ? entrySize : 0) + direntHeader + nameLength + 7) & ~7
    }

    /// Writes one entry at `at` if it fits in `room`; returns its size or 0 if it does not fit.
    static func add(_ at: UnsafeMutableRawPointer, room: Int, name: UnsafePointer<CChar>, nameLength: Int,
                    ino: UInt64, type: UInt32, nextOffset: UInt64, entry: cfk_entry_out?) -> Int {
        let total = size(nameLength: nameLength, plus: entry != nil)
        guard total <= room else { return 0 }
        var p = at
        if let entry {
            p.storeBytes(of: entry, as: cfk_entry_out.self)
            p += entrySize
        }
        p.storeBytes(of: cfk_dirent(ino: ino, off: nextOffset, namelen: UInt32(nameLength), type: type), as: cfk_dirent.self)
        p += direntHeader
        memcpy(p, name, nameLength)
        let written = (entry != nil ? entrySize : 0) + direntHeader + nameLength
        if total > written { memset(at + written, 0, total - written) }
        return total
    }
}
