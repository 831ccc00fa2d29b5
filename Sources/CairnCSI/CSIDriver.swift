import CairnCore
import CairnNode
import CairnStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `cairn csi`'s settings.
public struct CSIDriverConfig: Sendable {
    /// The CSI driver name (GetPluginInfo, the CSIDriver object, StorageClass provisioner).
    public static let driverName = "cairn.csi.cairn.io"

    /// Path of the Unix socket the CSI services listen on (from `unix:///PATH`).
    public var socketPath: String
    public var nodeID: String
    public var dataRoot: String
    public var stateDir: String
    /// Storage the node offers to volumes; nil: the data root filesystem's size.
    public var capacityBytes: Int64?
    /// NodeGetInfo's max_volumes_per_node, and the most volumes NodeStageVolume stages at once.
    public var maxVolumes: Int64
    /// Where `cairn bindings` finds this driver: `<state-dir>/cairn.sock` unless given.
    public var bindingsSocketPath: String
    /// Whether ControllerGetCapabilities advertises EXPAND_VOLUME. In a cluster it is off: the one
    /// external-resizer (it has no node-deployment mode) would call ControllerExpandVolume on the
    /// driver beside it, which knows only its own node's volumes; without the capability,
    /// external-resizer leaves the resize to the kubelet of the volume's node (NodeExpandVolume).
    public var controllerExpansion: Bool
    public var version: String

    public init(socketPath: String, nodeID: String, dataRoot: String, stateDir: String, capacityBytes: Int64?,
                maxVolumes: Int64, bindingsSocketPath: String, controllerExpansion: Bool = true, version: String) {
        self.socketPath = socketPath
        self.nodeID = nodeID
        self.dataRoot = dataRoot
        self.stateDir = stateDir
        self.capacityBytes = capacityBytes
        self.maxVolumes = maxVolumes
        self.bindingsSocketPath = bindingsSocketPath
        self.controllerExpansion = controllerExpansion
        self.version = version
    }

    /// The socket path of a CSI endpoint. The spec's form is `unix:///path/to/socket.sock` (also taken:
    /// `unix:/path`); only Unix sockets are CSI endpoints, and their names end with `.sock`.
    public static func socketPath(endpoint: String) -> Result<String, CSIDriverError> {
        var path: Substring
        if endpoint.hasPrefix("unix://") {
            path = endpoint.dropFirst("unix://".count)
        } else if endpoint.hasPrefix("unix:") {
            path = endpoint.dropFirst("unix:".count)
        } else {
            return .failure(CSIDriverError("--endpoint \(endpoint): a CSI endpoint is a Unix socket, unix:///PATH.sock"))
        }
        guard path.hasPrefix("/"), path.count > 1 else {
            return .failure(CSIDriverError("--endpoint \(endpoint): the socket path must be absolute, as in unix:///csi/csi.sock"))
        }
        guard path.hasSuffix(".sock") else {
            return .failure(CSIDriverError("--endpoint \(endpoint): CSI endpoints end with .sock (the spec's CSI_ENDPOINT rule)"))
        }
        while path.hasPrefix("//") { path = path.dropFirst() }
        return .success(String(path))
    }
}

public struct CSIDriverError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// `cairn csi`: the Identity, Controller and Node services on the CSI socket, the bindings view on
/// `<state-dir>/cairn.sock`, state in `<state-dir>/cairn.db`. Runs until SIGTERM/SIGINT.
public enum CSIDriver {
    public static func run(_ config: CSIDriverConfig, logger: Logger) async throws {
        if let problem = NodeTopology.problem(nodeID: config.nodeID) {
            throw CSIDriverError("--node-id: \(problem)")
        }
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let lock = try StateDirectoryLock(stateDir: config.stateDir)
        defer { lock.release() }
        let store = try Store(path: "\(config.stateDir)/cairn.db")
        let capacity = try nodeCapacity(config)
        let volumes = NodeVolumes(stateDir: config.stateDir, node: config.nodeID, logger: logger)
        try volumes.start()
        defer { volumes.shutdown() }

        let state = DriverState(config: config, store: store, volumes: volumes, nodeCapacity: capacity, logger: logger)
        for path in [config.socketPath, config.bindingsSocketPath] {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .unixDomainSocket(path: config.socketPath), transportSecurity: .plaintext),
            services: [IdentityService(state: state), ControllerService(state: state), NodeService(state: state)])
        unlink(config.bindingsSocketPath)
        defer {
            unlink(config.socketPath)
            unlink(config.bindingsSocketPath)
        }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: GRPCServerService(server: server)),
                .init(service: BindingsView.server(path: config.bindingsSocketPath, state: state, logger: logger)),
                .init(service: RestoreService(state: state)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let started = "cairn csi: driver \(CSIDriverConfig.driverName) on \(config.socketPath), node \(config.nodeID), "
            + "data root \(config.dataRoot) (\(capacity) bytes offered), state \(config.stateDir), "
            + "bindings view on \(config.bindingsSocketPath)"
        logger.notice("\(started)")
        try await group.run()
        logger.notice("cairn csi: shutting down; staged volumes are remounted at the next start")
    }

    /// The storage the node offers: `--capacity`, else its data root's filesystem size.
    static func nodeCapacity(_ config: CSIDriverConfig) throws -> Int64 {
        // Creating the data root here (not at the first CreateVolume) lets statfs measure it.
        _ = try VolumeDirectory.create(dataRoot: config.dataRoot, name: ".cairn-data-root", mode: 0o700)
        rmdir("\(config.dataRoot)/.cairn-data-root")
        if let bytes = config.capacityBytes { return bytes }
        var st = statvfs()
        guard statvfs(config.dataRoot, &st) == 0 else {
            throw CSIDriverError("cannot measure the data root \(config.dataRoot): \(String(cString: strerror(errno)))")
        }
        return Int64(st.f_blocks) * Int64(st.f_frsize)
    }

    /// Makes the mounts match SQLite: every staged volume attached and bound at its staging path,
    /// every publication bound at its target path. Until it has run, Probe answers not ready and the
    /// other calls UNAVAILABLE. A volume that cannot be restored is logged and left to the CO, whose
    /// retried stage or publish restores it (the rules treat a recorded one as "make it so").
    static func restore(_ state: DriverState) throws {
        let (stages, publications) = try state.store.read { r in (try r.csiStages(), try r.csiPublications()) }
        var stagingPaths: [String: String] = [:]
        var restoredPublications = 0
        for stage in stages {
            do {
                let volume = try state.volume(stage.volumeID)
                try state.volumes.attach(volume)
                try state.volumes.bind(source: state.volumes.source(of: volume.volumeID), target: stage.stagingPath,
                                       readOnly: stage.readOnly)
                stagingPaths[stage.volumeID] = stage.stagingPath
            } catch {
                state.logger.warning("cannot restore the stage of volume \(stage.volumeID) at \(stage.stagingPath): \(error)")
            }
        }
        for p in publications {
            guard let staging = stagingPaths[p.volumeID] else { continue }
            do {
                try state.volumes.bind(source: staging, target: p.targetPath, readOnly: p.readOnly)
                restoredPublications += 1
            } catch {
                state.logger.warning("cannot restore the publication of volume \(p.volumeID) at \(p.targetPath): \(error)")
            }
        }
        if !stages.isEmpty || !publications.isEmpty {
            let summary = "restored \(stagingPaths.count) of \(stages.count) staged volumes and "
                + "\(restoredPublications) of \(publications.count) publications"
            state.logger.notice("\(summary)")
        }
    }
}

/// The gRPC server as a service of the group. Graceful shutdown lets the calls in flight finish,
/// for at most 5 s: a connection a CO keeps open must not keep the driver from stopping (the kubelet
/// would kill it at the end of its grace period anyway).
struct GRPCServerService: ServiceLifecycle.Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    func run() async throws {
        let server = self.server
        let serving = Task { try await server.serve() }
        let stopping = Mutex<Bool>(false)
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await serving.value
                } onGracefulShutdown: {
                    stopping.withLock { $0 = true }
                    server.beginGracefulShutdown()
                    Task {
                        try? await Task.sleep(nanoseconds: 5_000_000_000)
                        serving.cancel()
                    }
                }
            } onCancel: {
                serving.cancel()
            }
        } catch where stopping.withLock({ $0 }) || Task.isCancelled {
            // Cut short on the way out: nothing to report.
        }
    }
}

/// Runs the restore once, then stays until shutdown (a ServiceGroup ends when any service returns).
struct RestoreService: ServiceLifecycle.Service {
    let state: DriverState

    func run() async throws {
        try await state.offload { [state] in try CSIDriver.restore(state) }
        state.markReady()
        state.logger.notice("cairn csi: ready")
        try? await gracefulShutdown()
    }
}

/// One Cairn process per state directory: an exclusive flock on `<state-dir>/cairn.lock`, the same
/// file `cairn serve` locks, so the two modes never share a state directory at once.
final class StateDirectoryLock: Sendable {
    let fd: Int32

    init(stateDir: String) throws {
        let path = "\(stateDir)/cairn.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CSIDriverError("cannot open \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, 31, 0)
            let pid = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(fd)
            throw CSIDriverError("another cairn process (pid \(pid)) holds the state directory \(stateDir); "
                + "stop it first or use another --state-dir")
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
