import CFuseKernel
import Foundation
import Glibc
import Synchronization

/// The differential filesystem test's parts: a seeded generator of file operations, the operations
/// applied to a directory (each answering what the caller saw: return value, errno, data), and a
/// snapshot of the tree they leave. The test runs the same sequence on a native directory and on a
/// Cairn volume and compares the two after every step.

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same sequences on every
/// machine, so a failure names a seed that reproduces it.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One file operation, on paths relative to the sequence's directory.
enum FileOperation: Sendable, CustomStringConvertible {
    case create(String, mode: mode_t, exclusive: Bool)
    case write(String, offset: Int, length: Int, fill: UInt8)
    case append(String, length: Int, fill: UInt8, create: Bool)
    /// Two threads, two descriptors, disjoint halves of one file written at once.
    case concurrentWrites(String, length: Int)
    case read(String, offset: Int, count: Int)
    case truncate(String, length: Int)
    case openTruncate(String)
    case fallocate(String, mode: Int32, offset: Int, length: Int)
    case rename(String, String, flags: UInt32)
    case link(String, String)
    case symlink(target: String, String)
    case readlink(String)
    case unlink(String)
    case mkdir(String, mode: mode_t)
    case rmdir(String)
    case chmod(String, mode: mode_t)
    case lchown(String, uid: uid_t, gid: gid_t)
    case utimens(String, atime: Int, mtime: Int, noFollow: Bool)
    case setxattr(String, name: String, value: String, flags: Int32)
    case getxattr(String, name: String)
    case removexattr(String, name: String)
    case listxattr(String)
    case lstat(String)
    case readdir(String)

    var description: String {
        switch self {
        case .create(let p, let m, let x): "create \(p) \(String(m, radix: 8))\(x ? " O_EXCL" : "")"
        case .write(let p, let o, let n, let f): "pwrite \(p) @\(o) \(n)x\(f)"
        case .append(let p, let n, let f, let c): "append \(p) \(n)x\(f)\(c ? " O_CREAT" : "")"
        case .concurrentWrites(let p, let n): "2 writers \(p) \(n)+\(n)"
        case .read(let p, let o, let n): "pread \(p) @\(o) \(n)"
        case .truncate(let p, let n): "truncate \(p) \(n)"
        case .openTruncate(let p): "open O_TRUNC \(p)"
        case .fallocate(let p, let m, let o, let n): "fallocate \(p) mode \(m) @\(o) \(n)"
        case .rename(let a, let b, let f): "rename \(a) \(b)\(f == 1 ? " NOREPLACE" : f == 2 ? " EXCHANGE" : "")"
        case .link(let a, let b): "link \(a) \(b)"
        case .symlink(let t, let p): "symlink \(t) \(p)"
        case .readlink(let p): "readlink \(p)"
        case .unlink(let p): "unlink \(p)"
        case .mkdir(let p, let m): "mkdir \(p) \(String(m, radix: 8))"
        case .rmdir(let p): "rmdir \(p)"
        case .chmod(let p, let m): "chmod \(p) \(String(m, radix: 8))"
        case .lchown(let p, let u, let g): "lchown \(p) \(u):\(g)"
        case .utimens(let p, let a, let m, let nf): "utimens \(p) \(a) \(m)\(nf ? " NOFOLLOW" : "")"
        case .setxattr(let p, let n, let v, let f): "setxattr \(p) \(n)=\(v) flags \(f)"
        case .getxattr(let p, let n): "getxattr \(p) \(n)"
        case .removexattr(let p, let n): "removexattr \(p) \(n)"
        case .listxattr(let p): "listxattr \(p)"
        case .lstat(let p): "lstat \(p)"
        case .readdir(let p): "readdir \(p)"
        }
    }
}

/// Random sequences over a small set of names, so operations keep meeting what earlier ones made
/// (and the errors: EEXIST, ENOENT, ENOTDIR, EISDIR, ENOTEMPTY, ELOOP, EINVAL). Most paths are
/// ones an earlier operation of the sequence created (whether or not that succeeded: the generator
/// never looks at results, so a seed names one sequence everywhere).
enum OperationGenerator {
    static let names = ["a", "b", "c", "d", "e"]

    struct Names {
        var made: [String] = []

        mutating func fresh(_ g: inout SeededGenerator) -> String {
            let first = names.randomElement(using: &g)!
            let p = Int.random(in: 0..<3, using: &g) == 0 ? "\(first)/\(names.randomElement(using: &g)!)" : first
            made.append(p)
            return p
        }

        mutating func path(_ g: inout SeededGenerator) -> String {
            if !made.isEmpty && Int.random(in: 0..<10, using: &g) < 8 { return made.randomElement(using: &g)! }
            return fresh(&g)
        }

        /// Symlink targets stay inside the sequence's directory (relative, no `..`), so a chmod or
        /// write through one never leaves it.
        mutating func target(_ g: inout SeededGenerator) -> String {
            Int.random(in: 0..<6, using: &g) == 0 ? "missing" : path(&g)
        }
    }

    static func sequence(seed: UInt64, length: Int) -> [FileOperation] {
        var g = SeededGenerator(seed: seed)
        // A few entries to start from, so most operations meet something.
        let start: [FileOperation] = [.mkdir("d", mode: 0o755), .create("a", mode: 0o644, exclusive: true),
                                      .write("a", offset: 0, length: 100, fill: 97), .create("d/b", mode: 0o600, exclusive: false)]
        var names = Names(made: ["d", "a", "d/b"])
        return Array(start.prefix(length)) + (0..<max(0, length - start.count)).map { _ in operation(&g, &names) }
    }

    static func operation(_ g: inout SeededGenerator, _ n: inout Names) -> FileOperation {
        let roll = Int.random(in: 0..<100, using: &g)
        // Operations that make an entry name a fresh path half the time; the rest mostly meet
        // existing ones.
        let makes = [0..<10, 20..<26, 54..<58, 66..<76].contains { $0.contains(roll) }
        let p = makes && Bool.random(using: &g) ? n.fresh(&g) : n.path(&g)
        let fill = UInt8.random(in: 33...126, using: &g)
        let modes: [mode_t] = [0o644, 0o600, 0o755, 0o700, 0o444, 0o4755, 0o1777, 0o2750]
        switch roll {
        case 0..<10: return .create(p, mode: modes.randomElement(using: &g)!, exclusive: Bool.random(using: &g))
        case 10..<20:
            let offset = [0, 1, 100, 4095, 4096, 10_000, 70_000].randomElement(using: &g)!
            return .write(p, offset: offset, length: Int.random(in: 1...5000, using: &g), fill: fill)
        case 20..<26: return .append(p, length: Int.random(in: 1...3000, using: &g), fill: fill, create: Bool.random(using: &g))
        case 26..<28: return .concurrentWrites(p, length: Int.random(in: 1...20_000, using: &g))
        case 28..<32: return .read(p, offset: Int.random(in: 0...12_000, using: &g), count: Int.random(in: 1...8000, using: &g))
        case 32..<36: return .truncate(p, length: [0, 1, 50, 4096, 9000, 100_000].randomElement(using: &g)!)
        case 36..<38: return .openTruncate(p)
        case 38..<41:
            // 0 allocates (and may grow), 1 keeps the size, 3 punches a hole.
            return .fallocate(p, mode: [0, 1, 3].randomElement(using: &g)!, offset: Int.random(in: 0...8192, using: &g),
                              length: Int.random(in: 1...16_384, using: &g))
        case 41..<50: return .rename(p, n.path(&g), flags: [0, 0, 0, 1, 2].randomElement(using: &g)!)
        case 50..<54: return .link(p, n.path(&g))
        case 54..<58: return .symlink(target: n.target(&g), p)
        case 58..<60: return .readlink(p)
        case 60..<66: return .unlink(p)
        case 66..<74: return .mkdir(p, mode: [0o755, 0o700, 0o1777].randomElement(using: &g)!)
        case 74..<76: return .mkdir(p, mode: 0o755)
        case 76..<79: return .rmdir(p)
        case 79..<82: return .chmod(p, mode: modes.randomElement(using: &g)!)
        case 82..<84: return .lchown(p, uid: [0, 1000, 1234].randomElement(using: &g)!, gid: [0, 100, 5678].randomElement(using: &g)!)
        case 84..<87:
            return .utimens(p, atime: Int.random(in: 1_000...900_000_000, using: &g), mtime: Int.random(in: 1_000...900_000_000, using: &g),
                            noFollow: Bool.random(using: &g))
        case 87..<91:
            let flags: Int32 = [0, 0, Int32(XATTR_CREATE), Int32(XATTR_REPLACE)].randomElement(using: &g)!
            return .setxattr(p, name: ["user.a", "user.b"].randomElement(using: &g)!, value: String(repeating: Character(UnicodeScalar(fill)), count: Int.random(in: 0...40, using: &g)), flags: flags)
        case 91..<93: return .getxattr(p, name: ["user.a", "user.b"].randomElement(using: &g)!)
        case 93..<95: return .removexattr(p, name: ["user.a", "user.b"].randomElement(using: &g)!)
        case 95..<96: return .listxattr(p)
        case 96..<98: return .lstat(p)
        default: return .readdir(Int.random(in: 0..<3, using: &g) == 0 ? "." : p)
        }
    }
}

/// Applies operations under a base directory and says what the caller saw.
enum OperationRunner {
    /// "ok ..." with what the call returned, or "error NAME" with its errno.
    static func apply(_ op: FileOperation, in base: String) -> String {
        func at(_ p: String) -> String { p == "." ? base : base + "/" + p }
        func failed() -> String { "error \(errnoName(errno))" }
        func result(_ r: Int) -> String { r < 0 ? failed() : "ok \(r)" }
        errno = 0
        switch op {
        case .create(let p, let mode, let exclusive):
            let fd = open(at(p), O_CREAT | O_WRONLY | O_CLOEXEC | (exclusive ? O_EXCL : 0), mode)
            if fd < 0 { return failed() }
            close(fd)
            return "ok"
        case .write(let p, let offset, let length, let fill):
            let fd = open(at(p), O_WRONLY | O_CLOEXEC)
            if fd < 0 { return failed() }
            defer { close(fd) }
            let bytes = [UInt8](repeating: fill, count: length)
            return result(pwrite(fd, bytes, length, off_t(offset)))
        case .append(let p, let length, let fill, let create):
            let fd = open(at(p), O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
            if fd < 0 { return failed() }
            defer { close(fd) }
            let bytes = [UInt8](repeating: fill, count: length)
            let n = write(fd, bytes, length)
            if n < 0 { return failed() }
            return "ok \(n) at \(lseek(fd, 0, SEEK_CUR))"
        case .concurrentWrites(let p, let length):
            let first = open(at(p), O_WRONLY | O_CLOEXEC)
            if first < 0 { return failed() }
            let second = open(at(p), O_WRONLY | O_CLOEXEC)
            defer { close(first); close(second) }
            let results = WriterResults()
            let group = DispatchGroup()
            for (i, fd) in [first, second].enumerated() {
                DispatchQueue.global().async(group: group) {
                    let bytes = [UInt8](repeating: UInt8(65 + i), count: length)
                    let n = pwrite(fd, bytes, length, off_t(i * length))
                    results.values.withLock { $0[i] = n < 0 ? -Int(errno) : n }
                }
            }
            group.wait()
            let written = results.values.withLock { $0 }
            return "ok \(written[0]) \(written[1])"
        case .read(let p, let offset, let count):
            let fd = open(at(p), O_RDONLY | O_CLOEXEC)
            if fd < 0 { return failed() }
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: count)
            let n = pread(fd, &buf, count, off_t(offset))
            if n < 0 { return failed() }
            return "ok \(n) digest \(digest(buf[0..<n]))"
        case .truncate(let p, let length): return result(Int(truncate(at(p), off_t(length))))
        case .openTruncate(let p):
            let fd = open(at(p), O_WRONLY | O_TRUNC | O_CLOEXEC)
            if fd < 0 { return failed() }
            close(fd)
            return "ok"
        case .fallocate(let p, let mode, let offset, let length):
            let fd = open(at(p), O_RDWR | O_CLOEXEC)
            if fd < 0 { return failed() }
            defer { close(fd) }
            return result(Int(cairn_fallocate(fd, mode, off_t(offset), off_t(length))))
        case .rename(let a, let b, let flags): return result(Int(cairn_renameat2(AT_FDCWD, at(a), AT_FDCWD, at(b), flags)))
        case .link(let a, let b): return result(Int(link(at(a), at(b))))
        case .symlink(let target, let p): return result(Int(symlink(target, at(p))))
        case .readlink(let p):
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink(at(p), &buf, 255)
            if n < 0 { return failed() }
            return "ok " + String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        case .unlink(let p): return result(Int(unlink(at(p))))
        case .mkdir(let p, let mode): return result(Int(mkdir(at(p), mode)))
        case .rmdir(let p): return result(Int(rmdir(at(p))))
        case .chmod(let p, let mode): return result(Int(chmod(at(p), mode)))
        case .lchown(let p, let uid, let gid): return result(Int(lchown(at(p), uid, gid)))
        case .utimens(let p, let atime, let mtime, let noFollow):
            var times = [timespec(tv_sec: atime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
            if utimensat(AT_FDCWD, at(p), &times, noFollow ? AT_SYMLINK_NOFOLLOW : 0) != 0 { return failed() }
            var st = stat()
            let r = noFollow ? lstat(at(p), &st) : stat(at(p), &st)
            if r != 0 { return "ok, then stat: " + failed() }
            return "ok atime \(st.st_atim.tv_sec) mtime \(st.st_mtim.tv_sec)"
        case .setxattr(let p, let name, let value, let flags):
            return result(Int(setxattr(at(p), name, value, value.utf8.count, flags)))
        case .getxattr(let p, let name):
            var buf = [UInt8](repeating: 0, count: 128)
            let n = getxattr(at(p), name, &buf, 128)
            if n < 0 { return failed() }
            return "ok " + String(decoding: buf[0..<n], as: UTF8.self)
        case .removexattr(let p, let name): return result(Int(removexattr(at(p), name)))
        case .listxattr(let p):
            var buf = [CChar](repeating: 0, count: 1024)
            let n = listxattr(at(p), &buf, 1024)
            if n < 0 { return failed() }
            return "ok " + xattrNames(buf[0..<n]).joined(separator: ",")
        case .lstat(let p):
            var st = stat()
            if lstat(at(p), &st) != 0 { return failed() }
            return "ok mode \(String(st.st_mode, radix: 8)) size \(st.st_mode & S_IFMT == S_IFDIR ? 0 : st.st_size) links \(st.st_nlink)"
        case .readdir(let p):
            guard let dir = opendir(at(p)) else { return failed() }
            defer { closedir(dir) }
            return "ok " + entries(dir).joined(separator: ",")
        }
    }

    static func entries(_ dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func xattrNames(_ bytes: ArraySlice<CChar>) -> [String] {
        bytes.split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }.sorted()
    }

    static func digest<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    static func errnoName(_ e: Int32) -> String {
        let known: [Int32: String] = [
            EPERM: "EPERM", ENOENT: "ENOENT", EIO: "EIO", EBADF: "EBADF", EACCES: "EACCES", EEXIST: "EEXIST", EXDEV: "EXDEV",
            ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", EFBIG: "EFBIG", ENOSPC: "ENOSPC", EMLINK: "EMLINK",
            ENAMETOOLONG: "ENAMETOOLONG", ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP", ENODATA: "ENODATA", EOPNOTSUPP: "EOPNOTSUPP",
            ERANGE: "ERANGE", EDQUOT: "EDQUOT", ENOTCONN: "ENOTCONN", ENOSYS: "ENOSYS", ETXTBSY: "ETXTBSY", EBUSY: "EBUSY",
        ]
        return known[e] ?? "errno \(e)"
    }
}

/// What a tree holds, one line per entry in path order: type, mode, owner, links, size, content
/// digest, symlink target, xattrs, the mtime when a utimens set it (before 2001: a write since would
/// have moved it to now), and which paths share an inode.
enum TreeSnapshot {
    static func lines(of base: String) -> [String] {
        var out: [String] = []
        var inodes: [UInt64: [String]] = [:]
        func walk(_ relative: String) {
            let path = relative.isEmpty ? base : base + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0 else {
                out.append("\(relative): lstat \(OperationRunner.errnoName(errno))")
                return
            }
            let type = st.st_mode & S_IFMT
            var line = "\(relative.isEmpty ? "." : relative) mode \(String(st.st_mode, radix: 8)) owner \(st.st_uid):\(st.st_gid) links \(st.st_nlink)"
            if type != S_IFDIR { line += " size \(st.st_size)" }
            if st.st_mtim.tv_sec < 1_000_000_000 { line += " mtime \(st.st_mtim.tv_sec)" }
            switch type {
            case S_IFREG:
                line += " digest \(contentDigest(path))"
                inodes[UInt64(st.st_ino), default: []].append(relative)
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: 256)
                let n = readlink(path, &buf, 255)
                line += " -> " + (n < 0 ? "?" : String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            default: break
            }
            if type != S_IFLNK {
                var names = [CChar](repeating: 0, count: 1024)
                let n = llistxattr(path, &names, 1024)
                if n > 0 {
                    for name in OperationRunner.xattrNames(names[0..<n]) {
                        var value = [UInt8](repeating: 0, count: 128)
                        let m = lgetxattr(path, name, &value, 128)
                        line += " \(name)=" + (m < 0 ? "?" : String(decoding: value[0..<m], as: UTF8.self))
                    }
                }
            }
            out.append(line)
            if type == S_IFDIR, let dir = opendir(path) {
                let names = OperationRunner.entries(dir)
                closedir(dir)
                for name in names { walk(relative.isEmpty ? name : relative + "/" + name) }
            }
        }
        walk("")
        for group in inodes.values.filter({ $0.count > 1 }).map({ $0.sorted() }).sorted(by: { $0[0] < $1[0] }) {
            out.append("same inode: " + group.joined(separator: " "))
        }
        return out
    }

    static func contentDigest(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { return "unreadable \(OperationRunner.errnoName(errno))" }
        defer { close(fd) }
        var all: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 { return "read \(OperationRunner.errnoName(errno))" }
            if n == 0 { break }
            all += buf[0..<n]
        }
        return OperationRunner.digest(all)
    }

    /// The first lines that differ, for a failure message.
    static func difference(_ native: [String], _ cairn: [String]) -> String {
        let onlyNative = native.filter { !cairn.contains($0) }
        let onlyCairn = cairn.filter { !native.contains($0) }
        return "native only:\n    " + onlyNative.prefix(6).joined(separator: "\n    ")
            + "\n  cairn only:\n    " + onlyCairn.prefix(6).joined(separator: "\n    ")
    }
}

/// Removes a tree whatever its modes (the sequences chmod directories to 0444 and 0700).
func removeSequenceTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR {
        chmod(path, 0o700)
        if let dir = opendir(path) {
            let names = OperationRunner.entries(dir)
            closedir(dir)
            for n in names { removeSequenceTree(path + "/" + n) }
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// What each of the concurrent writers' pwrite returned (-errno on failure).
final class WriterResults: Sendable {
    let values = Mutex<[Int]>([0, 0])
}
