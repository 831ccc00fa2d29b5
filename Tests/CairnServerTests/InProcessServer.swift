import CairnAPIScenarios
import CairnControl
import CairnCore
import CairnServer
import CairnStore
import Foundation
import Logging
import Synchronization

/// A node agent that mounts nothing: it remembers what it was asked, so the control plane runs whole
/// (provisioning, pods starting and stopping) without FUSE or root.
final class FakeNodeAgent: NodeAgent, Sendable {
    let directories = Mutex<Set<String>>([])
    let runningPods = Mutex<Set<String>>([])
    let served: Mutex<Set<String>>

    init(nodes: Set<String>) { served = Mutex(nodes) }

    func createVolumeDirectory(_ spec: VolumeDirectorySpec) throws { _ = directories.withLock { $0.insert(spec.path) } }
    func removeVolumeDirectory(_ spec: VolumeDirectorySpec) throws { _ = directories.withLock { $0.remove(spec.path) } }
    func startPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws { _ = runningPods.withLock { $0.insert("\(namespace)/\(pod)") } }
    func stopPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws -> [String: VolumeFingerprint] {
        _ = runningPods.withLock { $0.remove("\(namespace)/\(pod)") }
        return Dictionary(mounts.map { ($0.claimUID, VolumeFingerprint(files: 1, bytes: 1, digest: "d", deepDigest: "dd")) }, uniquingKeysWith: { a, _ in a })
    }
    func usage(volume: String) -> (used: Int64, capacity: Int64)? { nil }
    func fingerprint(path: String, deep: Bool) throws -> VolumeFingerprint { VolumeFingerprint(files: 1, bytes: 1, digest: "d", deepDigest: "dd") }
    func hostPath(namespace: String, pod: String, volume: String) -> String { "/pods/\(namespace)/\(pod)/\(volume)" }
    func sweepOrphanDirectories(known: Set<String>) -> (removed: [String], kept: [String]) { ([], []) }
    func servedNodes() -> Set<String> { served.withLock { $0 } }
    func setCapacity(volume: String, node: String, bytes: Int64) throws {}
    func adoptPod(namespace: String, pod: String, mounts: [PodVolumeMount]) -> Bool {
        runningPods.withLock { $0.contains("\(namespace)/\(pod)") }
    }
}

/// The daemon's control plane and handler in this process, on a store in a temporary file, with the
/// controllers running.
final class InProcessServer: APITransport, @unchecked Sendable {
    let dir: URL
    let store: Store
    let agent: FakeNodeAgent
    let plane: ControlPlane
    let handler: APIHandler
    private var loop: Task<Void, Never>?

    init(settings: ControlPlaneSettings = ControlPlaneSettings(), nodes: [String] = ["k8s-node1", "k8s-node2"]) async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-server-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try Store(path: dir.appendingPathComponent("cairn.db").path)
        agent = FakeNodeAgent(nodes: Set(nodes))
        var logger = Logger(label: "test")
        logger.logLevel = .error
        plane = ControlPlane(store: store, agent: agent, localNodes: Set(nodes), logger: logger, settings: settings)
        try await plane.load()
        for ns in ["default", "kube-system"] { try await plane.ensure(Namespace(metadata: ObjectMeta(name: ns))) }
        for n in nodes {
            var node = Node(metadata: ObjectMeta(name: n, labels: [Node.hostnameLabel: n], annotations: [Node.dataRootAnnotation: "/data/\(n)"]))
            var status = NodeStatus()
            status.allocatable = [Node.storageResource: try Quantity(parsing: "100Gi")]
            status.capacity = status.allocatable
            node.status = status
            try await plane.ensure(node)
        }
        let classes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("storage-classes").path
        for sc in try Daemon.loadStorageClasses(classes) { try await plane.ensure(sc) }
        await plane.observeServedNodes(Set(nodes))
        try await plane.commitNow()
        handler = APIHandler(plane: plane, views: Views(plane: plane, agent: agent), watches: WatchServer(store: store), logger: logger)
        let plane = self.plane
        loop = Task { await plane.runControllers() }
    }

    func send(_ method: String, _ path: String, body: String?) async throws -> (status: Int, body: String) {
        var query: [String: String] = [:]
        var bare = path
        if let q = path.firstIndex(of: "?") {
            bare = String(path[..<q])
            for pair in path[path.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        let response = await handler.handle(APIRequest(method: method, path: bare, query: query, body: Data((body ?? "").utf8),
                                                       contentType: "application/json"))
        return (response.status, await response.text)
    }

    func stop() {
        loop?.cancel()
        try? FileManager.default.removeItem(at: dir)
    }
}
