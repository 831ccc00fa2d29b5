import CFuseKernel
import Dispatch
import Glibc
import Logging
import Synchronization

/// What a daemon found when it took a connection over from the descriptor holder.
public struct TakeoverReport: Sendable, Equatable {
    /// Volumes still attached.
    public var volumes: Int
    /// Node ids the kernel holds that were reopened from their file handles.
    public var inodes: Int
    /// Node ids whose backing inode is gone (they answer ESTALE until the kernel forgets them).
    public var staleInodes: Int
    /// Open files and directories carried over.
    public var handles: Int
    /// From connecting to the holder to serving again.
    public var seconds: Double
}

/// One FUSE session per node. The root of `mountPoint` is a read-only directory listing the
/// attached volumes; `<mountPoint>/<id>` is a passthrough of the volume's backing directory with
/// its capacity enforced. Pods get bind mounts of `<mountPoint>/<id>`.
///
/// The connection outlives the daemon: `mount()` takes it over from the descriptor holder when
/// one serves `mountPoint` (a previous daemon exited with `handOver()` or crashed), and mounts
/// afresh otherwise. `unmount()` ends it for good.
public final class NodeFileSystem: @unchecked Sendable {
    public let mountPoint: String
    let logger: Logger
    let tuning: FileSystemTuning

    /// Guards everything below (mount/unmount/handOver/notify and attach/detach's registry
    /// changes). Never held by FUSE worker threads, so a notification sent while holding it cannot
    /// deadlock with a request.
    private let state = Mutex<MountState>(MountState())

    struct MountState {
        var session: Session?
        var fs: Passthrough?
        var memory: SessionMemory?
        var holder: HolderClient?
        /// The holder this process started (reaped after it exits), 0 if it came with a takeover.
        var holderPID: pid_t = 0
        var takeover: TakeoverReport?
    }

    public convenience init(mountPoint: String, logger: Logger) {
        self.init(mountPoint: mountPoint, logger: logger, tuning: FileSystemTuning())
    }

    public init(mountPoint: String, logger: Logger, tuning: FileSystemTuning) {
        self.mountPoint = mountPoint
        self.logger = logger
        self.tuning = tuning
    }

    deinit { unmount() }

    /// Set when `mount()` continued a connection a previous daemon left in the holder.
    public var takeover: TakeoverReport? { state.withLock { $0.takeover } }

    private var fs: Passthrough? { state.withLock { $0.fs } }

    // MARK: - Session

    /// Serves `mountPoint`: takes the connection over from the descriptor holder if one keeps it
    /// (the mount stayed; pods saw a pause), else mounts (allow_other, default_permissions) and
    /// starts a holder. Returns once requests are being served.
    public func mount() throws {
        try state.withLock { (s: inout MountState) throws(FileSystemError) in
            if s.session != nil { return }
            Self.raiseDescriptorLimit()
            if tuning.holder, let client = HolderClient.connect(mountPoint: mountPoint) {
                do throws(Errno) {
                    try takeOver(&s, client)
                    return
                } catch let e where e.code == EBUSY {
                    // Another daemon still serves this mount (and owns its holder).
                    client.close()
                    throw .mountBusy(path: mountPoint)
                } catch {
                    logger.warning("cairnfs: could not take the connection over from the holder; mounting afresh",
                                   metadata: ["mountPoint": "\(mountPoint)", "error": "\(error)"])
                    client.exit()
                    client.close()
                    s = MountState()
                    // The old connection is gone with the holder; its mount is dead.
                    umount2(mountPoint, Int32(MNT_DETACH))
                }
            }
            try mountFresh(&s)
        }
        logger.info("cairnfs mounted", metadata: ["mountPoint": "\(mountPoint)"])
    }

    private func mountFresh(_ s: inout MountState) throws(FileSystemError) {
        // Whatever is mounted here now is not served by anyone this daemon can take over from (a
        // dead mount, or one a daemon without a holder left): this daemon owns the mount point.
        while Self.mountedDevice(at: mountPoint, anyType: true) != 0 {
            if umount2(mountPoint, Int32(MNT_DETACH)) != 0 { break }
        }
        let memory: SessionMemory
        do { memory = try SessionMemory.create() } catch { throw .sessionCreateFailed(path: "session memory: \(error)") }
        let device = DeviceHandle()
        let fs = Passthrough(memory: memory, device: device, logger: logger, entryTimeout: tuning.entryTimeout,
                             attrTimeout: tuning.attrTimeout, passthroughAllowed: tuning.passthrough)
        let master = try Session.mount(at: mountPoint)
        var clones: [Int32] = []
        func undo() {
            clones.forEach { close($0) }
            close(master)
            umount2(mountPoint, Int32(MNT_DETACH))
        }
        let agreed: (flags: UInt64, minor: UInt32)
        do {
            agreed = try Session.negotiate(fd: master, tuning: tuning, logger: logger)
            for _ in 0..<max(1, Int(tuning.maxThreads)) { clones.append(try Session.clone(master)) }
        } catch let e as FileSystemError {
            undo()
            throw e
        } catch {
            undo()
            throw .mountFailed(path: mountPoint, errno: (error as? Errno)?.code ?? EIO)
        }
        device.fd.store(master, ordering: .relaxed)
        fs.passthroughEnabled.store(agreed.flags & CFK_PASSTHROUGH != 0, ordering: .relaxed)
        memory.header.negotiatedFlags = agreed.flags
        memory.header.protocolMinor = agreed.minor
        memory.header.maxWrite = Session.maxWrite
        memory.header.nextVolumeSerial = 1
        memory.header.initialized = true
        // The device number is known only from a stat of the mount, which the kernel answers
        // through a worker: start them first.
        let session = Session(mountPoint: mountPoint, fs: fs, logger: logger, master: master, clones: clones, device: 0,
                              initialWorkers: Int(tuning.initialThreads))
        do { try session.start() } catch {
            session.stopWorkers()
            undo()
            throw error
        }
        var st = stat()
        let deviceNumber: UInt64 = stat(mountPoint, &st) == 0 ? UInt64(st.st_dev) : 0
        session.device = deviceNumber
        memory.header.device = deviceNumber
        if tuning.readaheadKiB > 0 && deviceNumber != 0 {
            let major = (deviceNumber >> 8) & 0xfff
            _ = Self.writeSmallFile("/sys/class/bdi/\(major):\(session.connection)/read_ahead_kb", "\(tuning.readaheadKiB)\n")
        }
        s.session = session
        s.fs = fs
        s.memory = memory
        if tuning.holder {
            do {
                let (client, pid) = try HolderClient.spawn(mountPoint: mountPoint)
                guard try client.hello(takeoverTimeoutMilliseconds: UInt32(max(0, tuning.takeoverTimeout) * 1000)) else {
                    throw Errno(EBUSY)
                }
                var items = [HolderClient.Item(kind: .device, id: 0, fd: master),
                             HolderClient.Item(kind: .sessionMemory, id: 0, fd: memory.fd)]
                for (i, fd) in clones.enumerated() { items.append(HolderClient.Item(kind: .clone, id: UInt64(i), fd: fd)) }
                try client.put(items)
                s.holder = client
                s.holderPID = pid
                fs.hooks.setHolder(client)
            } catch {
                logger.warning("cairnfs: no descriptor holder (a daemon restart will break this mount)",
                               metadata: ["mountPoint": "\(mountPoint)", "error": "\(error)"])
            }
        }
    }

    /// Continues the connection a previous daemon left with the holder.
    private func takeOver(_ s: inout MountState, _ client: HolderClient) throws(Errno) {
        let started = DispatchTime.now()
        // The previous daemon may still be draining its last requests: it owns the holder until
        // its connection to it closes.
        var claimed = false
        for _ in 0..<200 {
            if try client.hello(takeoverTimeoutMilliseconds: UInt32(max(0, tuning.takeoverTimeout) * 1000)) {
                claimed = true
                break
            }
            usleep(50_000)
        }
        guard claimed else { throw Errno(EBUSY) }
        let items = try client.get()
        var master: Int32 = -1, memoryFD: Int32 = -1
        var clones: [(UInt64, Int32)] = []
        var pinned: [UInt64: Int32] = [:]
        for item in items {
            switch item.kind {
            case .device: master = item.fd
            case .sessionMemory: memoryFD = item.fd
            case .clone: clones.append((item.id, item.fd))
            case .orphan: pinned[item.id] = item.fd
            }
        }
        defer { pinned.values.forEach { close($0) } }
        func closeAll() { items.forEach { close($0.fd) } }
        guard master >= 0, memoryFD >= 0, !clones.isEmpty else {
            closeAll()
            throw Errno(EPROTO)
        }
        let memory: SessionMemory
        do { memory = try SessionMemory.adopt(fd: memoryFD) } catch {
            items.filter { $0.fd != memoryFD }.forEach { close($0.fd) }
            throw error
        }
        let header = memory.header
        // The mount point must still be this connection (nobody unmounted and mounted again);
        // mountinfo, not stat: a stat would wait for the very daemon this is.
        guard header.initialized, Self.mountedDevice(at: mountPoint) == header.device else {
            items.filter { $0.fd != memoryFD }.forEach { close($0.fd) }
            throw Errno(ESTALE)
        }
        let device = DeviceHandle()
        device.fd.store(master, ordering: .relaxed)
        let fs = Passthrough(memory: memory, device: device, logger: logger, entryTimeout: tuning.entryTimeout,
                             attrTimeout: tuning.attrTimeout, passthroughAllowed: tuning.passthrough)
        fs.passthroughEnabled.store(header.negotiatedFlags & CFK_PASSTHROUGH != 0, ordering: .relaxed)

        // Volumes, then inodes, then open handles (each refers to the one before).
        var bySlot: [Int: Volume] = [:]
        var registry = Passthrough.Registry()
        for slot in 0..<SessionMemory.maxVolumes {
            let r = memory.volume(slot)
            guard r.state == 1 else { continue }
            guard let volume = Self.reopenVolume(r, slot: slot) else {
                logger.warning("cairnfs: volume backing directory gone since the last daemon; dropping it",
                               metadata: ["volume": "\(r.id)", "backing": "\(r.backingPath)"])
                r.state = 0
                continue
            }
            volume.dropReservations()
            bySlot[slot] = volume
            registry.volumes[volume.id] = (volume, r.rootNodeID)
        }
        clock_gettime(CLOCK_REALTIME, &registry.changed)
        let placeholderRecord = VolumeRecord(p: UnsafeMutableRawPointer.allocate(byteCount: SessionMemory.volumeRecordBytes, alignment: 8))
        memset(placeholderRecord.p, 0, SessionMemory.volumeRecordBytes)
        var placeholders: [UInt32: Volume] = [:]
        let (inodes, stale) = fs.table.restore(volumes: bySlot, detached: { r in
            if let v = placeholders[r.volumeSerial] { return v }
            let v = Volume(id: "", backingPath: "", readOnly: true, serial: r.volumeSerial, slot: -1,
                           record: placeholderRecord, rootFD: -1, dataFD: -1, enforcement: .projectQuota(projectID: 0))
            v.detached.store(true, ordering: .relaxed)
            placeholders[r.volumeSerial] = v
            return v
        }, open: { slot, r, volume in
            // An unlinked inode still open in the kernel has no handle to open it by: the holder
            // kept a descriptor of it.
            if let fd = pinned[InodeHooks.pinID(slot: slot, generation: r.generation)] {
                return fcntl(fd, F_DUPFD_CLOEXEC, 0)
            }
            return Self.reopenInode(r, volume: volume)
        })
        for id in pinned.keys {
            if let inode = fs.table.get(InodeTable.nodeID(slot: Int(id & 0xffff_ffff))), inode.pinID == id {
                inode.pinnedByHolder.store(true, ordering: .relaxed)
            }
        }
        let handles = fs.files.restore(inode: { fs.table.get($0) }, reopenDir: { try? fs.openDirStream($0) })
        fs.files.forEachEntry { entry in
            let writer = entry.flags & O_ACCMODE != O_RDONLY
            if entry.dir == nil { entry.inode.io.withLock { $0.count(entry.mode, writable: writer, by: 1) } }
            entry.inode.volume.openHandles.add(1, ordering: .relaxed)
        }
        fs.registry.withLock { $0 = registry }

        // Workers on the clones the holder kept; more if this daemon wants more.
        var fds = clones.sorted { $0.0 < $1.0 }.map(\.1)
        let wanted = max(1, Int(tuning.maxThreads))
        var extra: [HolderClient.Item] = []
        while fds.count < wanted, let fd = try? Session.clone(master) {
            extra.append(HolderClient.Item(kind: .clone, id: UInt64(fds.count), fd: fd))
            fds.append(fd)
        }
        if !extra.isEmpty { try? client.put(extra) }
        let workers = Array(fds.prefix(wanted))
        fds.dropFirst(wanted).forEach { close($0) }
        let session = Session(mountPoint: mountPoint, fs: fs, logger: logger, master: master, clones: workers,
                              device: header.device, initialWorkers: Int(tuning.initialThreads))
        do { try session.start() } catch { throw Errno(EAGAIN) }
        // What the previous daemon had read and not answered is queued again (FUSE_NOTIFY_RESEND);
        // those requests carry the resend bit and are handled as possibly done already.
        session.resendUnanswered()
        header.takeovers += 1
        let report = TakeoverReport(volumes: bySlot.count, inodes: inodes, staleInodes: stale, handles: handles,
                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
        s.session = session
        s.fs = fs
        s.memory = memory
        s.holder = client
        s.takeover = report
        fs.hooks.setHolder(client)
        logger.notice("cairnfs took the connection over from the holder", metadata: [
            "mountPoint": "\(mountPoint)", "volumes": "\(report.volumes)", "inodes": "\(report.inodes)",
            "stale": "\(report.staleInodes)", "handles": "\(report.handles)",
            "seconds": "\(Double(Int(report.seconds * 1000)) / 1000)",
        ])
    }

    private static func reopenVolume(_ r: VolumeRecord, slot: Int) -> Volume? {
        let path = r.backingPath
        let rootFD = open(path, Int32(CAIRN_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return nil }
        let dataFD = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dataFD >= 0 else {
            close(rootFD)
            return nil
        }
        return Volume(id: r.id, backingPath: path, readOnly: r.readOnly, serial: r.serial, slot: slot, record: r,
                      rootFD: rootFD, dataFD: dataFD, enforcement: r.enforcement)
    }

    /// The inode's O_PATH descriptor from its file handle, checked to be the same inode.
    private static func reopenInode(_ r: InodeRecord, volume: Volume) -> Int32 {
        guard r.handleSize > 0 else { return -1 }
        let fd = cairn_open_handle(volume.dataFD, r.handleType, r.handle, r.handleSize, Int32(CAIRN_O_PATH) | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        var st = stat()
        guard fstatat(fd, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) == 0, UInt64(st.st_ino) == r.ino,
              UInt64(st.st_dev) == r.dev else {
            close(fd)
            return -1
        }
        return fd
    }

    /// st_dev of the FUSE mount (or, with `anyType`, of any mount) at `path` from
    /// /proc/self/mountinfo (0 if none).
    static func mountedDevice(at path: String, anyType: Bool = false) -> UInt64 {
        // Resolve the parent only: looking up the mount point itself would wait for the daemon.
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let slash = trimmed.lastIndex(of: "/")
        let parent = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
        let last = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(parent, &resolved) != nil else { return 0 }
        let base = String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let canonical = base == "/" ? "/" + last : base + "/" + last
        guard let f = fopen("/proc/self/mountinfo", "r") else { return 0 }
        defer { fclose(f) }
        var found: UInt64 = 0
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, f) > 0, let line {
            let fields = String(cString: line).split(separator: " ")
            guard fields.count > 8, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count,
                  anyType || fields[dash + 1].hasPrefix("fuse") else { continue }
            guard unescapeMountField(fields[4]) == canonical else { continue }
            let dev = fields[2].split(separator: ":")
            guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { continue }
            found = (major << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)
        }
        return found
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescapeMountField(_ field: Substring) -> String {
        let bytes = Array(field.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 92, i + 3 < bytes.count,
               let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Unmounts (lazily, so a busy mount still goes), stops the workers and lets the connection go
    /// (the holder closes its descriptors and exits), so anything still using the mount (a
    /// leftover bind mount) gets ENOTCONN instead of hanging. Idempotent.
    public func unmount() {
        state.withLock { s in
            guard let session = s.session else { return }
            umount2(mountPoint, Int32(MNT_DETACH))
            session.stopWorkers()
            session.closeDescriptors()
            s.fs?.hooks.setHolder(nil)
            if let holder = s.holder {
                holder.exit()
                holder.close()
            }
            if s.holderPID > 0 { Self.reap(s.holderPID) }
            s = MountState()
            logger.info("cairnfs unmounted", metadata: ["mountPoint": "\(mountPoint)"])
        }
    }

    /// Ends this daemon's part without unmounting, for a restart or upgrade: the workers finish the
    /// request each is serving and stop, and the connection stays with the descriptor holder, where
    /// the kernel queues requests until the next daemon's `mount()` takes it over. Afterwards this
    /// object is unmounted as far as it knows (its calls act on nothing).
    public func handOver() {
        state.withLock { s in
            guard let session = s.session else { return }
            guard let holder = s.holder else {
                logger.warning("cairnfs: no descriptor holder to hand the connection to; unmounting instead",
                               metadata: ["mountPoint": "\(mountPoint)"])
                umount2(mountPoint, Int32(MNT_DETACH))
                session.stopWorkers()
                session.closeDescriptors()
                s = MountState()
                return
            }
            session.stopWorkers()
            session.closeDescriptors()
            s.fs?.hooks.setHolder(nil)
            holder.close()
            s = MountState()
            logger.info("cairnfs handed over to the descriptor holder", metadata: ["mountPoint": "\(mountPoint)"])
        }
    }

    private static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(10_000)
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
        state.withLock { s in
            guard let session = s.session else { return }
            if let name { session.invalidateEntry(parent: 1, name: name) }
            session.invalidateInode(1)
        }
    }

    // MARK: - Volumes

    static func validID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 255 && id != "." && id != ".." && !id.contains("/") && !id.utf8.contains(0)
    }

    /// Whether the kernel can enforce the capacity of volumes under the data root `path`, and how.
    public static func kernelQuotaSupport(path: String) -> KernelQuotaSupport {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            return KernelQuotaSupport(mechanism: nil, detail: "\(path) cannot be opened: \(errnoText(cairn_errno()))")
        }
        defer { close(fd) }
        return KernelQuota.support(fd: fd)
    }

    /// Makes the volume appear at `<mountPoint>/<id>`: with project quotas where the backing
    /// filesystem enforces them (the directory gets its project id and a hard limit of
    /// `capacityBytes`), else after a scan of its usage for Cairn's own accounting.
    /// Attaching the same spec again does nothing; a different spec under the same id is refused.
    public func attach(_ spec: VolumeSpec) throws {
        guard Self.validID(spec.id) else { throw FileSystemError.invalidVolumeID(id: spec.id) }
        guard spec.capacityBytes > 0 else { throw FileSystemError.invalidCapacity(id: spec.id, bytes: spec.capacityBytes) }
        guard spec.backingPath.utf8.count <= VolumeRecord.pathCapacity else {
            throw FileSystemError.backingUnavailable(id: spec.id, path: spec.backingPath, errno: ENAMETOOLONG)
        }
        guard let fs else { throw FileSystemError.notMounted(path: mountPoint) }
        if let (existing, _) = fs.volume(named: spec.id) {
            if existing.spec == spec { return }
            throw FileSystemError.conflictingSpec(id: spec.id, attached: existing.spec, requested: spec)
        }
        let rootFD = open(spec.backingPath, Int32(CAIRN_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            throw FileSystemError.backingUnavailable(id: spec.id, path: spec.backingPath, errno: cairn_errno())
        }
        let dataFD = open(spec.backingPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dataFD >= 0 else {
            let e = cairn_errno()
            close(rootFD)
            throw FileSystemError.backingUnavailable(id: spec.id, path: spec.backingPath, errno: e)
        }
        func fail(_ error: FileSystemError) -> FileSystemError {
            close(rootFD)
            close(dataFD)
            return error
        }
        var enforcement = CapacityEnforcement.daemon
        var totals = UsageScanner.Totals()
        let kernel = tuning.projectQuotas ? KernelQuota.support(fd: dataFD).mechanism : nil
        switch kernel {
        case .projectQuota:
            let taken = Set(fs.registry.withLock { r in r.volumes.values.compactMap { v -> UInt32? in
                if case .projectQuota(let id) = v.volume.enforcement { return id }
                return nil
            } })
            do {
                let id = try KernelQuota.assign(dirFD: dataFD, volumeID: spec.id, taken: taken)
                try KernelQuota.setLimit(fd: dataFD, id: id, bytes: spec.capacityBytes)
                enforcement = .projectQuota(projectID: id)
            } catch {
                throw fail(.quotaFailed(id: spec.id, path: spec.backingPath, errno: error.code))
            }
        case .btrfsQgroup:
            // A volume directory made before qgroups were on is a plain directory: daemon accounting.
            if let subvolume = KernelQuota.btrfsSubvolume(fd: dataFD) {
                do { try KernelQuota.setBtrfsLimit(fd: dataFD, bytes: spec.capacityBytes) } catch {
                    throw fail(.quotaFailed(id: spec.id, path: spec.backingPath, errno: error.code))
                }
                enforcement = .btrfsQgroup(subvolumeID: subvolume)
            }
        case nil:
            break
        }
        if !enforcement.countsFiles {
            do { totals = try UsageScanner.scan(rootFD: rootFD) } catch {
                throw fail(.scanFailed(id: spec.id, path: spec.backingPath, errno: error.code))
            }
        }
        var st = stat()
        if fstatat(rootFD, "", &st, Int32(CAIRN_AT_EMPTY_PATH)) != 0 {
            throw fail(.backingUnavailable(id: spec.id, path: spec.backingPath, errno: cairn_errno()))
        }
        let inodeFD = fcntl(rootFD, F_DUPFD_CLOEXEC, 0)
        guard inodeFD >= 0 else { throw fail(.backingUnavailable(id: spec.id, path: spec.backingPath, errno: cairn_errno())) }
        let memory = fs.memory
        let result: Result<Bool, FileSystemError> = fs.registry.withLock { r in
            if let existing = r.volumes[spec.id] {
                return existing.volume.spec == spec ? .success(false)
                    : .failure(.conflictingSpec(id: spec.id, attached: existing.volume.spec, requested: spec))
            }
            let used = Set(r.volumes.values.map { $0.volume.slot })
            guard let slot = (0..<SessionMemory.maxVolumes).first(where: { !used.contains($0) && memory.volume($0).state == 0 }) else {
                return .failure(.tooManyVolumes(id: spec.id, limit: SessionMemory.maxVolumes))
            }
            let record = memory.volume(slot)
            let serial = memory.header.nextVolumeSerial
            memory.header.nextVolumeSerial = serial &+ 1
            record.id = spec.id
            record.backingPath = spec.backingPath
            record.readOnly = spec.readOnly
            record.serial = serial
            record.enforcement = enforcement
            cairn_atomic_store64(record.capacity, spec.capacityBytes)
            cairn_atomic_store64(record.used, totals.bytes)
            cairn_atomic_store64(record.charged, totals.bytes)
            cairn_atomic_store64(record.files, totals.files)
            let volume = Volume(id: spec.id, backingPath: spec.backingPath, readOnly: spec.readOnly, serial: serial,
                                slot: slot, record: record, rootFD: rootFD, dataFD: dataFD, enforcement: enforcement)
            do {
                let root = try fs.table.insertOrRef(fd: inodeFD, stat: st, volume: volume, accounted: true,
                                                    lookups: 0, pinned: true)
                record.rootNodeID = root.nodeID
                record.state = 1
                r.volumes[spec.id] = (volume, root.nodeID)
                clock_gettime(CLOCK_REALTIME, &r.changed)
                return .success(true)
            } catch {
                return .failure(.tooManyVolumes(id: spec.id, limit: SessionMemory.maxInodes))
            }
        }
        guard try result.get() else {
            close(rootFD)
            close(dataFD)
            return
        }
        notifyRoot(entry: nil)
        logger.info("cairnfs volume attached", metadata: [
            "volume": "\(spec.id)", "backing": "\(spec.backingPath)", "capacity": "\(spec.capacityBytes)",
            "enforcement": "\(enforcement)", "used": "\(totals.bytes)", "files": "\(totals.files)",
            "readOnly": "\(spec.readOnly)",
        ])
    }

    /// Removes the volume from the node mount. Refused with `volumeBusy` while any file or
    /// directory of it is open through the mount (the node agent stops pods and removes their
    /// bind mounts first); detaching an unknown volume does nothing, so a retry is safe.
    public func detach(volumeID: String) throws {
        guard let fs else { return }
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
            volume.record.state = 0
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
        fs?.volume(named: volumeID)?.volume.usage
    }

    /// File and directory handles open on an attached volume now (the kernel releases a handle after
    /// close(2) returns, so this trails the processes' view for a moment).
    public func openHandles(volumeID: String) -> Int? {
        fs?.volume(named: volumeID)?.volume.openHandles.load(ordering: .relaxed)
    }

    /// Who enforces the capacity of an attached volume.
    public func enforcement(volumeID: String) -> CapacityEnforcement? {
        fs?.volume(named: volumeID)?.volume.enforcement
    }

    /// Changes the capacity (expansion; shrinking below usage is allowed and leaves the volume
    /// full until files are removed). With project quotas the kernel's limit changes at once.
    public func setCapacity(volumeID: String, bytes: Int64) throws {
        guard bytes > 0 else { throw FileSystemError.invalidCapacity(id: volumeID, bytes: bytes) }
        guard let (volume, _) = fs?.volume(named: volumeID) else { throw FileSystemError.unknownVolume(id: volumeID) }
        do {
            switch volume.enforcement {
            case .projectQuota(let id): try KernelQuota.setLimit(fd: volume.dataFD, id: id, bytes: bytes)
            case .btrfsQgroup: try KernelQuota.setBtrfsLimit(fd: volume.dataFD, bytes: bytes)
            case .daemon: break
            }
        } catch {
            throw FileSystemError.quotaFailed(id: volumeID, path: volume.backingPath, errno: error.code)
        }
        volume.setCapacity(bytes)
        logger.info("cairnfs volume capacity set", metadata: ["volume": "\(volumeID)", "capacity": "\(bytes)"])
    }

    /// Attached volume ids, sorted.
    public var volumeIDs: [String] { fs?.volumeNames().map(\.0) ?? [] }

    /// Requests this daemon has served, by name ("LOOKUP": 12, ...), for measurements.
    public var requestCounts: [String: UInt64] {
        guard let counts = state.withLock({ $0.session?.requestCounts.snapshot }) else { return [:] }
        var out: [String: UInt64] = [:]
        for (op, n) in counts { out[Self.opcodeName(op)] = n }
        return out
    }

    static func opcodeName(_ op: UInt32) -> String {
        let names: [Int: String] = [
            CFK_LOOKUP: "LOOKUP", CFK_FORGET: "FORGET", CFK_GETATTR: "GETATTR", CFK_SETATTR: "SETATTR",
            CFK_READLINK: "READLINK", CFK_SYMLINK: "SYMLINK", CFK_MKNOD: "MKNOD", CFK_MKDIR: "MKDIR",
            CFK_UNLINK: "UNLINK", CFK_RMDIR: "RMDIR", CFK_RENAME: "RENAME", CFK_LINK: "LINK", CFK_OPEN: "OPEN",
            CFK_READ: "READ", CFK_WRITE: "WRITE", CFK_STATFS: "STATFS", CFK_RELEASE: "RELEASE", CFK_FSYNC: "FSYNC",
            CFK_SETXATTR: "SETXATTR", CFK_GETXATTR: "GETXATTR", CFK_LISTXATTR: "LISTXATTR",
            CFK_REMOVEXATTR: "REMOVEXATTR", CFK_FLUSH: "FLUSH", CFK_INIT: "INIT", CFK_OPENDIR: "OPENDIR",
            CFK_READDIR: "READDIR", CFK_RELEASEDIR: "RELEASEDIR", CFK_FSYNCDIR: "FSYNCDIR", CFK_ACCESS: "ACCESS",
            CFK_CREATE: "CREATE", CFK_INTERRUPT: "INTERRUPT", CFK_BATCH_FORGET: "BATCH_FORGET",
            CFK_FALLOCATE: "FALLOCATE", CFK_READDIRPLUS: "READDIRPLUS", CFK_RENAME2: "RENAME2", CFK_LSEEK: "LSEEK",
            CFK_COPY_FILE_RANGE: "COPY_FILE_RANGE", CFK_STATX: "STATX",
        ]
        return names[Int(op)] ?? "OP\(op)"
    }

    /// If `path` is a dead FUSE mount (stat fails with ENOTCONN: its daemon died), detaches it
    /// lazily and returns true. Anything else is left alone. A mount whose daemon is gone but whose
    /// connection a holder keeps is not dead: `mount()` takes it over.
    public static func cleanStaleMount(at path: String) -> Bool {
        // statvfs always reaches the daemon (stat may be answered from cached attributes).
        var vfs = statvfs()
        var st = stat()
        let dead: (Int32) -> Bool = { $0 == ENOTCONN || $0 == ECONNABORTED }
        let isDead = (statvfs(path, &vfs) != 0 && dead(cairn_errno())) || (stat(path, &st) != 0 && dead(cairn_errno()))
        guard isDead else { return false }
        return umount2(path, Int32(MNT_DETACH)) == 0
    }
}
