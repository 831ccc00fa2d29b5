import CairnControl
import CairnCore
import Foundation
import Testing

/// Builders for the objects controller tables are made of, a readable one-line summary of each Action,
/// and `apply`, which performs actions on a snapshot the way the daemon would (enough for idempotency
/// checks). Everything is namespaced under `Fx` so other fixture files can define their own helpers.
///
/// Defaults: namespace "default", class "fast", nodes with 10Gi of storage and a data root
/// "/data/<node>", claim uid "uid-<name>", creation times in seconds after `Fx.epoch`.
enum Fx {
    /// One row of every planner table: a numbered case, the state before, the names a name generator
    /// hands out (ReplicaSet pods), and the actions expected, summarized.
    struct Case: CustomTestStringConvertible, Sendable {
        var number: Int
        var name: String
        var snapshot: ClusterSnapshot
        var names: [String] = []
        var expected: [String]
        /// False when the next sync legitimately acts on what this one changed (e.g. a claim removed by
        /// its last finalizer releases its volume); the table then only checks that planning converges.
        var settles = true
        var testDescription: String { "\(number). \(name)" }
    }

    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)
    static let now = time(3600)
    static func time(_ seconds: Int) -> Time { Time(epoch.addingTimeInterval(TimeInterval(seconds))) }

    static func q(_ s: String) -> Quantity {
        do { return try Quantity(parsing: s) } catch { fatalError("bad quantity \(s) in a fixture") }
    }

    // MARK: builders

    static func node(_ name: String, storage: String = "10Gi", dataRoot: String? = "", labels: [String: String] = [:],
                     unschedulable: Bool = false) -> Node {
        var meta = ObjectMeta(name: name, labels: [Well.hostnameLabel: name].merging(labels) { $1 })
        meta.uid = "uid-node-\(name)"
        if let dataRoot { meta.setAnnotation(Node.dataRootAnnotation, dataRoot.isEmpty ? "/data/\(name)" : dataRoot) }
        var node = Node(metadata: meta)
        node.setTypeMeta()
        var status = NodeStatus()
        status.allocatable = [Node.storageResource: q(storage)]
        status.capacity = status.allocatable
        status.conditions = [NodeCondition(type: "Ready", status: .true, reason: NodeLifecyclePlanner.readyReason,
                                           message: NodeLifecyclePlanner.readyMessage, lastHeartbeatTime: time(0),
                                           lastTransitionTime: time(0))]
        node.status = status
        if unschedulable {
            var spec = NodeSpec()
            spec.unschedulable = true
            node.spec = spec
        }
        return node
    }

    static func storageClass(_ name: String = "fast", provisioner: String = Well.provisioner, waitForConsumer: Bool = false,
                             reclaim: String? = nil, placement: String? = nil, dirMode: String? = nil,
                             isDefault: Bool = false) -> StorageClass {
        var meta = ObjectMeta(name: name)
        meta.uid = "uid-sc-\(name)"
        if isDefault { meta.setAnnotation(StorageClass.defaultClassAnnotation, "true") }
        var sc = StorageClass(metadata: meta, provisioner: provisioner)
        sc.setTypeMeta()
        sc.volumeBindingMode = waitForConsumer ? "WaitForFirstConsumer" : "Immediate"
        sc.reclaimPolicy = reclaim ?? "Delete"
        var params: [String: String] = [:]
        params["placement"] = placement
        params["dirMode"] = dirMode
        sc.parameters = params.isEmpty ? nil : params
        return sc
    }

    /// A Pending claim as the API server stores it: class filled in, pvc-protection finalizer.
    static func claim(_ name: String, namespace: String = "default", storage: String = "1Gi", storageClass: String? = "fast",
                      modes: [String] = ["ReadWriteOnce"], uid: String? = nil, created: Int = 0,
                      selectedNode: String? = nil, volumeName: String? = nil, selector: LabelSelector? = nil,
                      deleting: Bool = false) -> PersistentVolumeClaim {
        var meta = ObjectMeta(name: name, namespace: namespace)
        meta.uid = uid ?? "uid-\(name)"
        meta.resourceVersion = "1"
        meta.creationTimestamp = time(created)
        meta.finalizers = [Well.pvcProtection]
        if let selectedNode { meta.setAnnotation(Well.selectedNode, selectedNode) }
        if deleting { meta.deletionTimestamp = time(created + 1) }
        var spec = PersistentVolumeClaimSpec()
        spec.accessModes = modes
        spec.resources = ResourceRequirements(requests: ["storage": q(storage)])
        spec.storageClassName = storageClass
        spec.volumeName = volumeName
        spec.selector = selector
        var claim = PersistentVolumeClaim(metadata: meta, spec: spec)
        claim.setTypeMeta()
        var status = PersistentVolumeClaimStatus()
        status.phase = .pending
        claim.status = status
        return claim
    }

    /// A local PV on `node` (hostname affinity), Available unless `claim` is given (then Bound to it).
    static func volume(_ name: String, node: String, storage: String = "1Gi", storageClass: String = "fast",
                       modes: [String] = ["ReadWriteOnce"], claim: PersistentVolumeClaim? = nil, phase: VolumePhase? = nil,
                       reclaim: String = "Delete", provisioned: Bool = false, labels: [String: String]? = nil,
                       deleting: Bool = false) -> PersistentVolume {
        var meta = ObjectMeta(name: name, labels: labels)
        meta.uid = "uid-pv-\(name)"
        meta.resourceVersion = "1"
        meta.finalizers = [Well.pvProtection]
        if provisioned { meta.setAnnotation(Well.provisionedBy, Well.provisioner) }
        if deleting { meta.deletionTimestamp = time(10) }
        var spec = PersistentVolumeSpec()
        spec.capacity = ["storage": q(storage)]
        spec.accessModes = modes
        spec.persistentVolumeReclaimPolicy = reclaim
        spec.storageClassName = storageClass
        spec.claimRef = claim?.reference()
        spec.local = LocalVolumeSource(path: "/data/\(node)/\(name)")
        spec.nodeAffinity = VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: Well.hostnameLabel, operator: "In", values: [node])]),
        ]))
        spec.volumeMode = "Filesystem"
        var pv = PersistentVolume(metadata: meta, spec: spec)
        pv.setTypeMeta()
        var status = PersistentVolumeStatus()
        status.phase = phase ?? (claim == nil ? .available : .bound)
        pv.status = status
        return pv
    }

    /// A claim and a provisioned volume on `node`, bound to each other as the controller leaves them.
    static func boundPair(_ name: String, node: String, namespace: String = "default", storage: String = "1Gi",
                          storageClass: String = "fast", modes: [String] = ["ReadWriteOnce"], reclaim: String = "Delete",
                          created: Int = 0) -> (claim: PersistentVolumeClaim, volume: PersistentVolume) {
        var c = claim(name, namespace: namespace, storage: storage, storageClass: storageClass, modes: modes, created: created)
        let pvName = "pvc-\(c.uid)"
        c.spec.volumeName = pvName
        c.metadata.setAnnotation(Well.bindCompleted, "yes")
        c.metadata.setAnnotation(Well.boundByController, "yes")
        c.status?.phase = .bound
        c.status?.accessModes = modes
        c.status?.capacity = ["storage": q(storage)]
        let pv = volume(pvName, node: node, storage: storage, storageClass: storageClass, modes: modes, claim: c,
                        reclaim: reclaim, provisioned: true)
        return (c, pv)
    }

    static func pod(_ name: String, namespace: String = "default", claims: [String] = [], node: String? = nil,
                    created: Int = 0, nodeSelector: [String: String]? = nil, phase: PodPhase? = nil,
                    readOnlyClaims: Set<String> = [], deleting: Bool = false) -> Pod {
        var meta = ObjectMeta(name: name, namespace: namespace)
        meta.uid = "uid-pod-\(name)"
        meta.resourceVersion = "1"
        meta.creationTimestamp = time(created)
        if deleting { meta.deletionTimestamp = time(created + 1) }
        var container = Container(name: "app", image: "busybox")
        container.volumeMounts = claims.map { VolumeMount(name: $0, mountPath: "/mnt/\($0)") }
        var spec = PodSpec(containers: [container])
        spec.volumes = claims.map { Volume(name: $0, persistentVolumeClaim: PersistentVolumeClaimVolumeSource(
            claimName: $0, readOnly: readOnlyClaims.contains($0) ? true : nil)) }
        if spec.volumes?.isEmpty == true { spec.volumes = nil }
        spec.nodeName = node
        spec.nodeSelector = nodeSelector
        var pod = Pod(metadata: meta, spec: spec)
        pod.setTypeMeta()
        var status = PodStatus()
        status.phase = phase ?? .pending
        pod.status = status
        return pod
    }

    /// Required node affinity for a pod. (CairnCore's Affinity and NodeAffinity have no public
    /// initializers, so the value is decoded as a manifest would be.)
    static func requiredAffinity(_ terms: [NodeSelectorTerm]) -> Affinity {
        do {
            let selector = try JSONValue(encoding: NodeSelector(nodeSelectorTerms: terms))
            let json = JSONValue.object(["nodeAffinity": .object(["requiredDuringSchedulingIgnoredDuringExecution": selector])])
            return try json.decode(Affinity.self)
        } catch {
            fatalError("affinity fixture: \(error)")
        }
    }

    static func snapshot(nodes: [Node] = [], classes: [StorageClass] = [], volumes: [PersistentVolume] = [],
                         claims: [PersistentVolumeClaim] = [], pods: [Pod] = [], localNodes: Set<String>? = nil) -> ClusterSnapshot {
        var s = ClusterSnapshot(now: now)
        s.nodes = nodes
        s.storageClasses = classes
        s.persistentVolumes = volumes
        s.claims = claims
        s.pods = pods
        s.localNodes = localNodes ?? Set(nodes.map(\.name))
        // Every local node is served, since time 0.
        for n in s.localNodes { s.observed.servedNodes[n] = time(0) }
        return s
    }

    // MARK: summaries

    static func summary(_ action: Action) -> String {
        switch action {
        case .create(let o):
            return "create \(type(of: o).kind.rawValue) \(key(o))"
        case .update(let o):
            return "update \(type(of: o).kind.rawValue) \(key(o)) \(detail(o))"
        case .delete(let kind, let ns, let name, _):
            return "delete \(kind.rawValue) \(ns.map { "\($0)/" } ?? "")\(name)"
        case .event(let object, let type, let reason, let message, let source):
            let kind = (object.kind ?? "").lowercased()
            let from = source.map { " (from \($0))" } ?? ""
            return "event \(type.rawValue) \(reason) \(kind) \(object.namespace.map { "\($0)/" } ?? "")\(object.name ?? "")\(from): \(message)"
        case .provision(let pv, let dir, let succeeded):
            let then = succeeded.isEmpty ? "" : " then [\(succeeded.map(summary).joined(separator: "; "))]"
            return "provision \(pv.name) on \(dir.node) at \(dir.path) mode=\(String(dir.mode, radix: 8)) \(detail(pv))\(then)"
        case .reclaimDelete(let pv, let dir):
            return "reclaimDelete \(pv.name) on \(dir.node) at \(dir.path)"
        case .mountPod(let pod, let mounts, let arrival):
            return "mountPod \(key(pod))\(arrival ? " arrival" : "") \(mounts.map(mount).joined(separator: " "))".trimmingCharacters(in: .whitespaces)
        case .unmountPod(let pod, let mounts):
            return "unmountPod \(key(pod)) \(mounts.map(mount).joined(separator: " "))".trimmingCharacters(in: .whitespaces)
        case .recheck(let ref, let after):
            return "recheck \(ref) after \(after)s"
        case .resizeVolume(let v, let node, let bytes):
            return "resizeVolume \(v) on \(node) to \(bytes)"
        case .history(let what, let claim, let volume, let node, let pod, _):
            var s = "history \(what.rawValue) \(claim.namespace ?? "")/\(claim.name ?? "")"
            if let volume { s += " volume=\(volume)" }
            if let node { s += " node=\(node)" }
            if let pod { s += " pod=\(pod)" }
            return s
        }
    }

    static func summaries(_ actions: [Action]) -> [String] { actions.map(summary) }

    static func key(_ o: any KubeObject) -> String {
        o.metadata.namespace.map { "\($0)/\(o.name)" } ?? o.name
    }

    static func mount(_ m: PodVolumeMount) -> String {
        "\(m.volumeName)=\(m.persistentVolume)@\(m.node):\(m.backingPath):\(m.capacityBytes)\(m.readOnly ? ":ro" : "")"
    }

    /// The fields a storage or scheduling decision changes, per kind.
    static func detail(_ o: any KubeObject) -> String {
        switch o {
        case let c as PersistentVolumeClaim:
            var parts = ["phase=\(c.phase)", "volume=\(c.spec.volumeName ?? "-")"]
            if let n = c.metadata.annotation(Well.selectedNode) { parts.append("selected-node=\(n)") }
            if c.metadata.isDeleting { parts.append("finalizers=\((c.metadata.finalizers ?? []).joined(separator: ","))") }
            return parts.joined(separator: " ")
        case let pv as PersistentVolume:
            var parts = ["phase=\(pv.phase)", "claim=\(pv.spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? "-")"]
            if pv.metadata.isDeleting { parts.append("finalizers=\((pv.metadata.finalizers ?? []).joined(separator: ","))") }
            return parts.joined(separator: " ")
        case let p as Pod:
            let c = p.condition("PodScheduled")
            var parts = ["node=\(p.spec.nodeName ?? "-")", "PodScheduled=\(c?.status.rawValue ?? "-")\(c?.reason.map { "/\($0)" } ?? "")"]
            if p.phase != .pending || p.isReady { parts.append("phase=\(p.phase) Ready=\(p.condition("Ready")?.status.rawValue ?? "-")") }
            return parts.joined(separator: " ")
        default:
            return ""
        }
    }

    // MARK: apply

    /// Performs `actions` on `s` as the daemon would, minus the filesystem: updates replace objects (a
    /// deleting object whose last finalizer goes is removed), provision creates the PV (and performs
    /// what follows it), reclaimDelete removes it, mountPod and unmountPod are observed as done, delete
    /// removes the object.
    static func apply(_ actions: [Action], to snapshot: ClusterSnapshot) -> ClusterSnapshot {
        var s = snapshot
        for action in actions {
            switch action {
            case .create(let o): insert(o, into: &s)
            case .update(let o): replace(o, in: &s)
            case .delete(let kind, let ns, let name, let uid): remove(kind, ns, name, uid: uid, from: &s)
            case .provision(let pv, _, let succeeded):
                insert(pv, into: &s)
                s = apply(succeeded, to: s)
            case .reclaimDelete(let pv, _): remove(.persistentVolume, nil, pv.name, uid: pv.uid, from: &s)
            case .mountPod(let pod, let mounts, _):
                s.observed.mounted[NamespacedName(pod)] = NodeObservations.MountedPod(uid: pod.uid, mounts: mounts)
            case .unmountPod(let pod, _): s.observed.mounted[NamespacedName(pod)] = nil
            case .resizeVolume(let v, _, let bytes): s.observed.resized[v] = bytes
            case .event, .history, .recheck: break
            }
        }
        return s
    }

    static func insert(_ o: any KubeObject, into s: inout ClusterSnapshot) {
        switch o {
        case let x as PersistentVolume: if !s.persistentVolumes.contains(where: { $0.name == x.name }) { s.persistentVolumes.append(x) }
        case let x as PersistentVolumeClaim: s.claims.append(x)
        case let x as Pod: s.pods.append(x)
        default: break
        }
    }

    static func replace(_ o: any KubeObject, in s: inout ClusterSnapshot) {
        let gone = o.metadata.isDeleting && (o.metadata.finalizers ?? []).isEmpty
        func swap<T: KubeObject>(_ list: inout [T], _ x: T) {
            guard let i = list.firstIndex(where: { $0.name == x.name && $0.namespace == x.namespace }) else { return }
            if gone { list.remove(at: i) } else { list[i] = x }
        }
        switch o {
        case let x as PersistentVolume: swap(&s.persistentVolumes, x)
        case let x as PersistentVolumeClaim: swap(&s.claims, x)
        case let x as Pod: swap(&s.pods, x)
        case let x as Node: swap(&s.nodes, x)
        default: break
        }
    }

    static func remove(_ kind: Kind, _ ns: String?, _ name: String, uid: String, from s: inout ClusterSnapshot) {
        switch kind {
        case .persistentVolume: s.persistentVolumes.removeAll { $0.name == name && $0.uid == uid }
        case .persistentVolumeClaim: s.claims.removeAll { $0.name == name && $0.namespace == ns && $0.uid == uid }
        case .pod:
            s.pods.removeAll { $0.name == name && $0.namespace == ns && $0.uid == uid }
            s.observed.mounted[NamespacedName(ns, name)] = nil
        default: break
        }
    }

    /// Runs `plan` and applies its actions until it plans nothing; returns every round's summaries.
    static func converge(_ s: ClusterSnapshot, rounds: Int = 6, _ plan: (ClusterSnapshot) -> [Action]) -> (ClusterSnapshot, [[String]]) {
        var s = s, log: [[String]] = []
        for _ in 0..<rounds {
            let actions = plan(s)
            if actions.isEmpty { break }
            log.append(summaries(actions))
            s = apply(actions, to: s)
        }
        return (s, log)
    }
}
