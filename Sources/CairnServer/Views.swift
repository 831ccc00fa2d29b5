import CairnAPI
import CairnControl
import CairnCore
import CairnStore
import Foundation

/// Cairn's own read-only views under /cairn/v1/ (paths in CairnAPI.CairnPath).
public struct Views: Sendable {
    let plane: ControlPlane
    let agent: any NodeAgent

    public init(plane: ControlPlane, agent: any NodeAgent) {
        self.plane = plane
        self.agent = agent
    }

    func handle(_ request: APIRequest) async throws -> APIResponse {
        guard request.method == "GET" else { throw Status.methodNotAllowed("Cairn's views are read-only") }
        switch CairnPath.parse(request.path) {
        case .bindings?:
            return .json(BindingList(items: try await bindings(namespace: request.query["namespace"])))
        case .claimHistory(let ns, let claim)?:
            return .json(try await history(namespace: ns, claim: claim))
        case .retention(let ns, let set)?:
            return .json(try await RetentionCheck(plane: plane, agent: agent).report(namespace: ns, name: set, deep: request.query["deep"] == "true"))
        case .execPlan(let ns, let pod)?:
            return .json(try await execPlan(namespace: ns, pod: pod, container: request.query["container"]))
        case nil:
            throw Status(code: 404, reason: .notFound, message: "the server could not find the requested resource")
        }
    }

    func bindings(namespace: String?) async throws -> [BindingRow] {
        let (claims, volumes, pods) = await plane.read { index in
            (Array(index.claims.values).filter { namespace == nil || $0.metadata.namespace == namespace },
             Array(index.volumes.values), Array(index.pods.values))
        }
        let recorded = try await plane.recordedUsage()
        var live: [String: Int64] = [:]
        for pv in volumes { if let u = agent.usage(volume: pv.name) { live[pv.name] = u.used } }
        var bound: [String: Time] = [:]
        for c in claims {
            let h = try await plane.history(namespace: c.metadata.namespace ?? "default", claim: c.name)
            bound[c.uid] = h.last { $0.action == .bound && $0.claimUID == c.uid }?.at
        }
        let agent = self.agent
        return bindingRows(claims: claims, volumes: volumes, pods: pods,
                           usage: { live[$0] ?? recorded[$0]?.usedBytes }, boundAt: { bound[$0] },
                           hostPath: { agent.hostPath(namespace: $0, pod: $1, volume: $2) })
    }

    func history(namespace: String, claim: String) async throws -> [HistoryRow] {
        try await plane.history(namespace: namespace, claim: claim).map {
            HistoryRow(at: $0.at, action: $0.action, volume: $0.volume, node: $0.node, pod: $0.pod, detail: $0.detail)
        }
    }

    func execPlan(namespace: String, pod name: String, container: String?) async throws -> ExecPlan {
        guard let pod = await plane.get(Pod.self, namespace: namespace, name: name) else { throw Status.notFound(.pod, name) }
        guard pod.isRunningAndReady else {
            throw Status.badRequest("pod \(name) is not running (phase \(pod.phase)); its volumes are not mounted yet")
        }
        let c: Container
        if let container {
            guard let found = pod.spec.containers.first(where: { $0.name == container }) else {
                throw Status.badRequest("container \(container) is not valid for pod \(name)")
            }
            c = found
        } else {
            c = pod.spec.containers[0]
        }
        let claimVolumes = Dictionary(pod.spec.claimVolumes.map { ($0.volume, $0.readOnly) }, uniquingKeysWith: { a, _ in a })
        let mounts: [ExecPlan.Mount] = (c.volumeMounts ?? []).compactMap { m in
            guard let sourceReadOnly = claimVolumes[m.name] else { return nil }
            return ExecPlan.Mount(hostPath: agent.hostPath(namespace: namespace, pod: name, volume: m.name),
                                  mountPath: m.mountPath, readOnly: (m.readOnly ?? false) || sourceReadOnly, subPath: m.subPath)
        }
        return ExecPlan(pod: name, namespace: namespace, container: c.name, workingDir: c.workingDir, mounts: mounts)
    }
}

/// Pure: the bindings view from the objects, usage figures and bind times.
public func bindingRows(claims: [PersistentVolumeClaim], volumes: [PersistentVolume], pods: [Pod],
                        usage: (String) -> Int64?, boundAt: (String) -> Time?,
                        hostPath: (String, String, String) -> String) -> [BindingRow] {
    let pvByName = Dictionary(volumes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var podsByClaim: [NamespacedName: [(Pod, String)]] = [:]
    for pod in pods.sorted(by: { $0.name < $1.name }) {
        for v in pod.spec.claimVolumes { podsByClaim[NamespacedName(pod.namespace, v.claim), default: []].append((pod, v.volume)) }
    }
    return claims.sorted { NamespacedName($0) < NamespacedName($1) }.map { c in
        let ns = c.metadata.namespace ?? "default"
        let pv = c.spec.volumeName.flatMap { pvByName[$0] }
        let node = pv?.spec.nodeAffinity?.required?.nodeSelectorTerms.first?.matchExpressions?
            .first { $0.key == Node.hostnameLabel }?.values?.first
        let cap = pv?.spec.capacity?["storage"] ?? c.status?.capacity?["storage"]
        let users = (podsByClaim[NamespacedName(c)] ?? []).map { pod, volume in
            BindingRow.PodUse(name: pod.name, phase: pod.metadata.isDeleting ? "Terminating" : pod.phase.rawValue,
                              hostPath: pod.spec.nodeName == nil ? "" : hostPath(ns, pod.name, volume))
        }
        return BindingRow(namespace: ns, claim: c.name, phase: c.phase, volume: c.spec.volumeName, node: node,
                          capacityBytes: cap?.bytes, capacity: cap?.description,
                          usedBytes: pv.flatMap { usage($0.name) },
                          accessModes: c.spec.accessModes ?? [], storageClass: c.spec.storageClassName,
                          reclaimPolicy: pv?.spec.persistentVolumeReclaimPolicy, path: pv?.spec.local?.path,
                          pods: users, boundAt: boundAt(c.uid))
    }
}
