import CairnControl
import CairnCore
import CairnManifest
import CairnFS
import CairnStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

public struct DaemonConfig: Sendable {
    public var stateDir: String
    public var socketPath: String
    public var storageClassesDir: String?
    public var nodes: [LocalNodeAgent.NodeConfig]
    /// Node name -> storage the node offers (overrides the data root filesystem's size).
    public var nodeCapacity: [String: Quantity]
    public var listen: (host: String, port: Int)?
    public var token: String?

    public init(stateDir: String, socketPath: String, storageClassesDir: String?, nodes: [LocalNodeAgent.NodeConfig],
                nodeCapacity: [String: Quantity] = [:], listen: (host: String, port: Int)? = nil, token: String? = nil) {
        self.stateDir = stateDir
        self.socketPath = socketPath
        self.storageClassesDir = storageClassesDir
        self.nodes = nodes
        self.nodeCapacity = nodeCapacity
        self.listen = listen
        self.token = token
    }
}

public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// `cairn serve`: the store, the node agent, the controllers and the API, run until SIGTERM/SIGINT.
public enum Daemon {
    public static func run(_ config: DaemonConfig, logger: Logger) async throws {
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let lock = try StateLock(stateDir: config.stateDir)
        defer { lock.release() }

        unlink(config.socketPath)
        let store = try Store(path: "\(config.stateDir)/cairn.db")
        let agent = LocalNodeAgent(stateDir: config.stateDir, nodes: config.nodes, logger: logger)
        try agent.start(stateDir: config.stateDir)
        // SIGHUP: exit like SIGTERM, but leave every volume mounted and hand each node's FUSE
        // connection to its descriptor holder, so the next `cairn serve` takes them over and pods see
        // a pause instead of errors (a restart or upgrade).
        let handOver = HandOverSignal()
        defer {
            agent.shutdown(handOver: handOver.requested)
            unlink(config.socketPath)
        }

        let plane = ControlPlane(store: store, agent: agent, localNodes: Set(config.nodes.map(\.name)), logger: logger)
        try await plane.loadCache()
        try await bootstrap(plane, config: config, logger: logger)
        await plane.markLocalPodsNotReady()
        await plane.sweepOrphanDirectories(reportKept: true)

        let handler = APIHandler(plane: plane, views: Views(plane: plane, agent: agent))
        var services: [any ServiceLifecycle.Service] = [
            HTTPServer.unixSocket(path: config.socketPath, handler: handler, logger: logger),
            ControllerService(plane: plane),
        ]
        if let listen = config.listen, let token = config.token {
            services.append(HTTPServer.tcp(host: listen.host, port: listen.port, token: token, handler: handler, logger: logger))
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        handOver.install { Task { await group.triggerGracefulShutdown() } }
        logger.notice("cairn serve: state \(config.stateDir), socket \(config.socketPath), nodes \(config.nodes.map(\.name).joined(separator: ","))")
        try await group.run()
        logger.notice("cairn serve: shutting down")
    }

    /// The default namespace, this host's Node objects and the StorageClasses from the directory.
    static func bootstrap(_ plane: ControlPlane, config: DaemonConfig, logger: Logger) async throws {
        for ns in ["default", "kube-system"] where await plane.get(Namespace.self, namespace: nil, name: ns) == nil {
            try await plane.ensure(Namespace(metadata: ObjectMeta(name: ns)))
        }
        for node in config.nodes {
            try await plane.ensure(nodeObject(node, capacity: config.nodeCapacity[node.name]))
        }
        if let dir = config.storageClassesDir {
            for sc in try loadStorageClasses(dir) {
                do {
                    try await plane.ensure(sc)
                } catch let s as Status {
                    throw DaemonError("\(dir): StorageClass \"\(sc.name)\": \(s.message)")
                }
            }
        }
    }

    /// Label naming who enforces volume capacities on the node: "project-quota" or "btrfs-qgroup"
    /// (the kernel, at every write) or "daemon" (Cairn's own accounting).
    static let capacityEnforcementLabel = "cairn.io/capacity-enforcement"

    static func nodeObject(_ config: LocalNodeAgent.NodeConfig, capacity override: Quantity?) -> Node {
        let quota = NodeFileSystem.kernelQuotaSupport(path: config.dataRoot)
        var node = Node(metadata: ObjectMeta(name: config.name, labels: [
            Node.hostnameLabel: config.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            capacityEnforcementLabel: quota.mechanism?.rawValue ?? "daemon",
        ], annotations: [Node.dataRootAnnotation: config.dataRoot]))
        var st = statvfs()
        var size: Int64 = 0
        if statvfs(config.dataRoot, &st) == 0 { size = Int64(st.f_blocks) * Int64(st.f_frsize) }
        let cap = override ?? Quantity(bytes: size)
        var status = NodeStatus()
        status.capacity = [Node.storageResource: cap]
        status.allocatable = [Node.storageResource: cap]
        status.conditions = [
            NodeCondition(type: "Ready", status: "True", reason: "KubeletReady",
                          message: "cairn node agent is serving volumes"),
            NodeCondition(type: "KernelEnforcedCapacity", status: quota.available ? "True" : "False",
                          reason: quota.mechanism.map { $0 == .projectQuota ? "ProjectQuota" : "BtrfsQgroup" } ?? "NoKernelQuota",
                          message: quota.available
                              ? "\(quota.detail): the kernel refuses writes past each volume's capacity; every open is passthrough"
                              : "\(quota.detail); Cairn enforces capacities itself, reads go through passthrough"),
        ]
        node.status = status
        return node
    }

    /// Reads every StorageClass manifest in `dir`. Anything invalid stops the daemon with the file and line.
    public static func loadStorageClasses(_ dir: String) throws -> [StorageClass] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
        var classes: [StorageClass] = []
        for file in files {
            let path = "\(dir)/\(file)"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let docs: [ManifestDocument]
            do { docs = try ManifestReader.read(text, source: path) } catch { throw DaemonError("\(error)") }
            for doc in docs {
                switch ObjectDecoding.decode(StorageClass.self, from: doc.json) {
                case .success(let sc):
                    let errors = Validation.validate(sc)
                    if let e = errors.first { throw DaemonError("\(doc.location(of: e.field)): \(e)") }
                    classes.append(sc)
                case .failure(let errors):
                    let e = errors.errors[0]
                    throw DaemonError("\(doc.location(of: e.field)): \(e)")
                }
            }
        }
        return classes
    }
}

/// Runs the controllers until graceful shutdown.
struct ControllerService: ServiceLifecycle.Service {
    let plane: ControlPlane
    func run() async throws {
        let task = Task { await plane.runControllers() }
        await withGracefulShutdownHandler {
            await task.value
        } onGracefulShutdown: {
            task.cancel()
        }
        task.cancel()
    }
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
