#if canImport(Glibc)
import Glibc
#endif

/// A depth-first walk of one directory tree that never follows a symlink and never leaves the
/// mount it starts on: every step is an openat/fstatat relative to the parent's descriptor.
struct TreeWalk {
    struct Entry {
        /// Descriptor of the directory holding the entry; -1 for the root.
        let parent: Int32
        let name: [UInt8]
        /// Relative to the root, "." for the root itself.
        let relativePath: [UInt8]
        let info: stat
        /// A directory that is another mount (or a bind mount): reported, not entered.
        let isMountPoint: Bool
    }

    let rootPath: String
    /// Children in byte order of their names, so the walk order does not depend on the filesystem.
    var sorted = false

    func run(_ visit: (Entry) throws(NodeError) -> Void) throws(NodeError) {
        let root = open(rootPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else {
            if errno == ELOOP || errno == ENOTDIR { throw NodeError.notADirectory(path: rootPath) }
            throw Sys.error("open", rootPath)
        }
        defer { close(root) }
        var info = stat()
        guard fstat(root, &info) == 0 else { throw Sys.error("stat", rootPath) }
        try visit(Entry(parent: -1, name: [], relativePath: [46], info: info, isMountPoint: false))
        try walk(directory: root, relativePath: [], rootDevice: info.st_dev,
                 rootMount: Sys.mountID(of: root), visit)
    }

    private func walk(directory: Int32, relativePath: [UInt8], rootDevice: dev_t, rootMount: Int?,
                      _ visit: (Entry) throws(NodeError) -> Void) throws(NodeError) {
        let displayPath = rootPath + (relativePath.isEmpty ? "" : "/" + Sys.display(relativePath))
        var names = try Sys.entries(of: directory, path: displayPath)
        if sorted { names.sort { $0.lexicographicallyPrecedes($1) } }
        for name in names {
            let childPath = relativePath.isEmpty ? name : relativePath + [47] + name
            // Gone between readdir and stat: a concurrent delete, not an error.
            guard let info = Sys.lstatAt(directory, name) else {
                if errno == ENOENT { continue }
                throw Sys.error("stat", rootPath + "/" + Sys.display(childPath))
            }
            guard Sys.isDirectory(info) else {
                try visit(Entry(parent: directory, name: name, relativePath: childPath, info: info,
                                isMountPoint: false))
                continue
            }
            let child = Sys.openDirectory(at: directory, name)
            guard child >= 0 else {
                if errno == ENOENT { continue }
                throw Sys.error("open", rootPath + "/" + Sys.display(childPath))
            }
            defer { close(child) }
            let mounted = info.st_dev != rootDevice || Sys.mountID(of: child) != rootMount
            try visit(Entry(parent: directory, name: name, relativePath: childPath, info: info,
                            isMountPoint: mounted))
            if !mounted {
                try walk(directory: child, relativePath: childPath, rootDevice: rootDevice,
                         rootMount: rootMount, visit)
            }
        }
    }
}
