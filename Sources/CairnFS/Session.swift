import CFuseKernel
import Glibc
import Logging
import Synchronization

/// One FUSE connection, spoken directly on /dev/fuse: the mount, INIT, the worker threads that
/// read requests and write replies, and the notifications the daemon sends on its own.
///
/// Cairn drives the protocol itself rather than through libfuse 3.14 for three reasons libfuse
/// cannot serve: passthrough (FUSE_PASSTHROUGH, backing ids in OPEN replies), FUSE_HANDLE_KILLPRIV_V2
/// (which takes the security.capability GETXATTR out of every WRITE), and continuing a connection
/// another process initialised (a daemon taking over from the descriptor holder must not see
/// INIT, and must resend what its predecessor had read but not answered).
final class Session: @unchecked Sendable {
    /// Request payloads up to this (1 MiB writes and reads: max_pages 256).
    static let maxWrite: UInt32 = 1 << 20
    /// Every worker reads into a buffer this large (the kernel wants max_write + headers).
    static let bufferSize = Int(maxWrite) + 64 * 1024

    let mountPoint: String
    let fs: Passthrough
    let logger: Logger
    /// The descriptor mount(2) was given; notifications and ioctls go here.
    let master: Int32
    /// One cloned descriptor per worker (FUSE_DEV_IOC_CLONE): each has its own queue of requests
    /// in flight, all fed from the connection's one input queue.
    private(set) var clones: [Int32]
    /// st_dev of the mount: the connection's id is its minor number. Set once, right after the
    /// mount (a stat of it needs the workers running).
    var device: UInt64
    var connection: UInt32 { UInt32(truncatingIfNeeded: device & 0xff) | UInt32(truncatingIfNeeded: (device >> 12) & 0xffff_ff00) }

    let requestCounts = RequestCounts()
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private let threads = Mutex<[pthread_t]>([])

    init(mountPoint: String, fs: Passthrough, logger: Logger, master: Int32, clones: [Int32], device: UInt64,
         initialWorkers: Int) {
        self.initialWorkers = max(1, initialWorkers)
        self.mountPoint = mountPoint
        self.fs = fs
        self.logger = logger
        self.master = master
        self.clones = clones
        self.device = device
    }

    // MARK: - Mounting

    /// Opens /dev/fuse and mounts it on `mountPoint` (nosuid, nodev, allow_other,
    /// default_permissions: the kernel checks modes and sticky bits on cached attributes).
    static func mount(at mountPoint: String) throws(FileSystemError) -> Int32 {
        var st = stat()
        if stat(mountPoint, &st) != 0 { throw .mountPointInvalid(path: mountPoint, errno: cairn_errno()) }
        if st.st_mode & S_IFMT != S_IFDIR { throw .mountPointInvalid(path: mountPoint, errno: ENOTDIR) }
        let fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        if fd < 0 { throw .mountFailed(path: mountPoint, errno: cairn_errno()) }
        let options = "fd=\(fd),rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions,max_read=\(maxWrite)"
        let flags = UInt(MS_NOSUID) | UInt(MS_NODEV)
        if Glibc.mount("cairn", mountPoint, "fuse.cairn", flags, options) != 0 {
            let e = cairn_errno()
            close(fd)
            throw .mountFailed(path: mountPoint, errno: e)
        }
        return fd
    }

    /// Reads INIT (the kernel queues it at mount) and answers it. Returns the agreed flags.
    static func negotiate(fd: Int32, tuning: FileSystemTuning, logger: Logger) throws(FileSystemError) -> (flags: UInt64, minor: UInt32) {
        let buf = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 4096)
        defer { buf.deallocate() }
        var n = -1
        while n < 0 {
            n = read(fd, buf, bufferSize)
            if n < 0 && cairn_errno() != EINTR { throw .sessionCreateFailed(path: "INIT: \(errnoText(cairn_errno()))") }
        }
        let req = Request(base: buf, length: n)
        guard Int(req.opcode) == CFK_INIT, let initIn = req.arg(cfk_init_in.self) else {
            throw .sessionCreateFailed(path: "the kernel's first request was opcode \(req.opcode), not INIT")
        }
        let reply = Replier(fd: fd, out: buf, capacity: bufferSize)
        guard initIn.major == UInt32(CFK_KERNEL_VERSION), initIn.minor >= 31 else {
            reply.send(req.unique, error: EPROTO)
            throw .sessionCreateFailed(path: "kernel FUSE protocol \(initIn.major).\(initIn.minor) is too old (7.31+ needed)")
        }
        var offered = UInt64(initIn.flags)
        if offered & CFK_INIT_EXT != 0 { offered |= UInt64(initIn.flags2) << 32 }
        var want: UInt64 = CFK_ASYNC_READ | CFK_ATOMIC_O_TRUNC | CFK_BIG_WRITES | CFK_DONT_MASK
            | CFK_DO_READDIRPLUS | CFK_READDIRPLUS_AUTO | CFK_ASYNC_DIO | CFK_PARALLEL_DIROPS | CFK_MAX_PAGES
            | CFK_CACHE_SYMLINKS | CFK_HANDLE_KILLPRIV_V2 | CFK_INIT_EXT | CFK_HAS_RESEND | CFK_NO_EXPORT_SUPPORT
        if tuning.autoInvalidateData { want |= CFK_AUTO_INVAL_DATA }
        if tuning.writebackCache {
            want |= CFK_WRITEBACK_CACHE
        } else if tuning.passthrough {
            want |= CFK_PASSTHROUGH
        }
        let agreed = want & offered
        var out = cfk_init_out()
        out.major = UInt32(CFK_KERNEL_VERSION)
        out.minor = min(initIn.minor, UInt32(CFK_KERNEL_MINOR_VERSION))
        out.max_readahead = initIn.max_readahead
        out.flags = UInt32(truncatingIfNeeded: agreed)
        out.flags2 = UInt32(truncatingIfNeeded: agreed >> 32)
        out.max_background = 64
        out.congestion_threshold = 48
        out.max_write = maxWrite
        out.time_gran = 1
        out.max_pages = UInt16(maxWrite / 4096)
        // The backing filesystem must not itself be stacked (ext4, xfs: depth 0).
        out.max_stack_depth = agreed & CFK_PASSTHROUGH != 0 ? 1 : 0
        let e = reply.send(req.unique, out)
        if e != 0 { throw .sessionCreateFailed(path: "INIT reply: \(errnoText(e))") }
        logger.debug("cairnfs INIT", metadata: ["kernel": "\(initIn.major).\(initIn.minor)",
                                                "flags": "\(String(agreed, radix: 16))"])
        return (agreed, out.minor)
    }

    /// FUSE_DEV_IOC_CLONE: another descriptor on the same connection.
    static func clone(_ master: Int32) throws(Errno) -> Int32 {
        let fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        if fd < 0 { throw Errno.current }
        var source = UInt32(bitPattern: master)
        if cairn_ioctl_ptr(fd, CFK_DEV_IOC_CLONE, &source) != 0 {
            let e = Errno.current
            close(fd)
            throw e
        }
        return fd
    }

    // MARK: - Workers

    /// Workers started at first; more start (up to one per clone) only when a worker begins a call
    /// that can take long (fsync, fallocate, a large copy) while no other is waiting for requests.
    /// The kernel hands each request to the reader that has waited longest, so every idle reader
    /// beyond the first makes a synchronous stream hop threads: 4-KiB writes measured 25 us with 1
    /// or 2 readers and 42 us with 4 on 2 cores.
    let initialWorkers: Int
    /// Readers now in read(2) or about to be.
    private let idle = Atomic<Int>(0)
    private let started = Atomic<Int>(0)

    /// Starts the first workers.
    func start() throws(FileSystemError) {
        Self.installWakeSignal()
        for _ in 0..<min(initialWorkers, clones.count) {
            guard startWorker() else { throw .mountFailed(path: mountPoint, errno: EAGAIN) }
        }
    }

    /// Starts the next worker on the next clone, if there is one left.
    @discardableResult
    private func startWorker() -> Bool {
        if stopping.load(ordering: .acquiring) { return false }
        let index = started.add(1, ordering: .relaxed).oldValue
        guard index < clones.count else {
            started.subtract(1, ordering: .relaxed)
            return false
        }
        let ctx = WorkerContext(session: self, fd: clones[index])
        var thread = pthread_t()
        running.add(1, ordering: .relaxed)
        idle.add(1, ordering: .relaxed)
        let rc = pthread_create(&thread, nil, { raw in
            let ctx = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
            ctx.session.work(ctx.fd)
            return nil
        }, Unmanaged.passRetained(ctx).toOpaque())
        if rc != 0 {
            running.subtract(1, ordering: .relaxed)
            idle.subtract(1, ordering: .relaxed)
            logger.warning("cairnfs: cannot start a worker thread", metadata: ["error": "\(errnoText(rc))"])
            return false
        }
        threads.withLock { $0.append(thread) }
        return true
    }

    /// Calls that may block a worker for long.
    private static func isSlow(_ req: Request) -> Bool {
        switch Int(req.opcode) {
        case CFK_FSYNC, CFK_FSYNCDIR, CFK_FALLOCATE, CFK_COPY_FILE_RANGE: return true
        default: return false
        }
    }

    final class WorkerContext: @unchecked Sendable {
        let session: Session
        let fd: Int32
        init(session: Session, fd: Int32) {
            self.session = session
            self.fd = fd
        }
    }

    /// SIGUSR2 interrupts a worker's read(2) (no SA_RESTART), so `stopWorkers` can end them.
    private static let wakeSignal = SIGUSR2
    private static func installWakeSignal() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(wakeSignal, &action, nil)
    }

    private func work(_ fd: Int32) {
        defer { running.subtract(1, ordering: .releasing) }
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, Self.wakeSignal)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        // Passthrough I/O runs with the credentials of the thread that registered the backing
        // file, and daemon-path writes with this thread's: without CAP_SYS_RESOURCE, project quota
        // limits apply to both (a root process may otherwise pass them).
        _ = cairn_thread_drop_effective_cap(Int32(CAIRN_CAP_SYS_RESOURCE))
        _ = cairn_thread_private_umask0()
        let input = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
        let output = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
        defer {
            input.deallocate()
            output.deallocate()
        }
        let dispatcher = Dispatcher(fs: fs)
        let reply = Replier(fd: fd, out: output, capacity: Self.bufferSize)
        while !stopping.load(ordering: .acquiring) {
            let n = read(fd, input, Self.bufferSize)
            if n < 0 {
                let e = cairn_errno()
                switch e {
                case EINTR, EAGAIN, ENOENT:  // a signal, or a request interrupted before we read it
                    continue
                case ENODEV:  // unmounted or aborted
                    return
                default:
                    logger.error("cairnfs: reading /dev/fuse failed", metadata: ["error": "\(errnoText(e))"])
                    return
                }
            }
            guard n >= Request.headerSize else { continue }
            let req = Request(base: input, length: n)
            let othersIdle = idle.subtract(1, ordering: .relaxed).newValue
            if othersIdle == 0 && Self.isSlow(req) { startWorker() }
            requestCounts.count(req.opcode)
            dispatcher.handle(req, reply)
            idle.add(1, ordering: .relaxed)
        }
    }

    /// Stops the workers after the request each is serving (a handover: the descriptors stay
    /// open, so requests queue in the kernel for the next daemon). Returns when all have exited.
    func stopWorkers() {
        stopping.store(true, ordering: .releasing)
        // The list is read again each round: a worker may have started another meanwhile.
        while running.load(ordering: .acquiring) > 0 {
            for t in threads.withLock({ $0 }) { pthread_kill(t, Self.wakeSignal) }
            usleep(1_000)
        }
        let all = threads.withLock { t -> [pthread_t] in
            defer { t = [] }
            return t
        }
        for t in all { pthread_join(t, nil) }
    }

    /// Closes this process's descriptors of the connection (the holder may keep its own).
    func closeDescriptors() {
        clones.forEach { close($0) }
        clones = []
        close(master)
    }

    /// Waits for the workers to end on their own (the connection is gone), at most `timeout` s.
    func waitForWorkers(timeout: Double) -> Bool {
        var waited = 0.0
        while running.load(ordering: .acquiring) > 0 && waited < timeout {
            usleep(10_000)
            waited += 0.01
        }
        if running.load(ordering: .acquiring) > 0 { return false }
        let all = threads.withLock { t -> [pthread_t] in
            defer { t = [] }
            return t
        }
        for t in all { pthread_join(t, nil) }
        return true
    }

    // MARK: - Notifications

    private func notify(_ code: Int, _ payload: UnsafeRawBufferPointer) -> Int32 {
        let size = MemoryLayout<cfk_out_header>.size + payload.count
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buf.deallocate() }
        buf.storeBytes(of: cfk_out_header(len: UInt32(size), error: Int32(code), unique: 0), as: cfk_out_header.self)
        if payload.count > 0 { (buf + MemoryLayout<cfk_out_header>.size).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
        return write(master, buf, size) == size ? 0 : cairn_errno()
    }

    /// Drops the kernel's dentry `name` under `parent` (and, for a directory, what is below it).
    @discardableResult
    func invalidateEntry(parent: UInt64, name: String) -> Int32 {
        var bytes = [UInt8]()
        withUnsafeBytes(of: cfk_notify_inval_entry_out(parent: parent, namelen: UInt32(name.utf8.count), flags: 0)) {
            bytes += $0
        }
        bytes += Array(name.utf8) + [0]
        return bytes.withUnsafeBytes { notify(CFK_NOTIFY_INVAL_ENTRY, $0) }
    }

    /// Drops the kernel's attributes of `node` (its data cache too when `offset` >= 0).
    @discardableResult
    func invalidateInode(_ node: UInt64, offset: Int64 = -1) -> Int32 {
        var out = cfk_notify_inval_inode_out(ino: node, off: offset, len: 0)
        return withUnsafeBytes(of: &out) { notify(CFK_NOTIFY_INVAL_INODE, $0) }
    }

    /// Asks the kernel to queue again every request a previous daemon read and never answered.
    @discardableResult
    func resendUnanswered() -> Int32 {
        notify(CFK_NOTIFY_RESEND, UnsafeRawBufferPointer(start: nil, count: 0))
    }
}

/// Requests served per opcode since the mount (for measurements: what one create costs).
final class RequestCounts: @unchecked Sendable {
    static let opcodes = 64
    /// C atomics: Swift's Atomic cannot live in an array.
    private let counts = UnsafeMutablePointer<Int64>.allocate(capacity: opcodes)

    init() { counts.initialize(repeating: 0, count: Self.opcodes) }
    deinit { counts.deallocate() }

    func count(_ opcode: UInt32) {
        if opcode < Self.opcodes { _ = cairn_atomic_add64(counts + Int(opcode), 1) }
    }

    var snapshot: [UInt32: UInt64] {
        var out: [UInt32: UInt64] = [:]
        for i in 0..<Self.opcodes {
            let n = cairn_atomic_load64(counts + i)
            if n > 0 { out[UInt32(i)] = UInt64(n) }
        }
        return out
    }
}
