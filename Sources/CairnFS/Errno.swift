import CFuseKernel
import Glibc

/// An errno value: the one currency of failure inside the filesystem. Every backing call that
/// fails becomes an `Errno` here, and the FUSE bridge turns it into `fuse_reply_err` in one place
/// (`FuseBridge.serve`).
struct Errno: Error, Equatable, CustomStringConvertible {
    let code: Int32

    init(_ code: Int32) { self.code = code }

    /// The calling thread's errno, read right after a failed call.
    static var current: Errno { Errno(cairn_errno()) }

    var description: String { String(cString: strerror(code)) }

    static let notFound = Errno(ENOENT)
    static let stale = Errno(ESTALE)
    static let readOnly = Errno(EROFS)
    static let noSpace = Errno(ENOSPC)
    static let crossDevice = Errno(EXDEV)
    static let invalid = Errno(EINVAL)
    static let notPermitted = Errno(EPERM)
    static let notSupported = Errno(EOPNOTSUPP)
    static let busy = Errno(EBUSY)
}

/// Runs a syscall that returns -1 and sets errno on failure, retrying EINTR.
@inline(__always)
func sys(_ call: () -> Int32) throws(Errno) -> Int32 {
    while true {
        let r = call()
        if r >= 0 { return r }
        let e = Errno.current
        if e.code != EINTR { throw e }
    }
}

/// Same as `sys` for calls returning ssize_t.
@inline(__always)
func sysSize(_ call: () -> Int) throws(Errno) -> Int {
    while true {
        let r = call()
        if r >= 0 { return r }
        let e = Errno.current
        if e.code != EINTR { throw e }
    }
}

/// Errors of the public API: what failed, on which path or volume, and the errno text.
public enum FileSystemError: Error, CustomStringConvertible, Equatable {
    case mountPointInvalid(path: String, errno: Int32)
    case sessionCreateFailed(path: String)
    case mountFailed(path: String, errno: Int32)
    case notMounted(path: String)
    case invalidVolumeID(id: String)
    case backingUnavailable(id: String, path: String, errno: Int32)
    case scanFailed(id: String, path: String, errno: Int32)
    case conflictingSpec(id: String, attached: VolumeSpec, requested: VolumeSpec)
    case unknownVolume(id: String)
    case volumeBusy(id: String, openHandles: Int)
    case invalidCapacity(id: String, bytes: Int64)
    case quotaFailed(id: String, path: String, errno: Int32)
    case tooManyVolumes(id: String, limit: Int)
    case mountBusy(path: String)

    public var description: String {
        switch self {
        case let .mountPointInvalid(path, errno):
            return "mount point \(path) is not usable: \(errnoText(errno)); create it as an empty directory"
        case let .sessionCreateFailed(path):
            return "libfuse could not create a session for \(path) (bad options or out of memory; see libfuse's message on stderr)"
        case let .mountFailed(path, errno):
            return "mounting the FUSE filesystem on \(path) failed: \(errnoText(errno)); is /dev/fuse present and is the daemon root? A dead earlier mount can be removed with cleanStaleMount"
        case let .notMounted(path):
            return "the filesystem at \(path) is not mounted; call mount() before attaching volumes"
        case let .invalidVolumeID(id):
            return "volume id \"\(id)\" cannot be a directory name: it must be non-empty, at most 255 bytes, not \".\" or \"..\" and contain no \"/\" or NUL"
        case let .backingUnavailable(id, path, errno):
            return "volume \(id): backing directory \(path) cannot be opened: \(errnoText(errno))"
        case let .scanFailed(id, path, errno):
            return "volume \(id): scanning usage of \(path) failed: \(errnoText(errno))"
        case let .conflictingSpec(id, attached, requested):
            return "volume \(id) is already attached with backing \(attached.backingPath), capacity \(attached.capacityBytes), readOnly \(attached.readOnly); the request asks for backing \(requested.backingPath), capacity \(requested.capacityBytes), readOnly \(requested.readOnly): detach it first"
        case let .unknownVolume(id):
            return "volume \(id) is not attached to this node filesystem"
        case let .volumeBusy(id, openHandles):
            return "volume \(id) still has \(openHandles) open file or directory handle(s); stop the pods using it (and unmount their bind mounts) before detaching"
        case let .invalidCapacity(id, bytes):
            return "volume \(id): capacity \(bytes) bytes is not valid; it must be positive"
        case let .quotaFailed(id, path, errno):
            return "volume \(id): setting the project quota of \(path) failed: \(errnoText(errno)); the data root's filesystem reports project quotas as enforced, so check its quota state (quotactl) or attach with project quotas off"
        case let .tooManyVolumes(id, limit):
            return "volume \(id): the node filesystem already serves its limit of \(limit); detach unused volumes first"
        case let .mountBusy(path):
            return "\(path) is served by another running cairnfs daemon (its descriptor holder has an owner); stop that one first"
        }
    }
}

func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
