#if canImport(Glibc)
import Glibc
#endif
import CFuseKernel
import CairnCrashPoint
import Crypto

/// Volume directories under a node's data root. Every operation below the data root goes through
/// a descriptor opened with O_NOFOLLOW|O_DIRECTORY, so a symlink a pod left inside its volume can
/// never make Cairn touch anything outside it.
public enum VolumeDirectory {
    /// Mode of a data root that Cairn creates: others may traverse to a volume, not list them.
    static let dataRootMode: mode_t = 0o711

    /// Creates `<dataRoot>/<name>` with exactly `mode`, and the data root if missing. Asking again
    /// for a directory that exists returns it and sets its mode again, so a crash between mkdir and
    /// chmod heals on the retry. On btrfs with qgroups on, the directory is a subvolume (the
    /// kernel then limits it to the volume's capacity, see CairnFS) whose files are NOCOW, so that
    /// overwrites stay in place as on ext4 and a full volume still accepts them.
    @discardableResult
    public static func create(dataRoot: String, name: String, mode: UInt32) throws -> String {
        try checkName(name)
        let root = try openDataRoot(dataRoot, createIfMissing: true)
        defer { close(root) }
        let path = join(dataRoot, name)
        let bytes = Array(name.utf8)
        let subvolume = cairn_fs_type(root) == CAIRN_BTRFS_SUPER_MAGIC && cairn_btrfs_quota_enabled(root) == 1
        if subvolume {
            let r = Sys.withCName(bytes) { cairn_btrfs_subvolume_create(root, $0) }
            if r != 0 && r != -EEXIST {
                errno = -r
                throw Sys.error("btrfs subvolume create", path)
            }
        } else if Sys.withCName(bytes, { mkdirat(root, $0, 0o700) }) != 0, errno != EEXIST {
            throw Sys.error("mkdir", path)
        }
        let dir = Sys.openDirectory(at: root, bytes)
        guard dir >= 0 else {
            if errno == ELOOP || errno == ENOTDIR { throw NodeError.notADirectory(path: path) }
            throw Sys.error("open", path)
        }
        defer { close(dir) }
        if subvolume && cairn_set_nocow(dir) != 0 { throw Sys.error("chattr +C", path) }
        guard fchmod(dir, mode_t(mode & 0o7777)) == 0 else { throw Sys.error("chmod", path) }
        return path
    }

    /// Deletes `<dataRoot>/<name>` and everything in it. Symlinks are unlinked, never followed; a
    /// mount anywhere inside stops the removal before anything is deleted. Gone already is success.
    public static func remove(dataRoot: String, name: String) throws {
        try checkName(name)
        let path = join(dataRoot, name)
        guard let root = try dataRootIfPresent(dataRoot) else { return }
        defer { close(root) }
        let bytes = Array(name.utf8)
        guard let info = Sys.lstatAt(root, bytes) else {
            if errno == ENOENT { return }
            throw Sys.error("stat", path)
        }
        guard Sys.isDirectory(info) else {
            // A symlink or a file where the volume was: remove the link itself, nothing it points to.
            if Sys.withCName(bytes, { unlinkat(root, $0, 0) }) != 0, errno != ENOENT {
                throw Sys.error("unlink", path)
            }
            return
        }
        let canonicalTree = Sys.canonical(path)
        if let inside = MountTable.mounts().first(where: { Sys.isAtOrBelow($0.mountPoint, canonicalTree) }) {
            throw NodeError.mountInside(tree: path, mountPoint: inside.mountPoint)
        }
        let dir = Sys.openDirectory(at: root, bytes)
        guard dir >= 0 else {
            if errno == ENOENT { return }
            throw Sys.error("open", path)
        }
        do {
            defer { close(dir) }
            var dirInfo = stat()
            guard fstat(dir, &dirInfo) == 0 else { throw Sys.error("stat", path) }
            try removeContents(of: dir, path: path, device: dirInfo.st_dev, mount: Sys.mountID(of: dir))
        }
        if Sys.withCName(bytes, { unlinkat(root, $0, AT_REMOVEDIR) }) != 0, errno != ENOENT {
            throw Sys.error("rmdir", path)
        }
    }

    private static func removeContents(of dir: Int32, path: String, device: dev_t,
                                       mount: Int?) throws(NodeError) {
        for name in try Sys.entries(of: dir, path: path) {
            let childPath = path + "/" + Sys.display(name)
            guard let info = Sys.lstatAt(dir, name) else {
                if errno == ENOENT { continue }
                throw Sys.error("stat", childPath)
            }
            if Sys.isDirectory(info) {
                let child = Sys.openDirectory(at: dir, name)
                if child < 0 {
                    if errno == ENOENT { continue }
                    // Swapped for a symlink or file since the stat: fall through and unlink it.
                    guard errno == ELOOP || errno == ENOTDIR else { throw Sys.error("open", childPath) }
                } else {
                    defer { close(child) }
                    // The mount check at the start covers mounts that exist then; this covers a
                    // mount made while we delete.
                    if info.st_dev != device || Sys.mountID(of: child) != mount {
                        throw NodeError.mountInside(tree: path, mountPoint: childPath)
                    }
                    try removeContents(of: child, path: childPath, device: device, mount: mount)
                    if Sys.withCName(name, { unlinkat(dir, $0, AT_REMOVEDIR) }) != 0, errno != ENOENT {
                        throw Sys.error("rmdir", childPath)
                    }
                    continue
                }
            }
            if Sys.withCName(name, { unlinkat(dir, $0, 0) }) != 0, errno != ENOENT {
                throw Sys.error("unlink", childPath)
            }
            CrashPoint.reached("reclaim-entry-removed")
        }
    }

    /// Allocated bytes (st_blocks * 512, like du, the directory itself included) and the number of
    /// entries below `path` (the directory itself not counted). Hard links count once; symlinks are
    /// not followed; other mounts inside are not entered.
    public static func usage(path: String) throws -> (bytes: Int64, files: Int64) {
        var bytes: Int64 = 0
        var files: Int64 = 0
        var seen = Set<FileID>()
        try TreeWalk(rootPath: path).run { entry throws(NodeError) in
            if entry.isMountPoint { return }
            let info = entry.info
            if !Sys.isDirectory(info), info.st_nlink > 1,
               !seen.insert(FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted {
                return
            }
            bytes += Int64(info.st_blocks) * 512
            if entry.parent >= 0 { files += 1 }
        }
        return (bytes, files)
    }

    /// The identity of a tree: see `Fingerprint`.
    public static func fingerprint(path: String, deep: Bool) throws -> Fingerprint {
        var builder = FingerprintBuilder(deep: deep)
        try TreeWalk(rootPath: path, sorted: true).run { entry throws(NodeError) in
            try builder.add(entry, rootPath: path)
        }
        return builder.finish()
    }

    /// Names of `pvc-*` directories in the data root that are not in `known`, sorted. A missing or
    /// unreadable data root has no orphans.
    public static func orphans(dataRoot: String, known: Set<String>) -> [String] {
        guard let root = try? openDataRoot(dataRoot, createIfMissing: false) else { return [] }
        defer { close(root) }
        guard let names = try? Sys.entries(of: root, path: dataRoot) else { return [] }
        var result: [String] = []
        for bytes in names {
            guard let name = String(validating: bytes, as: UTF8.self), name.hasPrefix("pvc-"),
                  !known.contains(name), let info = Sys.lstatAt(root, bytes), Sys.isDirectory(info)
            else { continue }
            result.append(name)
        }
        return result.sorted()
    }

    // MARK: helpers

    static func checkName(_ name: String) throws(NodeError) {
        if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.utf8.contains(0) {
            throw NodeError.invalidName(kind: "volume directory", name: name)
        }
    }

    static func join(_ dataRoot: String, _ name: String) -> String {
        dataRoot.hasSuffix("/") ? dataRoot + name : dataRoot + "/" + name
    }

    private static func dataRootIfPresent(_ dataRoot: String) throws(NodeError) -> Int32? {
        do {
            return try openDataRoot(dataRoot, createIfMissing: false)
        } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
    }

    /// The data root itself must be a real directory: a symlink there is refused, not followed.
    private static func openDataRoot(_ dataRoot: String, createIfMissing: Bool) throws(NodeError) -> Int32 {
        var fd = open(dataRoot, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0, errno == ENOENT, createIfMissing {
            try Sys.makeDirectories(Sys.parentPath(Sys.lexicallyNormalized(dataRoot)), mode: 0o755)
            if mkdir(dataRoot, 0o700) != 0, errno != EEXIST { throw Sys.error("mkdir", dataRoot) }
            fd = open(dataRoot, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0, fchmod(fd, dataRootMode) != 0 {
                let code = errno
                close(fd)
                throw Sys.error("chmod", dataRoot, code)
            }
        }
        guard fd >= 0 else {
            if errno == ELOOP || errno == ENOTDIR { throw NodeError.notADirectory(path: dataRoot) }
            throw Sys.error("open", dataRoot)
        }
        return fd
    }
}

struct FileID: Hashable {
    let device: UInt64
    let inode: UInt64
}
