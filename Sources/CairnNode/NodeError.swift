#if canImport(Glibc)
import Glibc
#endif

/// Every failure of a host-side action: what failed, on which path, and the errno text.
public enum NodeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A system call failed: `operation` is the call as a user would name it ("mkdir", "mount --bind").
    case system(operation: String, path: String, errno: Int32)
    /// A name that must be one path component was not (empty, ".", "..", or contains "/").
    case invalidName(kind: String, name: String)
    /// A path that must be a real directory is a symlink or another kind of file.
    case notADirectory(path: String)
    /// A tree removal found a mount inside the tree and stopped rather than cross it.
    case mountInside(tree: String, mountPoint: String)
    /// A pod volume path is already mounted from somewhere else.
    case mountConflict(path: String, requestedSource: String)
    /// A directory that should have been removed is not empty (or is still mounted), so it was kept.
    case notRemoved(paths: [String])
    /// A mount path for `cairn exec` that is not absolute and clean, or appears twice.
    case invalidMountPath(String, reason: String)

    /// The errno behind a `.system` failure, for callers that branch on it (EROFS, ENOENT...).
    public var errno: Int32? {
        if case .system(_, _, let code) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .system(let operation, let path, let code):
            return "\(operation) \(path): \(errnoText(code)) (errno \(code))"
        case .invalidName(let kind, let name):
            return "invalid \(kind) name \"\(name)\": it must be a single path component, not empty, \".\" or \"..\""
        case .notADirectory(let path):
            return "\(path) exists but is not a real directory (a symlink or a file); remove it or pick another path"
        case .mountInside(let tree, let mountPoint):
            return "refusing to remove \(tree): \(mountPoint) is a mount point inside it; unmount it first"
        case .mountConflict(let path, let requestedSource):
            return "\(path) is already mounted from a different source than \(requestedSource); unmount it first"
        case .notRemoved(let paths):
            return "kept \(paths.joined(separator: ", ")): not empty or still a mount point; inspect and remove by hand"
        case .invalidMountPath(let path, let reason):
            return "invalid mount path \"\(path)\": \(reason)"
        }
    }
}

func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
