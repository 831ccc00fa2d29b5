#if canImport(Glibc)
import Glibc
#endif

/// The Linux calls CairnNode makes, in one place. Swift's Glibc module is imported without
/// _GNU_SOURCE, so the Linux-only constants and calls it hides are spelled out here.
enum Sys {
    // fcntl.h values that are the same on x86_64 and aarch64.
    static let O_PATH: Int32 = 0o10000000
    static let O_NOATIME: Int32 = 0o1000000
    static let CLONE_NEWNS: Int32 = 0x0002_0000
    static let MNT_DETACH: Int32 = 2
    // statvfs f_flag bits (bits/statvfs.h) and the matching mount(2) flags.
    static let stFlagsToMountFlags: [(UInt, UInt)] = [
        (2, UInt(MS_NOSUID)), (4, UInt(MS_NODEV)), (8, UInt(MS_NOEXEC)),
        (1024, UInt(MS_NOATIME)), (2048, UInt(MS_NODIRATIME)), (4096, UInt(MS_RELATIME)),
    ]
    static let ST_RDONLY: UInt = 1

    static func error(_ operation: String, _ path: String, _ code: Int32 = errno) -> NodeError {
        .system(operation: operation, path: path, errno: code)
    }

    static func isDirectory(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFDIR }
    static func isSymlink(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFLNK }
    static func isRegular(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFREG }

    /// lstat-like; nil with errno set when it fails.
    static func lstatAt(_ dirfd: Int32, _ name: [UInt8]) -> stat? {
        var st = stat()
        let rc = withCName(name) { fstatat(dirfd, $0, &st, AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? st : nil
    }

    static func statPath(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return fstatat(AT_FDCWD, path, &st, 0) == 0 ? st : nil
    }

    static func lstatPath(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    /// Opens a directory below `dirfd` without following a symlink in the last component.
    static func openDirectory(at dirfd: Int32, _ name: [UInt8]) -> Int32 {
        withCName(name) { openat(dirfd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    }

    /// The names in a directory, as raw bytes (a name need not be UTF-8), without "." and "..".
    static func entries(of dirfd: Int32, path: String) throws(NodeError) -> [[UInt8]] {
        // A second descriptor of its own, so closedir neither closes `dirfd` nor moves its offset.
        let own = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard own >= 0 else { throw error("open", path) }
        guard let dir = fdopendir(own) else {
            let code = errno
            close(own)
            throw error("opendir", path, code)
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw error("readdir", path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [46] || name == [46, 46] { continue }
            names.append(name)
        }
        return names
    }

    static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (name + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    static func display(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }

    /// The mount a descriptor lives on, from /proc/self/fdinfo: unlike st_dev, this tells a bind
    /// mount of the same filesystem apart.
    static func mountID(of fd: Int32) -> Int? {
        guard let text = readSmallFile("/proc/self/fdinfo/\(fd)") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("mnt_id:") {
            return Int(line.dropFirst("mnt_id:".count).trimmingCharacters())
        }
        return nil
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func writeFile(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    /// mkdir -p: creates the missing directories of `path` with `mode` (umask applies).
    static func makeDirectories(_ path: String, mode: mode_t) throws(NodeError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) == 0 || errno == EEXIST { continue }
            throw error("mkdir", current)
        }
        if let st = statPath(path), !isDirectory(st) { throw NodeError.notADirectory(path: path) }
    }

    /// An absolute path with "//", "." and ".." folded away, without touching the filesystem.
    static func lexicallyNormalized(_ path: String) -> String {
        var base: [Substring] = []
        if !path.hasPrefix("/"), let cwd = currentDirectory() {
            base = cwd.split(separator: "/")
        }
        for component in path.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": if !base.isEmpty { base.removeLast() }
            default: base.append(component)
            }
        }
        return "/" + base.joined(separator: "/")
    }

    /// The path as /proc/self/mountinfo spells it: symlinks in the parent resolved, the last
    /// component kept as is (so a dead FUSE mount point, whose stat fails, still resolves).
    static func canonical(_ path: String) -> String {
        let normalized = lexicallyNormalized(path)
        if normalized == "/" { return "/" }
        let parent = parentPath(normalized)
        let last = normalized.split(separator: "/").last.map(String.init) ?? ""
        guard let resolved = realpath(parent, nil) else { return normalized }
        defer { free(resolved) }
        let real = String(cString: resolved)
        return real == "/" ? "/" + last : real + "/" + last
    }

    static func parentPath(_ path: String) -> String {
        var components = path.split(separator: "/")
        guard !components.isEmpty else { return "/" }
        components.removeLast()
        return "/" + components.joined(separator: "/")
    }

    /// `path` equals `prefix` or lies below it (both normalized).
    static func isAtOrBelow(_ path: String, _ prefix: String) -> Bool {
        if prefix == "/" { return true }
        return path == prefix || path.hasPrefix(prefix + "/")
    }

    static func currentDirectory() -> String? {
        guard let cwd = getcwd(nil, 0) else { return nil }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// The mount(2) flags that a read-only remount must repeat so it does not clear them.
    static func preservedMountFlags(_ path: String) -> UInt {
        var sv = statvfs()
        guard statvfs(path, &sv) == 0 else { return 0 }
        var flags: UInt = 0
        for (st, ms) in stFlagsToMountFlags where sv.f_flag & st != 0 { flags |= ms }
        return flags
    }

    static func isReadOnlyMount(_ path: String) -> Bool? {
        var sv = statvfs()
        guard statvfs(path, &sv) == 0 else { return nil }
        return sv.f_flag & ST_RDONLY != 0
    }

    // MARK: calls Glibc does not declare without _GNU_SOURCE, found at run time.

    nonisolated(unsafe) private static let libc = dlopen(nil, RTLD_NOW)

    static func unshare(_ flags: Int32) -> Int32 {
        typealias Fn = @convention(c) (Int32) -> Int32
        guard let symbol = dlsym(libc, "unshare") else { errno = ENOSYS; return -1 }
        return unsafeBitCast(symbol, to: Fn.self)(flags)
    }

    static func pivotRoot(_ newRoot: String, _ putOld: String) -> Int32 {
        // glibc has no wrapper; its syscall() is assembly that only moves registers, so calling it
        // through a fixed-arity pointer is sound on x86_64 and aarch64.
        #if arch(x86_64)
        let number = 155
        #elseif arch(arm64)
        let number = 41
        #else
        errno = ENOSYS; return -1
        #endif
        typealias Fn = @convention(c) (Int, UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int
        guard let symbol = dlsym(libc, "syscall") else { errno = ENOSYS; return -1 }
        return Int32(truncatingIfNeeded: unsafeBitCast(symbol, to: Fn.self)(number, newRoot, putOld))
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" { s.removeLast() }
        return s
    }
}
