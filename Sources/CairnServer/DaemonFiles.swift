import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One daemon per state directory: an exclusive flock on <state>/cairn.lock, held for the daemon's life.
final class StateLock: @unchecked Sendable {
    let fd: Int32
    let path: String

    init(stateDir: String) throws {
        path = "\(stateDir)/cairn.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DaemonError("cannot open \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, 31, 0)
            let pid = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(fd)
            throw DaemonError("another cairn serve (pid \(pid)) is already running with state directory \(stateDir); stop it first or use another --state-dir")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// The daemon's Unix socket, which it never takes from another process and never removes unless it
/// is still the one it bound: a live socket (something accepts connections on it) is refused with the
/// pid of its owner; a stale file (left by a crash) is replaced.
final class OwnedSocket: Sendable {
    let path: String
    /// Device and inode of the socket file this daemon bound.
    private let identity = Mutex<(UInt64, UInt64)?>(nil)

    init(path: String) throws {
        self.path = path
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw DaemonError("\(path) exists and is not a socket; remove it or choose another --socket")
        }
        if let pid = Self.listener(path) {
            throw DaemonError("socket \(path) is in use by pid \(pid); stop that daemon first or choose another --socket")
        }
        unlink(path)
    }

    /// The pid of the process accepting connections on the socket, or nil if nothing does.
    static func listener(_ path: String) -> pid_t? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return nil }
        // struct ucred (pid, uid, gid), which Glibc's module map leaves out.
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return -1 }
        return credentials.pid
    }

    /// Called once the socket is bound: remembers which file is ours.
    func claim() {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        identity.withLock { $0 = (UInt64(st.st_dev), UInt64(st.st_ino)) }
    }

    /// Removes the socket file if it is still the one this daemon bound.
    func release() {
        guard let (dev, ino) = identity.withLock({ $0 }) else { return }
        var st = stat()
        guard stat(path, &st) == 0, UInt64(st.st_dev) == dev, UInt64(st.st_ino) == ino else { return }
        unlink(path)
    }
}

struct PeerCredentials {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

/// SIGHUP asks the daemon to exit handing its mounts over (see Daemon.run).
final class HandOverSignal: @unchecked Sendable {
    private let flag = NSLock()
    private var set = false
    private var source: DispatchSourceSignal?

    var requested: Bool { flag.withLock { set } }

    func install(_ trigger: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGHUP)
        s.setEventHandler { [self] in
            flag.withLock { set = true }
            trigger()
        }
        s.resume()
        source = s
    }
}

