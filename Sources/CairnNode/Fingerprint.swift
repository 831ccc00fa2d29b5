#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// What a volume looked like: record one when a pod leaves, compare later to prove nothing changed.
///
/// `digest` is a SHA-256 over every entry in byte order of its relative path, with its type,
/// permission bits, owner, size, mtime in nanoseconds, device number and symlink target; a deep
/// fingerprint also covers each regular file's content. Access time and ctime are left out, so
/// reading a volume (even a deep fingerprint, which reads every file) does not change it.
public struct Fingerprint: Sendable, Hashable, Codable {
    /// Entries below the root, of every type, each path once (so a hard link counts twice).
    public var files: Int64
    /// Apparent size: the sum of st_size over regular files.
    public var bytes: Int64
    /// Hex SHA-256.
    public var digest: String

    public init(files: Int64, bytes: Int64, digest: String) {
        self.files = files
        self.bytes = bytes
        self.digest = digest
    }
}

struct FingerprintBuilder {
    private var hasher = SHA256()
    private var files: Int64 = 0
    private var bytes: Int64 = 0
    private let deep: Bool

    init(deep: Bool) {
        self.deep = deep
        // Versioned, so a later change of format never compares equal to an old record.
        hasher.update(data: Array("cairn-fingerprint-v1\0\(deep ? "deep" : "shallow")\n".utf8))
    }

    mutating func add(_ entry: TreeWalk.Entry, rootPath: String) throws(NodeError) {
        let info = entry.info
        if entry.parent >= 0 { files += 1 }
        // Fields are separated by NUL, which no path or link target can contain, so no two
        // different trees encode to the same bytes.
        var record: [UInt8] = []
        if entry.isMountPoint {
            record += Array("M".utf8) + [0] + entry.relativePath + [0, 10]
            hasher.update(data: record)
            return
        }
        record += Array(typeCode(info).utf8) + [0] + entry.relativePath + [0]
        let size = Sys.isRegular(info) || Sys.isSymlink(info) ? Int64(info.st_size) : 0
        let fields = [
            String(info.st_mode & 0o7777, radix: 8), String(info.st_uid), String(info.st_gid), String(size),
            String(info.st_mtim.tv_sec) + "." + String(info.st_mtim.tv_nsec),
            String(info.st_rdev),
        ]
        record += Array(fields.joined(separator: " ").utf8) + [0]
        let fullPath = rootPath + "/" + Sys.display(entry.relativePath)
        if Sys.isSymlink(info) {
            record += try linkTarget(entry, path: fullPath)
        }
        record.append(0)
        if Sys.isRegular(info) {
            bytes += Int64(info.st_size)
            if deep { record += Array(try contentDigest(entry, path: fullPath).utf8) }
        }
        record += [0, 10]
        hasher.update(data: record)
    }

    func finish() -> Fingerprint {
        let digest = hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        return Fingerprint(files: files, bytes: bytes, digest: digest)
    }

    private func typeCode(_ info: stat) -> String {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return "d"
        case S_IFREG: return "f"
        case S_IFLNK: return "l"
        case S_IFCHR: return "c"
        case S_IFBLK: return "b"
        case S_IFIFO: return "p"
        case S_IFSOCK: return "s"
        default: return "?"
        }
    }

    private func linkTarget(_ entry: TreeWalk.Entry, path: String) throws(NodeError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Sys.withCName(entry.name) { name in
            buffer.withUnsafeMutableBytes { readlinkat(entry.parent, name, $0.baseAddress!, $0.count) }
        }
        guard n >= 0 else { throw Sys.error("readlink", path) }
        return Array(buffer[0..<n])
    }

    private func contentDigest(_ entry: TreeWalk.Entry, path: String) throws(NodeError) -> String {
        // O_NONBLOCK: if the file was swapped for a FIFO since the stat, opening must not hang.
        let flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var fd = Sys.withCName(entry.name) { openat(entry.parent, $0, flags | Sys.O_NOATIME) }
        if fd < 0, errno == EPERM {
            fd = Sys.withCName(entry.name) { openat(entry.parent, $0, flags) }
        }
        guard fd >= 0 else { throw Sys.error("open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Sys.error("stat", path) }
        guard Sys.isRegular(info), info.st_ino == entry.info.st_ino else {
            throw Sys.error("open", path, ESTALE)
        }
        var content = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Sys.error("read", path)
            }
            if n == 0 { break }
            content.update(data: chunk[0..<n])
        }
        return content.finalize().map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }
}
