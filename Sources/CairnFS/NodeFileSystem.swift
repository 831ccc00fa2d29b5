import CFuse3
import Dispatch
import Glibc
import Logging
import Synchronization

/// One FUSE session per node. The root of `mountPoint` is a read-only directory listing the
/// attached volumes; `<mountPoint>/<id>` is a passthrough of the volume's backing directory with
/// its capacity enforced. Pods get bind mounts of `<mountPoint>/<id>`.
public final class NodeFileSystem: @unchecked Sendable {
    public let mountPoint: String
    let logger: Logger
    let tuning: FileSystemTuning
    let fs: Passthrough
    let box: FuseBridge.Box

    /// Guards `session`, `loopThread` and `loopDone` (mount/unmount/notify). Never held by FUSE
    /// worker threads, so a notify sent while holding it cannot deadlock with a request.
    private let sessionLock = Mutex<SessionState>(SessionState())

    struct SessionState {
        var session: OpaquePointer?
        var loopThread: pthread_t?
        var loopDone: LoopDone?
        var connection: UInt32?
    }

    final class LoopDone: Sendable {
        let finished = Atomic<Bool>(false)
        let result = Atomic<Int32>(0)
    }

    public convenience init(mountPoint: String, logger: Logger) {
        self.init(mountPoint: mountPoint, logger: logger, tuning: FileSystemTuning())
    }

    public init(mountPoint: String, logger: Logger, tuning: FileSystemTuning) {
        self.mountPoint = mountPoint
        self.logger = logger
        self.tuning = tuning
        self.fs = Passthrough(logger: logger, entryTimeout: tuning.entryTimeout, attrTimeout: tuning.attrTimeout)
        self.box = FuseBridge.Box(FuseBridge.Context(fs: fs, tuning: tuning))
    }

    deinit { unmount() }

    // MARK: - Session

    /// Creates the session, mounts it (allow_other, default_permissions) and starts the
    /// multi-threaded loop on its own threads. Returns once the kernel has the mount.
    public func mount() throws {
        try sessionLock.withLock { (state: inout SessionState) throws(FileSystemError) in
            if state.session != nil { return }
            var st = stat()
            if stat(mountPoint, &st) != 0 {
                throw .mountPointInvalid(path: mountPoint, errno: cairn_errno())
            }
            if st.st_mode & S_IFMT != S_IFDIR { throw .mountPointInvalid(path: mountPoint, errno: ENOTDIR) }
            Self.raiseDescriptorLimit()

            let options = "allow_other,default_permissions,fsname=cairn,subtype=cairn,max_read=\(FuseBridge.maxWrite)"
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("cairnfs"), strdup("-o"), strdup(options), nil]
            defer { argv.forEach { free($0) } }
            var ops = FuseBridge.operations()
            let session = argv.withUnsafeBufferPointer { p -> OpaquePointer? in
                var args = fuse_args(argc: 3, argv: UnsafeMutablePointer(mutating: p.baseAddress), allocated: 0)
                defer { fuse_opt_free_args(&args) }
                return fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size,
                                        Unmanaged.passUnretained(box).toOpaque())
            }
            guard let session else { throw .sessionCreateFailed(path: mountPoint) }
            if fuse_session_mount(session, mountPoint) != 0 {
                let e = cairn_errno()
                fuse_session_destroy(session)
                throw .mountFailed(path: mountPoint, errno: e == 0 ? EIO : e)
            }
            let done = LoopDone()
            let start = LoopStart(session: session, tuning: tuning, done: done)
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<LoopStart>.fromOpaque(raw!).takeRetainedValue()
                let r = cairn_session_loop_mt(start.session, start.tuning.maxThreads,
                                              start.tuning.maxIdleThreads, start.tuning.cloneFD ? 1 : 0)
                start.done.result.store(r, ordering: .relaxed)
                start.done.finished.store(true, ordering: .releasing)
                return nil
            }, Unmanaged.passRetained(start).toOpaque())
            if rc != 0 {
                fuse_session_unmount(session)
                fuse_session_destroy(session)
                throw .mountFailed(path: mountPoint, errno: rc)
            }
            state.session = session
            state.loopThread = thread
            state.loopDone = done
            // The first stat waits for INIT, after which the readahead window can be raised.
            var mounted = stat()
            if stat(mountPoint, &mounted) == 0 {
                let minor = (UInt32(truncatingIfNeeded: mounted.st_dev) & 0xff)
                    | (UInt32(truncatingIfNeeded: mounted.st_dev >> 12) & ~0xff)
                let major = (UInt32(truncatingIfNeeded: mounted.st_dev >> 8) & 0xfff)
                state.connection = minor
                if tuning.readaheadKiB > 0 {
                    _ = Self.writeSmallFile("/sys/class/bdi/\(major):\(minor)/read_ahead_kb", "\(tuning.readaheadKiB)\n")
                }
            }
        }
        logger.info("cairnfs mounted", metadata: ["mountPoint": "\(mountPoint)"])
    }

    final class LoopStart: @unchecked Sendable {
        let session: OpaquePointer
        let tuning: FileSystemTuning
        let done: LoopDone
        init(session: OpaquePointer, tuning: FileSystemTuning, done: LoopDone) {
            self.session = session
            self.tuning = tuning
            self.done = done
        }
    }

    /// Unmounts (lazily, so a busy mount still goes), waits for the loop and its threads to end,
    /// aborting the connection if something (a leftover bind mount) keeps it alive. Idempotent.
    public func unmount() {
        sessionLock.withLock { state in
            guard let session = state.session else { return }
            fuse_session_exit(session)
            fuse_session_unmount(session)
            if let done = state.loopDone {
                var waited = 0
                while !done.finished.load(ordering: .acquiring) {
                    if waited == 200, let connection = state.connection {
                        logger.warning("cairnfs connection still alive after unmount (bind mounts left?); aborting it",
                                       metadata: ["mountPoint": "\(mountPoint)"])
                        _ = Self.writeSmallFile("/sys/fs/fuse/connections/\(connection)/abort", "1\n")
                    }
                    usleep(10_000)
                    waited += 1
                }
            }
            if let thread = state.loopThread { pthread_join(thread, nil) }
            fuse_session_destroy(session)
            state = SessionState()
            logger.info("cairnfs unmounted", metadata: ["mountPoint": "\(mountPoint)"])
        }
    }

    /// Every inode the kernel remembers holds a descriptor, so the soft limit (often 1024) would
    /// be reached by one busy volume; raise it to the hard limit for the whole process.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }

    static func writeSmallFile(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { write(fd, $0, strlen($0)) } >= 0
    }

    private func notifyRoot(entry name: String?) {
        sessionLock.withLock { state in
            guard let session = state.session else { return }
            if let name {
                _ = fuse_lowlevel_notify_inval_entry(session, 1, name, strlen(name))
            }
            _ = fuse_lowlevel_notify_inval_inode(session, 1, -1, 0)
        }
    }

    // MARK: - Volumes

    static func validID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 255 && id != "." && id != ".." && !id.contains("/") && !id.utf8.contains(0)
    }

    /// Scans the backing directory's usage, then makes the volume appear at `<mountPoint>/<id>`.
    /// Attaching the same spec again does nothing; a different spec under the same id is refused.
    public func attach(_ spec: VolumeSpec) throws {
        guard Self.validID(spec.id) else { throw FileSystemError.invalidVolumeID(id: spec.id) }
        guard spec.capacityBytes > 0 else { throw FileSystemError.invalidCapacity(id: spec.id, bytes: spec.capacityBytes) }
        if let (existing, _) = fs.volume(named: spec.id) {
            if existing.spec == spec { return }
            throw FileSystemError.conflictingSpec(id: spec.id, attached: existing.spec, requested: spec)
        }
        let rootFD = open(spec.backingPath, Int32(CAIRN_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            throw FileSystemError.backingUnavailable(id: spec.id, path: spec.backingPath, errno: cairn_errno())
        }
        let totals: UsageScanner.Totals
        var st = stat()
        do {
            totals = try UsageScanner.scan(rootFD: rootFD)
            _ = try sys { fstatat(rootFD, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) }
        } catch {
            close(rootFD)
            throw FileSystemError.scanFailed(id: spec.id, path: spec.backingPath, errno: error.code)
        }
        let inodeFD = fcntl(rootFD, F_DUPFD_CLOEXEC, 0)
        guard inodeFD >= 0 else {
            let e = cairn_errno()
            close(rootFD)
            throw FileSystemError.backingUnavailable(id: spec.id, path: spec.backingPath, errno: e)
        }
        let conflict: VolumeSpec? = fs.registry.withLock { r -> VolumeSpec? in
            if let existing = r.volumes[spec.id] { return existing.volume.spec }
            let volume = Volume(spec: spec, serial: r.nextSerial, rootFD: rootFD,
                                usedBytes: totals.bytes, files: totals.files)
            r.nextSerial += 1
            let root = fs.table.insertOrRef(fd: inodeFD, stat: st, volume: volume, accounted: true,
                                            lookups: 0, pinned: true)
            r.volumes[spec.id] = (volume, root.nodeID)
            clock_gettime(CLOCK_REALTIME, &r.changed)
            return nil
        }
        if let conflict {
            close(inodeFD)
            close(rootFD)
            if conflict == spec { return }
            throw FileSystemError.conflictingSpec(id: spec.id, attached: conflict, requested: spec)
        }
        notifyRoot(entry: nil)
        logger.info("cairnfs volume attached", metadata: [
            "volume": "\(spec.id)", "backing": "\(spec.backingPath)", "capacity": "\(spec.capacityBytes)",
            "used": "\(totals.bytes)", "files": "\(totals.files)", "readOnly": "\(spec.readOnly)",
        ])
    }

    /// Removes the volume from the node mount. Refused with `volumeBusy` while any file or
    /// directory of it is open through the mount (the node agent stops pods and removes their
    /// bind mounts first); detaching an unknown volume does nothing, so a retry is safe.
    public func detach(volumeID: String) throws {
        // The kernel sends RELEASE after close() has returned, so a pod's last handles may still be
        // on their way: give them a moment before calling the volume busy.
        if let (volume, _) = fs.volume(named: volumeID) {
            let deadline = DispatchTime.now() + .milliseconds(500)
            while volume.openHandles.load(ordering: .relaxed) > 0 && DispatchTime.now() < deadline { usleep(2_000) }
        }
        let result: Result<Bool, FileSystemError> = fs.registry.withLock { r in
            guard let (volume, rootID) = r.volumes[volumeID] else { return .success(false) }
            let open = volume.openHandles.load(ordering: .relaxed)
            if open > 0 { return .failure(.volumeBusy(id: volumeID, openHandles: open)) }
            r.volumes[volumeID] = nil
            volume.detached.store(true, ordering: .relaxed)
            fs.table.unpin(rootID)
            clock_gettime(CLOCK_REALTIME, &r.changed)
            return .success(true)
        }
        guard try result.get() else { return }
        // Drops the kernel's dentry (and with it the subtree, which sends the forgets).
        notifyRoot(entry: volumeID)
        logger.info("cairnfs volume detached", metadata: ["volume": "\(volumeID)"])
    }

    public func usage(volumeID: String) -> VolumeUsage? {
        fs.volume(named: volumeID)?.volume.usage
    }

    /// Changes the capacity (expansion; shrinking below usage is allowed and leaves the volume
    /// full until files are removed).
    public func setCapacity(volumeID: String, bytes: Int64) throws {
        guard bytes > 0 else { throw FileSystemError.invalidCapacity(id: volumeID, bytes: bytes) }
        guard let (volume, _) = fs.volume(named: volumeID) else { throw FileSystemError.unknownVolume(id: volumeID) }
        volume.capacity.store(bytes, ordering: .relaxed)
        logger.info("cairnfs volume capacity set", metadata: ["volume": "\(volumeID)", "capacity": "\(bytes)"])
    }

    /// Attached volume ids, sorted.
    public var volumeIDs: [String] { fs.volumeNames().map(\.0) }

    /// If `path` is a dead FUSE mount (stat fails with ENOTCONN: its daemon died), detaches it
    /// lazily and returns true. Anything else is left alone.
    public static func cleanStaleMount(at path: String) -> Bool {
        // statvfs always reaches the daemon (stat may be answered from cached attributes).
        var vfs = statvfs()
        var st = stat()
        let dead = (statvfs(path, &vfs) != 0 && cairn_errno() == ENOTCONN)
            || (stat(path, &st) != 0 && cairn_errno() == ENOTCONN)
        guard dead else { return false }
        return umount2(path, Int32(MNT_DETACH)) == 0
    }
}
