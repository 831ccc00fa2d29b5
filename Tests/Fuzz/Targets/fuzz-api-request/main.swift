import CairnAPI
import CairnControl
import CairnCore
import CairnServer
import CairnStore
import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import Logging

/// The API's request path, whole: the input is `METHOD TARGET` on its first line and the body
/// after it. The target goes through what the HTTP server does with it (Hummingbird's URI: path and
/// query), then the handler of a control plane on an in-memory store with its controllers running
/// (routing, APIPath.parse, Cairn's views, selectors, admission, validation, the write path and the
/// planners that react to it). A watch request is parsed (WatchRequest) but not opened. The daemon
/// answers anything with a status; it never traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 10) ?? bytes.endIndex
    let line = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = newline < bytes.endIndex ? Data(bytes[(newline + 1)...]) : Data()
    let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
    let method = parts.first.map(String.init) ?? ""
    let uri = URI(parts.count > 1 ? String(parts[1]) : "/")
    var query: [String: String] = [:]
    for (k, v) in uri.queryParameters { query[String(k)] = String(v) }
    let path = uri.path
    _ = CairnPath.parse(path)
    if case .success(let parsed) = APIPath.parse(path) {
        _ = parsed.description
        if WatchRequest.isWatch(query) {
            _ = try? WatchRequest(kind: parsed.kind, namespace: parsed.namespace, query: query)
            return 0
        }
    }
    let request = APIRequest(method: method, path: path, query: query, body: body, contentType: "application/json")
    let server = Server.shared
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let response = await server.handler.handle(request)
        if response.status < 100 || response.status > 599 { fatalError("status \(response.status) for \(method) \(path)") }
        if case .text(let text) = response.body, response.status >= 400, (try? JSONText.parse(text)) == nil {
            fatalError("error answer is not JSON: \(text.prefix(200))")
        }
        done.signal()
    }
    done.wait()
    server.served += 1
    // A fresh control plane now and then, so the state the inputs build stays small.
    if server.served % 2000 == 0 {
        server.loop?.cancel()
        Server.shared = Server()
    }
    return 0
}

/// A control plane with two nodes that mount nothing (the fuzzer is after the request path, not the
/// disk), its classes and namespaces, and its controllers running.
final class Server: @unchecked Sendable {
    nonisolated(unsafe) static var shared = Server()
    let handler: APIHandler
    var served = 0
    var loop: Task<Void, Never>?

    init() {
        let nodes: Set<String> = ["k8s-node1", "k8s-node2"]
        let store = try! Store.inMemory()
        let agent = IdleNodeAgent(nodes: nodes)
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let plane = ControlPlane(store: store, agent: agent, localNodes: nodes, logger: logger)
        handler = APIHandler(plane: plane, views: Views(plane: plane, agent: agent), watches: WatchServer(store: store), logger: logger)
        let ready = DispatchSemaphore(value: 0)
        loop = Task.detached {
            try! await plane.load()
            for ns in ["default", "kube-system"] { try! await plane.ensure(Namespace(metadata: ObjectMeta(name: ns))) }
            for n in nodes.sorted() {
                var node = Node(metadata: ObjectMeta(name: n, labels: [Node.hostnameLabel: n], annotations: [Node.dataRootAnnotation: "/data/\(n)"]))
                var status = NodeStatus()
                status.allocatable = [Node.storageResource: Quantity(bytes: 100 << 30)]
                status.capacity = status.allocatable
                node.status = status
                try! await plane.ensure(node)
            }
            let classes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("storage-classes").path
            for sc in try! Daemon.loadStorageClasses(classes) { try! await plane.ensure(sc) }
            await plane.observeServedNodes(nodes)
            try! await plane.commitNow()
            ready.signal()
            await plane.runControllers()
        }
        ready.wait()
    }
}

/// Succeeds at everything and mounts nothing.
final class IdleNodeAgent: NodeAgent, Sendable {
    let nodes: Set<String>
    init(nodes: Set<String>) { self.nodes = nodes }
    func createVolumeDirectory(_ spec: VolumeDirectorySpec) throws {}
    func removeVolumeDirectory(_ spec: VolumeDirectorySpec) throws {}
    func startPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws {}
    func stopPod(namespace: String, pod: String, mounts: [PodVolumeMount]) throws -> [String: VolumeFingerprint] { [:] }
    func usage(volume: String) -> (used: Int64, capacity: Int64)? { nil }
    func fingerprint(path: String, deep: Bool) throws -> VolumeFingerprint { VolumeFingerprint(files: 0, bytes: 0, digest: "", deepDigest: "") }
    func hostPath(namespace: String, pod: String, volume: String) -> String { "/pods/\(namespace)/\(pod)/\(volume)" }
    func sweepOrphanDirectories(known: Set<String>) -> (removed: [String], kept: [String]) { ([], []) }
    func servedNodes() -> Set<String> { nodes }
    func setCapacity(volume: String, node: String, bytes: Int64) throws {}
    func adoptPod(namespace: String, pod: String, mounts: [PodVolumeMount]) -> Bool { false }
}
