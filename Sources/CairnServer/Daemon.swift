import CairnAPI
import CairnControl
import CairnCore
import CairnCrashPoint
import CairnManifest
import CairnFS
import CairnStore
import CairnTLS
import Foundation
import Hummingbird
import Logging
import NIOSSL
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
    /// The HTTPS listener (kube-apiserver's secure port).
    public var listen: (host: String, port: Int)?
    /// The bearer token TCP clients may present instead of a client certificate.
    public var token: String?
    /// Where to write the admin kubeconfig at start (`--write-kubeconfig`).
    public var writeKubeconfig: String?
    /// Extra names and addresses for the serving certificate (`--tls-san`).
    public var tlsSANs: [String] = []
    /// How `kubectl exec` starts its sandbox (default: this binary's `exec-sandbox`).
    public var exec: ExecService?
    public var settings: ControlPlaneSettings

    public init(stateDir: String, socketPath: String, storageClassesDir: String?, nodes: [LocalNodeAgent.NodeConfig],
                nodeCapacity: [String: Quantity] = [:], listen: (host: String, port: Int)? = nil, token: String? = nil,
                settings: ControlPlaneSettings = ControlPlaneSettings()) {
        self.settings = settings
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
        let socket = try OwnedSocket(path: config.socketPath)
        defer { socket.release() }

        let store = try Store(path: "\(config.stateDir)/cairn.db")
        CrashPoint.reached("recovery-store-opened")
        let agent = LocalNodeAgent(stateDir: config.stateDir, nodes: config.nodes, logger: logger)
        try agent.start(stateDir: config.stateDir)
        CrashPoint.reached("recovery-nodes-mounted")
        // SIGHUP: exit like SIGTERM, but leave every volume mounted and hand each node's FUSE
        // connection to its descriptor holder, so the next `cairn serve` takes them over and pods see
        // a pause instead of errors (a restart or upgrade).
        let handOver = HandOverSignal()
        defer { agent.shutdown(handOver: handOver.requested) }

        let plane = ControlPlane(store: store, agent: agent, localNodes: Set(config.nodes.map(\.name)), logger: logger,
                                 settings: config.settings)
        try await plane.load()
        CrashPoint.reached("recovery-loaded")
        let adopted = await plane.adoptMountedPods()
        if adopted > 0 { logger.notice("pods kept their mounts across the restart", metadata: ["pods": "\(adopted)"]) }
        CrashPoint.reached("recovery-pods-adopted")
        let classes = try await bootstrap(plane, config: config, logger: logger)
        await plane.observeServedNodes(agent.servedNodes())
        try await plane.commitNow()
        CrashPoint.reached("recovery-bootstrap-committed")
        await plane.sweepOrphanDirectories(reportKept: true)
        CrashPoint.reached("recovery-swept")
        await logStart(plane, config: config, classes: classes, logger: logger)

        var access: ClusterAccess?
        var tls: TLSConfiguration?
        if let listen = config.listen {
            (access, tls) = try clusterAccess(config, listen: listen, logger: logger)
        }
        let handler = APIHandler(plane: plane, views: Views(plane: plane, agent: agent), watches: WatchServer(store: store),
                                 access: access, logger: logger)
        let exec = config.exec ?? ExecService.ofThisBinary()
        var services: [any ServiceLifecycle.Service] = [
            HTTPServer.unixSocket(socket, handler: handler, exec: exec, logger: logger),
            ControllerService(plane: plane),
        ]
        if let listen = config.listen, let tls {
            services.append(try HTTPServer.tcp(host: listen.host, port: listen.port, tls: tls, authenticator: Authenticator(token: config.token),
                                               handler: handler, exec: exec, logger: logger))
        }
        // Last, so the first to be shut down (the group stops services in reverse order): the
        // servers then have no watch left to wait for.
        services.append(WatchShutdown(watches: handler.watches))
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        handOver.install { Task { await group.triggerGracefulShutdown() } }
        try await group.run()
        logger.notice(handOver.requested ? "cairn serve: handing every node's mounts over to the next daemon (SIGHUP)"
                                         : "cairn serve: shutting down; unmounting every pod volume and node filesystem")
    }

    /// The cluster's certificates in `<state-dir>/tls` (made on first start, as k3s and kind make
    /// theirs), the TLS configuration of the listener, and the kubeconfig `--write-kubeconfig` asks for.
    static func clusterAccess(_ config: DaemonConfig, listen: (host: String, port: Int), logger: Logger) throws -> (ClusterAccess, TLSConfiguration) {
        let hostname = ProcessInfo.processInfo.hostName
        var extra = config.tlsSANs
        if !["", "0.0.0.0", "::", "[::]"].contains(listen.host) { extra.append(listen.host) }
        let pki: ClusterPKI
        do {
            pki = try ClusterPKI.loadOrCreate(stateDirectory: URL(fileURLWithPath: config.stateDir),
                                              servingNames: ClusterPKI.servingNames(hostname: hostname, extra: extra))
        } catch {
            throw DaemonError("cannot set up the HTTPS listener's certificates: \(error)")
        }
        let access = ClusterAccess(pki: pki, server: ClusterAccess.serverURL(host: listen.host, port: listen.port))
        let tls: TLSConfiguration
        do { tls = try HTTPServer.tlsConfiguration(pki) } catch {
            throw DaemonError("cannot load the serving certificate in \(pki.directory.path): \(error)")
        }
        if let path = config.writeKubeconfig {
            do {
                // As k3s does: `--write-kubeconfig ~/.kube/config` works on a machine with no ~/.kube yet.
                let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                try access.kubeconfig().write(to: URL(fileURLWithPath: path))
            } catch {
                throw DaemonError("--write-kubeconfig \(path): \(error)")
            }
            logger.notice("wrote the admin kubeconfig", metadata: ["path": "\(path)", "server": "\(access.server)"])
        }
        return (access, tls)
    }

    /// What an operator wants to know at start: where state and sockets are, which nodes this daemon
    /// serves (and which stored nodes it does not), and which classes it loaded.
    static func logStart(_ plane: ControlPlane, config: DaemonConfig, classes: [StorageClass], logger: Logger) async {
        let stored = await plane.read { Set($0.nodes.keys) }
        let served = Set(config.nodes.map(\.name))
        var listeners = ["unix:\(config.socketPath)"]
        if let l = config.listen { listeners.append("https:\(l.host):\(l.port)") }
        logger.notice("cairn serve started", metadata: [
            "state": "\(config.stateDir)", "listeners": "\(listeners.joined(separator: ", "))",
            "nodes": "\(config.nodes.map { "\($0.name)=\($0.dataRoot)" }.joined(separator: ", "))",
            "classes": "\(classes.map(\.name).sorted().joined(separator: ", "))",
        ])
        let absent = stored.subtracting(served).sorted()
        if !absent.isEmpty {
            logger.warning("""
                stored nodes that this daemon does not serve stay NotReady (Ready Unknown, tainted \(Taint.unreachableKey)) \
                and their pods not ready until a daemon serves them again; nothing on them is deleted
                """, metadata: ["not served": "\(absent.joined(separator: ", "))", "served": "\(served.sorted().joined(separator: ", "))"])
        }
    }

    /// The default namespaces, this host's Node objects and the StorageClasses from the directory.
    static func bootstrap(_ plane: ControlPlane, config: DaemonConfig, logger: Logger) async throws -> [StorageClass] {
        for ns in ["default", "kube-system"] where await plane.get(Namespace.self, namespace: nil, name: ns) == nil {
            try await plane.ensure(Namespace(metadata: ObjectMeta(name: ns)))
        }
        for node in config.nodes {
            try await plane.ensure(nodeObject(node, capacity: config.nodeCapacity[node.name]))
        }
        guard let dir = config.storageClassesDir else { return [] }
        let classes = try loadStorageClasses(dir)
        for sc in classes {
            do {
                try await plane.ensure(sc)
            } catch {
                throw DaemonError("\(dir): StorageClass \"\(sc.name)\": \(error.message)")
            }
        }
        return classes
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
        // What a kubelet reports besides the storage Cairn schedules by: the host's processors and
        // memory (so kubectl describe node computes its percentages) and its pod limit.
        var resources: [String: Quantity] = [Node.storageResource: cap]
        if let cpu = try? Quantity(parsing: String(ProcessInfo.processInfo.activeProcessorCount)) { resources["cpu"] = cpu }
        if let memory = try? Quantity(parsing: "\(ProcessInfo.processInfo.physicalMemory / 1024)Ki") { resources["memory"] = memory }
        if let pods = try? Quantity(parsing: "110") { resources["pods"] = pods }
        status.capacity = resources
        status.allocatable = resources
        status.addresses = [["type": "InternalIP", "address": "127.0.0.1"], ["type": "Hostname", "address": .string(config.name)]]
        status.nodeInfo = HostFacts.nodeInfo
        status.conditions = [
            NodeCondition(type: "KernelEnforcedCapacity", status: quota.available ? .true : .false,
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

/// Ends every open watch at graceful shutdown, so the HTTP servers, which wait for open responses,
/// can stop.
struct WatchShutdown: ServiceLifecycle.Service {
    let watches: WatchServer
    func run() async throws {
        await withGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onGracefulShutdown: {
            watches.closeAll()
        }
        watches.closeAll()
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

