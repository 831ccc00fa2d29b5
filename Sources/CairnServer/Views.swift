import CairnControl
import CairnCore
import CairnStore
import Foundation

/// One row of `cairn bindings`: a claim, the volume it is bound to, where it lives and who uses it.
/// The JSON shape (`cairn bindings -o json`) is documented in the README and kept stable.
public struct BindingRow: Codable, Sendable, Hashable {
    public struct PodUse: Codable, Sendable, Hashable {
        public var name: String
        public var phase: String
        /// Where the pod's volume is mounted on the host (kubelet's layout under the state dir).
        public var hostPath: String
    }
    public var namespace: String
    public var claim: String
    public var phase: String
    public var volume: String?
    public var node: String?
    public var capacityBytes: Int64?
    public var capacity: String?
    public var usedBytes: Int64?
    public var accessModes: [String]
    public var storageClass: String?
    public var reclaimPolicy: String?
    public var path: String?
    public var pods: [PodUse]
    public var boundAt: Time?
}

public struct BindingList: Codable, Sendable {
    public var apiVersion = "cairn.io/v1"
    public var kind = "BindingList"
    public var items: [BindingRow]
}

/// Pure: the bindings view from the objects, usage figures and bind times.
public func bindingRows(claims: [PersistentVolumeClaim], volumes: [PersistentVolume], pods: [Pod],
                        usage: (String) -> Int64?, boundAt: (String) -> Time?,
                        hostPath: (String, String, String) -> String) -> [BindingRow] {
    let pvByName = Dictionary(volumes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var podsByClaim: [String: [(Pod, String)]] = [:]
    for pod in pods {
        for v in pod.spec.claimVolumes {
            podsByClaim["\(pod.metadata.namespace ?? "")/\(v.claim)", default: []].append((pod, v.volume))
        }
    }
    return claims.sorted { ($0.metadata.namespace ?? "", $0.name) < ($1.metadata.namespace ?? "", $1.name) }.map { c in
        let ns = c.metadata.namespace ?? "default"
        let pv = c.spec.volumeName.flatMap { pvByName[$0] }
        let node = pv?.spec.nodeAffinity?.required?.nodeSelectorTerms.first?.matchExpressions?
            .first { $0.key == Node.hostnameLabel }?.values?.first
        let cap = pv?.spec.capacity?["storage"] ?? c.status?.capacity?["storage"]
        let users = (podsByClaim["\(ns)/\(c.name)"] ?? []).map { pod, volume in
            BindingRow.PodUse(name: pod.name, phase: pod.metadata.isDeleting ? "Terminating" : pod.phase,
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

/// A claim's binding history as `cairn describe` shows it.
public struct HistoryRow: Codable, Sendable, Hashable {
    public var at: Time
    public var action: String
    public var volume: String?
    public var node: String?
    public var pod: String?
    public var detail: String?
}

/// `cairn verify retention statefulset`: one row per claim the set has ever stamped out.
public struct RetentionRow: Codable, Sendable, Hashable {
    public var claim: String
    public var ordinal: Int?
    /// "ok" or what is wrong: "missing", "rebound", "directory-missing", "changed", "unbound".
    public var verdict: String
    public var phase: String?
    public var volume: String?
    public var firstVolume: String?
    public var directoryPresent: Bool
    public var usedBytes: Int64?
    public var pod: String?
    /// "unchanged", "changed", "in-use" (a pod is using it and it was unchanged when that pod arrived),
    /// "never-left" (no pod has left it yet), "unknown".
    public var contents: String
    public var detail: String?
}

public struct RetentionReport: Codable, Sendable {
    public var apiVersion = "cairn.io/v1"
    public var kind = "RetentionReport"
    public var namespace: String
    public var statefulSet: String
    public var deep: Bool
    public var ok: Bool
    public var items: [RetentionRow]
}

/// Mounts `cairn exec` needs for one container of a pod.
public struct ExecPlan: Codable, Sendable {
    public struct Mount: Codable, Sendable {
        public var hostPath: String
        public var mountPath: String
        public var readOnly: Bool
        public var subPath: String?
    }
    public var pod: String
    public var namespace: String
    public var container: String
    public var workingDir: String?
    public var mounts: [Mount]
}

/// Cairn's own read-only views under /cairn/v1/.
public struct Views: Sendable {
    let plane: ControlPlane
    let agent: any NodeAgent

    public init(plane: ControlPlane, agent: any NodeAgent) {
        self.plane = plane
        self.agent = agent
    }

    func handle(_ request: APIRequest) async throws -> APIResponse {
        guard request.method == "GET" else { throw Status.methodNotAllowed("Cairn's views are read-only") }
        let parts = request.path.split(separator: "/").map(String.init)  // cairn v1 ...
        switch Array(parts.dropFirst(2)) {
        case ["bindings"]:
            return .json(BindingList(items: try await bindings(namespace: request.query["namespace"])))
        case let p where p.count == 5 && p[0] == "namespaces" && p[2] == "claims" && p[4] == "history":
            return .json(try await history(namespace: p[1], claim: p[3]))
        case let p where p.count == 4 && p[0] == "namespaces" && p[2] == "statefulsets":
            return .json(try await verify(namespace: p[1], name: p[3], deep: request.query["deep"] == "true"))
        case let p where p.count == 5 && p[0] == "namespaces" && p[2] == "pods" && p[4] == "exec":
            return .json(try await execPlan(namespace: p[1], pod: p[3], container: request.query["container"]))
        default:
            throw Status(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
    }

    func bindings(namespace: String?) async throws -> [BindingRow] {
        let claims = await plane.all(PersistentVolumeClaim.self).filter { namespace == nil || $0.metadata.namespace == namespace }
        let volumes = await plane.all(PersistentVolume.self)
        let pods = await plane.all(Pod.self)
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
            HistoryRow(at: $0.at, action: $0.action.rawValue, volume: $0.volume, node: $0.node, pod: $0.pod, detail: $0.detail)
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

    func verify(namespace: String, name: String, deep: Bool) async throws -> RetentionReport {
        guard let sts = await plane.get(StatefulSet.self, namespace: namespace, name: name) else {
            throw Status.notFound(.statefulSet, name)
        }
        let templates = (sts.spec.volumeClaimTemplates ?? []).compactMap(\.metadata.name)
        // Every claim the set has ever stamped out: current ones plus any the history remembers.
        var claimNames = Set(await plane.all(PersistentVolumeClaim.self).filter { $0.metadata.namespace == namespace }
            .map(\.name).filter { n in templates.contains { ordinal(of: n, template: $0, set: name) != nil } })
        for n in try await plane.historyClaims(namespace: namespace) where templates.contains(where: { ordinal(of: n, template: $0, set: name) != nil }) {
            claimNames.insert(n)
        }
        var rows: [RetentionRow] = []
        for claimName in claimNames.sorted(by: { sortKey($0, templates, name) < sortKey($1, templates, name) }) {
            rows.append(try await verifyClaim(namespace: namespace, claimName: claimName, deep: deep,
                                              ordinal: templates.lazy.compactMap { ordinal(of: claimName, template: $0, set: name) }.first))
        }
        return RetentionReport(namespace: namespace, statefulSet: name, deep: deep, ok: rows.allSatisfy { $0.verdict == "ok" }, items: rows)
    }

    func sortKey(_ claim: String, _ templates: [String], _ set: String) -> (String, Int) {
        for t in templates { if let o = ordinal(of: claim, template: t, set: set) { return (t, o) } }
        return (claim, 0)
    }

    func ordinal(of claim: String, template: String, set: String) -> Int? {
        let prefix = "\(template)-\(set)-"
        guard claim.hasPrefix(prefix) else { return nil }
        return Int(claim.dropFirst(prefix.count))
    }

    func verifyClaim(namespace: String, claimName: String, deep: Bool, ordinal: Int?) async throws -> RetentionRow {
        let history = try await plane.history(namespace: namespace, claim: claimName)
        let firstVolume = history.first { $0.action == .bound || $0.action == .provisioned }?.volume
        var row = RetentionRow(claim: claimName, ordinal: ordinal, verdict: "ok", phase: nil, volume: nil, firstVolume: firstVolume,
                               directoryPresent: false, usedBytes: nil, pod: nil, contents: "unknown", detail: nil)
        guard let claim = await plane.get(PersistentVolumeClaim.self, namespace: namespace, name: claimName) else {
            row.verdict = "missing"
            row.detail = "the claim no longer exists"
            return row
        }
        row.phase = claim.phase
        row.volume = claim.spec.volumeName
        guard let volumeName = claim.spec.volumeName, claim.phase == "Bound" else {
            row.verdict = "unbound"
            row.detail = "the claim is \(claim.phase), not Bound"
            return row
        }
        if let firstVolume, firstVolume != volumeName {
            row.verdict = "rebound"
            row.detail = "first bound to \(firstVolume), now to \(volumeName)"
        }
        let pv = await plane.get(PersistentVolume.self, namespace: nil, name: volumeName)
        let path = pv?.spec.local?.path
        var isDir: ObjCBool = false
        row.directoryPresent = path.map { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue } ?? false
        if !row.directoryPresent {
            row.verdict = "directory-missing"
            row.detail = "volume directory \(path ?? "(no path)") is gone"
            return row
        }
        row.usedBytes = await plane.usage(volume: volumeName)?.used
        let users = await plane.all(Pod.self).filter { p in
            p.metadata.namespace == namespace && p.spec.claimVolumes.contains { $0.claim == claimName }
        }
        row.pod = users.first?.name
        let left = try await plane.fingerprint(claimUID: claim.uid)
        guard let left else {
            row.contents = "never-left"
            return row
        }
        let parts = left.digest.split(separator: "/").map(String.init)
        let leftShallow = parts.first ?? "", leftDeep = parts.count > 1 ? parts[1] : ""
        if !users.isEmpty {
            // The pod is back: compare what it found on arrival with what the last pod left.
            if let arrival = try await plane.fingerprint(claimUID: "arrival:" + claim.uid), arrival.recordedAt >= left.recordedAt {
                let arrivedShallow = arrival.digest.split(separator: "/").first.map(String.init) ?? ""
                if arrivedShallow == leftShallow && arrival.files == left.files {
                    row.contents = "in-use"
                    row.detail = "unchanged between \(left.pod ?? "the last pod") leaving at \(left.recordedAt) and \(arrival.pod ?? "a pod") arriving at \(arrival.recordedAt)"
                } else {
                    row.contents = "changed"
                    row.verdict = row.verdict == "ok" ? "changed" : row.verdict
                    row.detail = "changed between \(left.pod ?? "the last pod") leaving (\(left.files) files, \(left.bytes) bytes) and \(arrival.pod ?? "a pod") arriving (\(arrival.files) files, \(arrival.bytes) bytes)"
                }
            } else {
                row.contents = "in-use"
            }
            return row
        }
        guard let path else { return row }
        let now = try agent.fingerprint(path: path, deep: deep)
        let same = now.files == left.files && now.bytes == left.bytes && now.digest == leftShallow && (!deep || now.deepDigest == leftDeep)
        if same {
            row.contents = "unchanged"
        } else {
            row.contents = "changed"
            if row.verdict == "ok" { row.verdict = "changed" }
            row.detail = "left by \(left.pod ?? "its pod") at \(left.recordedAt) with \(left.files) files, \(left.bytes) bytes; now \(now.files) files, \(now.bytes) bytes"
        }
        return row
    }
}
