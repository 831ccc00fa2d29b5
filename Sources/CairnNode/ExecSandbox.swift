#if canImport(Glibc)
import Glibc
#endif

/// One volume of a pod as `cairn exec` shows it: `hostPath` appears at `mountPath`.
public struct ExecMount: Sendable, Codable, Hashable {
    public var hostPath: String
    /// The Kubernetes mountPath, absolute ("/applog").
    public var mountPath: String
    public var readOnly: Bool

    public init(hostPath: String, mountPath: String, readOnly: Bool = false) {
        self.hostPath = hostPath
        self.mountPath = mountPath
        self.readOnly = readOnly
    }
}

/// `cairn exec POD -- CMD...`: runs a command on the host in a private mount namespace where each
/// of the pod's volumes is at its mountPath, leaving nothing behind on the host.
public enum ExecSandbox {
    /// Sets up the namespace and execs `command` (PATH lookup); never returns. Call it at the start
    /// of a fresh single-threaded process: unshare(CLONE_NEWNS) fails in a multi-threaded one.
    ///
    /// A mountPath missing on the host is made inside the namespace only: a tmpfs goes over its
    /// deepest existing ancestor with every entry of that ancestor bound back (as bubblewrap does),
    /// or, when that ancestor is `/`, a tmpfs with every top-level entry bound in becomes the new
    /// root through pivot_root. Those tmpfs layers are read-only once built, so a write beside a
    /// volume fails with EROFS instead of vanishing with the namespace.
    ///
    /// The working directory is `workingDirectory`, else the caller's if it still exists, else `/`.
    /// A failure before exec prints what failed to stderr and exits 126 (127: command not found).
    public static func run(mounts: [ExecMount], command: [String], workingDirectory: String?) -> Never {
        guard let program = command.first, !program.isEmpty else { fail("no command given", code: 126) }
        let callerDirectory = Sys.currentDirectory()
        do {
            guard Sys.unshare(Sys.CLONE_NEWNS) == 0 else {
                let code = errno
                throw NodeError.system(
                    operation: code == EINVAL ? "unshare(CLONE_NEWNS) (the process must be single-threaded)"
                        : "unshare(CLONE_NEWNS)", path: "/", errno: code)
            }
            // Nothing done from here on may propagate back to the host's mounts.
            guard mount("none", "/", nil, UInt(MS_REC) | UInt(MS_PRIVATE), nil) == 0 else {
                throw Sys.error("mount --make-rprivate", "/")
            }
            var builder = SandboxBuilder()
            for (mount, path) in try plan(mounts) { try builder.add(mount, at: path) }
            try builder.sealLayers()
        } catch {
            fail("\(error)", code: 126)
        }
        if let workingDirectory {
            if chdir(workingDirectory) != 0 { fail(Sys.error("chdir", workingDirectory).description, code: 126) }
        } else if callerDirectory.map({ chdir($0) != 0 }) ?? true {
            _ = chdir("/")
        }
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        execvp(program, &argv)
        let code = errno
        for pointer in argv { free(pointer) }
        if code == ENOENT { fail("\(program): command not found", code: 127) }
        fail("\(program): \(errnoText(code))", code: 126)
    }

    /// The mounts with clean absolute mount paths, parents before children.
    static func plan(_ mounts: [ExecMount]) throws(NodeError) -> [(ExecMount, String)] {
        var seen = Set<String>()
        var planned: [(ExecMount, String, Int)] = []
        for mount in mounts {
            let path = mount.mountPath
            let components = path.split(separator: "/")
            guard path.hasPrefix("/") else { throw .invalidMountPath(path, reason: "it must be absolute") }
            guard !components.isEmpty else { throw .invalidMountPath(path, reason: "it cannot be /") }
            guard !components.contains(where: { $0 == "." || $0 == ".." }) else {
                throw .invalidMountPath(path, reason: "it cannot contain . or ..")
            }
            let clean = "/" + components.joined(separator: "/")
            guard seen.insert(clean).inserted else { throw .invalidMountPath(path, reason: "it appears twice") }
            var absolute = mount
            absolute.hostPath = Sys.lexicallyNormalized(mount.hostPath)
            planned.append((absolute, clean, components.count))
        }
        return planned.sorted { $0.2 != $1.2 ? $0.2 < $1.2 : $0.1 < $1.1 }.map { ($0.0, $0.1) }
    }

    private static func fail(_ message: String, code: Int32) -> Never {
        let bytes = Array("cairn exec: \(message)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(code)
    }
}

/// Builds the namespace's view, one mount at a time. Runs inside the private namespace only.
struct SandboxBuilder {
    /// Directories in tmpfs layers of ours where missing mountPath components may still be made.
    private var writable: Set<String> = []
    /// Roots of the tmpfs layers, made read-only at the end.
    private var layers: [String] = []

    mutating func add(_ mount: ExecMount, at path: String) throws(NodeError) {
        guard let host = Sys.statPath(mount.hostPath) else { throw Sys.error("stat", mount.hostPath) }
        let wantDirectory = Sys.isDirectory(host)
        let components = path.split(separator: "/").map(String.init)
        func prefix(_ count: Int) -> String { "/" + components.prefix(count).joined(separator: "/") }

        // lstat, so a dangling symlink counts as existing and fails below with a clear message.
        var existing = components.count
        while existing > 0, Sys.lstatPath(prefix(existing)) == nil { existing -= 1 }
        if existing < components.count {
            let ancestor = prefix(existing)
            guard let info = Sys.statPath(ancestor), Sys.isDirectory(info) else {
                throw NodeError.notADirectory(path: ancestor)
            }
            if !writable.contains(ancestor) {
                if ancestor == "/" { try replaceRoot() } else { try overlay(ancestor) }
            }
            for count in (existing + 1)...components.count {
                let made = prefix(count)
                if count < components.count || wantDirectory {
                    guard mkdir(made, 0o755) == 0 else { throw Sys.error("mkdir (in the namespace)", made) }
                    writable.insert(made)
                } else {
                    try createPlaceholderFile(made)
                }
            }
        } else {
            guard let info = Sys.statPath(path) else { throw Sys.error("stat", path) }
            if Sys.isDirectory(info) != wantDirectory {
                throw Sys.error("mount --bind \(mount.hostPath)", path, wantDirectory ? ENOTDIR : EISDIR)
            }
        }
        guard Glibc.mount(mount.hostPath, path, nil, UInt(MS_BIND) | UInt(MS_REC), nil) == 0 else {
            throw Sys.error("mount --bind \(mount.hostPath)", path)
        }
        // From now on the path is the host's volume: making directories there would write to it.
        writable.remove(path)
        if mount.readOnly { try MountTable.remountBind(path, readOnly: true) }
    }

    func sealLayers() throws(NodeError) {
        for layer in layers { try MountTable.remountBind(layer, readOnly: true) }
    }

    /// A tmpfs over `directory` with each of its entries bound back, so it looks unchanged.
    private mutating func overlay(_ directory: String) throws(NodeError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Sys.error("open", directory) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Sys.error("stat", directory) }
        // Descriptors taken before the tmpfs hides the entries; /proc/self/fd/N reaches them after.
        let entries = try Snapshot(of: fd, path: directory, keepDescriptors: true)
        defer { entries.closeDescriptors() }
        try mountLayer(at: directory, like: info)
        try entries.restore(into: directory) { entry in "/proc/self/fd/\(entry.descriptor)" }
        writable.insert(directory)
    }

    /// A tmpfs root holding a bind of every top-level entry of the old root, entered by pivot_root.
    private mutating func replaceRoot() throws(NodeError) {
        let fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Sys.error("open", "/") }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Sys.error("stat", "/") }
        let entries = try Snapshot(of: fd, path: "/", keepDescriptors: false)
        close(fd)
        let names = Set(entries.items.map(\.name))
        // The tmpfs is mounted on any existing directory: pivot_root moves it away from there, so
        // that directory's own content is bound back like every other entry.
        let base = ["tmp", "mnt", "run"].first { names.contains(Array($0.utf8)) && Sys.statPath("/" + $0).map(Sys.isDirectory) == true }
            .map { "/" + $0 } ?? "/tmp"
        var oldRoot = ".cairn-old-root"
        while names.contains(Array(oldRoot.utf8)) { oldRoot += "_" }

        try mountLayer(at: base, like: info)
        guard mkdir(base + "/" + oldRoot, 0o700) == 0 else { throw Sys.error("mkdir", base + "/" + oldRoot) }
        guard Sys.pivotRoot(base, base + "/" + oldRoot) == 0 else { throw Sys.error("pivot_root", base) }
        _ = chdir("/")
        // Layers made before are still at their paths: the new root binds them in with their parents.
        layers[layers.count - 1] = "/"
        try entries.restore(into: "/") { entry in "/" + oldRoot + "/" + Sys.display(entry.name) }
        guard umount2("/" + oldRoot, Sys.MNT_DETACH) == 0 else { throw Sys.error("umount --lazy", "/" + oldRoot) }
        _ = rmdir("/" + oldRoot)
        writable.insert("/")
    }

    private mutating func mountLayer(at directory: String, like info: stat) throws(NodeError) {
        guard Glibc.mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID) | UInt(MS_NODEV), "mode=755") == 0 else {
            throw Sys.error("mount -t tmpfs", directory)
        }
        layers.append(directory)
        guard chmod(directory, info.st_mode & 0o7777) == 0, chown(directory, info.st_uid, info.st_gid) == 0 else {
            throw Sys.error("chmod", directory)
        }
    }

    private func createPlaceholderFile(_ path: String) throws(NodeError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Sys.error("create (in the namespace)", path) }
        close(fd)
    }
}

/// The entries of a directory, taken before something is mounted over it.
private struct Snapshot {
    enum Kind { case directory, file, symlink([UInt8]) }
    struct Item {
        let name: [UInt8]
        let kind: Kind
        /// O_PATH descriptor of the entry (-1 for symlinks or when not kept).
        let descriptor: Int32
    }

    let items: [Item]

    init(of dirfd: Int32, path: String, keepDescriptors: Bool) throws(NodeError) {
        var items: [Item] = []
        do throws(NodeError) {
            for name in try Sys.entries(of: dirfd, path: path) {
                let full = (path == "/" ? "" : path) + "/" + Sys.display(name)
                guard let info = Sys.lstatAt(dirfd, name) else {
                    if errno == ENOENT { continue }
                    throw Sys.error("stat", full)
                }
                if Sys.isSymlink(info) {
                    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                    let n = Sys.withCName(name) { cName in
                        buffer.withUnsafeMutableBytes { readlinkat(dirfd, cName, $0.baseAddress!, $0.count) }
                    }
                    guard n >= 0 else { throw Sys.error("readlink", full) }
                    items.append(Item(name: name, kind: .symlink(Array(buffer[0..<n])), descriptor: -1))
                    continue
                }
                var descriptor: Int32 = -1
                if keepDescriptors {
                    descriptor = Sys.withCName(name) { openat(dirfd, $0, Sys.O_PATH | O_NOFOLLOW | O_CLOEXEC) }
                    guard descriptor >= 0 else { throw Sys.error("open", full) }
                }
                items.append(Item(name: name, kind: Sys.isDirectory(info) ? .directory : .file,
                                  descriptor: descriptor))
            }
        } catch {
            for item in items where item.descriptor >= 0 { close(item.descriptor) }
            throw error
        }
        self.items = items
    }

    func closeDescriptors() {
        for item in items where item.descriptor >= 0 { close(item.descriptor) }
    }

    /// Recreates each entry in `directory` (now an empty tmpfs): symlinks as symlinks, everything
    /// else as a recursive bind of `source(item)`, so mounts below an entry come along.
    func restore(into directory: String, source: (Item) -> String) throws(NodeError) {
        let base = Array((directory == "/" ? "" : directory).utf8) + [47]
        for item in items {
            let target = base + item.name
            let display = Sys.display(target)
            switch item.kind {
            case .symlink(let destination):
                let rc = Sys.withCName(destination) { d in Sys.withCName(target) { symlink(d, $0) } }
                guard rc == 0 else { throw Sys.error("symlink (in the namespace)", display) }
                continue
            case .directory:
                guard Sys.withCName(target, { mkdir($0, 0o755) }) == 0 else {
                    throw Sys.error("mkdir (in the namespace)", display)
                }
            case .file:
                let fd = Sys.withCName(target) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
                guard fd >= 0 else { throw Sys.error("create (in the namespace)", display) }
                close(fd)
            }
            let from = source(item)
            let rc = Sys.withCName(target) { mount(from, $0, nil, UInt(MS_BIND) | UInt(MS_REC), nil) }
            guard rc == 0 else { throw Sys.error("mount --bind \(from)", display) }
        }
    }
}
