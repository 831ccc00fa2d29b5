import CFuseKernel
import Glibc
import Synchronization

/// The daemon's side of the descriptor holder (Sources/CFuseKernel/holder.c): a small process,
/// one per node mount, that keeps the connection's /dev/fuse descriptors and the session memory
/// open while no daemon does. A daemon that finds a holder for its mount point takes the
/// connection over instead of mounting again.
///
/// The holder listens on an abstract Unix socket named after the mount point; it accepts only
/// root (or its own uid) as a peer, since the descriptors give full control of the mount.
struct HolderClient {
    enum Kind: UInt32 {
        case device = 1
        case clone = 2
        case sessionMemory = 3
        /// The O_PATH descriptor of an inode whose last name was removed while it was open: the
        /// daemon's own descriptors are all that keep such an inode, so without this a crash would
        /// free it under the pods that still use it. id: `InodeHooks.pinID`.
        case orphan = 4
    }

    struct Item {
        var kind: Kind
        var id: UInt64
        var fd: Int32
    }

    static let protocolVersion: UInt32 = 1
    private static let hello: UInt32 = 1, put: UInt32 = 2, drop: UInt32 = 3, get: UInt32 = 4
    private static let items: UInt32 = 5, end: UInt32 = 6, exit: UInt32 = 7

    let sock: Int32

    /// "\0cairnfs-holder-<FNV-1a of the mount point>" (abstract namespace: no file to clean up).
    static func address(for mountPoint: String) -> (sockaddr_un, socklen_t) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in mountPoint.utf8 {
            hash ^= UInt64(b)
            hash = hash &* 0x100_0000_01b3
        }
        let name = Array("cairnfs-holder-\(String(hash, radix: 16))".utf8)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { path in
            path[0] = 0
            for (i, b) in name.enumerated() { path[i + 1] = b }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        return (addr, socklen_t(pathOffset + 1 + name.count))
    }

    /// Connects to the holder of `mountPoint`, if one runs.
    static func connect(mountPoint: String) -> HolderClient? {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var (addr, len) = address(for: mountPoint)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, len) }
        }
        if r != 0 {
            Glibc.close(fd)
            return nil
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return HolderClient(sock: fd)
    }

    /// Starts a holder for `mountPoint` (this executable again, with CAIRNFS_HOLDER_SOCKET set)
    /// and connects to it.
    static func spawn(mountPoint: String) throws(Errno) -> (HolderClient, pid_t) {
        let listener = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)  // inherited by the holder
        if listener < 0 { throw Errno.current }
        defer { Glibc.close(listener) }
        var (addr, len) = address(for: mountPoint)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) }
        }
        if bound != 0 { throw Errno.current }
        if listen(listener, 8) != 0 { throw Errno.current }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for target in [Int32(0), 1, 2] {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0)
        }
        var environment = ["CAIRNFS_HOLDER_SOCKET=\(listener)"]
        var e = environ
        while let entry = e.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix("CAIRNFS_HOLDER_SOCKET=") { environment.append(text) }
            e += 1
        }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("cairnfs-holder"), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The spawning thread may block signals (the harness blocks SIGTERM for sigwait): the holder
        // starts with none blocked, so an administrator's SIGTERM still ends it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid = pid_t()
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, envp)
        if rc != 0 { throw Errno(rc) }
        // The holder is in its own session and outlives this process; the caller reaps it if it
        // ends while this process lives (after EXIT).
        guard let client = connect(mountPoint: mountPoint) else { throw Errno(ECONNREFUSED) }
        return (client, pid)
    }

    func close() { Glibc.close(sock) }

    private func send(_ words: [UInt32], fds: [Int32] = []) throws(Errno) {
        let r = words.withUnsafeBytes { b in
            fds.withUnsafeBufferPointer { f in
                cairn_send_fds(sock, b.baseAddress, b.count, f.baseAddress, Int32(f.count))
            }
        }
        if r < 0 { throw Errno(Int32(-r)) }
    }

    private func receiveStatus() throws(Errno) -> UInt32 {
        var status: UInt32 = 0
        var nfds: Int32 = 0
        var dummy: Int32 = -1
        let r = cairn_recv_fds(sock, &status, 4, &dummy, 1, &nfds)
        if nfds > 0 { Glibc.close(dummy) }
        if r < 0 { throw Errno(Int32(-r)) }
        if r < 4 { throw Errno(EPROTO) }
        return status
    }

    /// Claims the holder for this daemon. False if another daemon is still its owner.
    func hello(takeoverTimeoutMilliseconds: UInt32) throws(Errno) -> Bool {
        try send([Self.hello, Self.protocolVersion, takeoverTimeoutMilliseconds])
        switch try receiveStatus() {
        case 0: return true
        case 1: return false
        default: throw Errno(EPROTO)
        }
    }

    func put(_ items: [Item]) throws(Errno) {
        var words: [UInt32] = [Self.put, UInt32(items.count)]
        for item in items {
            words += [item.kind.rawValue, 0, UInt32(truncatingIfNeeded: item.id), UInt32(truncatingIfNeeded: item.id >> 32)]
        }
        try send(words, fds: items.map(\.fd))
        let status = try receiveStatus()
        if status != 0 { throw Errno(Int32(status)) }
    }

    func drop(kind: Kind, id: UInt64) throws(Errno) {
        try send([Self.drop, kind.rawValue, UInt32(truncatingIfNeeded: id), UInt32(truncatingIfNeeded: id >> 32)])
        _ = try receiveStatus()
    }

    /// Every descriptor the holder keeps (copies; the holder keeps its own).
    func get() throws(Errno) -> [Item] {
        try send([Self.get])
        var result: [Item] = []
        let capacity = 8 + 16 * 256
        let buf = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buf.deallocate() }
        var fds = [Int32](repeating: -1, count: 253)
        while true {
            var nfds: Int32 = 0
            let n = cairn_recv_fds(sock, buf, capacity, &fds, 253, &nfds)
            if n < 0 { throw Errno(Int32(-n)) }
            if n < 8 { throw Errno(EPROTO) }
            let command = buf.load(as: UInt32.self)
            let count = Int(buf.load(fromByteOffset: 4, as: UInt32.self))
            if command == Self.end { return result }
            guard command == Self.items, count == Int(nfds), 8 + count * 16 <= n else {
                for i in 0..<Int(nfds) { Glibc.close(fds[i]) }
                throw Errno(EPROTO)
            }
            for i in 0..<count {
                let kind = buf.load(fromByteOffset: 8 + i * 16, as: UInt32.self)
                let id = buf.load(fromByteOffset: 8 + i * 16 + 8, as: UInt64.self)
                guard let k = Kind(rawValue: kind) else {
                    Glibc.close(fds[i])
                    continue
                }
                result.append(Item(kind: k, id: id, fd: fds[i]))
            }
        }
    }

    /// The connection is done for good (clean unmount): the holder closes everything and exits.
    func exit() {
        try? send([Self.exit])
        _ = try? receiveStatus()
    }
}

/// What inodes need from the session besides the table: unregistering passthrough backing ids
/// and keeping unlinked-but-open inodes with the holder. Shared by every thread; the holder's
/// requests and replies are serialised here.
final class InodeHooks: Sendable {
    let device: DeviceHandle
    private let holder = Mutex<HolderClient?>(nil)

    init(device: DeviceHandle) { self.device = device }

    func setHolder(_ client: HolderClient?) { holder.withLock { $0 = client } }

    var hasHolder: Bool { holder.withLock { $0 != nil } }

    static func pinID(slot: Int, generation: UInt64) -> UInt64 { generation << 32 | UInt64(slot) }

    func closeBacking(_ id: Int32) { device.closeBacking(id) }

    /// Gives the holder a copy of `fd`; false without a holder or if it refused.
    func pin(_ fd: Int32, id: UInt64) -> Bool {
        holder.withLock { h in
            guard let h else { return false }
            return (try? h.put([HolderClient.Item(kind: .orphan, id: id, fd: fd)])) != nil
        }
    }

    func unpin(id: UInt64) {
        holder.withLock { h in _ = try? h?.drop(kind: .orphan, id: id) }
    }
}
