import CairnCore
import CairnControl
import Foundation

/// Builders, a one-line summary per Action, and a small cluster simulator for the workload planners'
/// tables.
enum WF {
    static let ns = "default"
    static let t0 = Time(Date(timeIntervalSince1970: 1_800_000_000))
    static func at(_ seconds: Double) -> Time { Time(t0.date.addingTimeInterval(seconds)) }

    // MARK: Builders

    static func claimTemplate(_ name: String = "data", labels: [String: String]? = nil) -> PersistentVolumeClaimTemplate {
        var spec = PersistentVolumeClaimSpec()
        spec.accessModes = ["ReadWriteOnce"]
        spec.resources = ResourceRequirements(requests: ["storage": "1Gi"])
        return PersistentVolumeClaimTemplate(metadata: ObjectMeta(name: name, labels: labels), spec: spec)
    }

    static func statefulSet(_ name: String = "web", replicas: Int32? = 1, parallel: Bool = false,
                            whenScaled: String? = nil, whenDeleted: String? = nil, start: Int32? = nil,
                            templates: [PersistentVolumeClaimTemplate] = [claimTemplate()],
                            generation: Int64 = 1) -> StatefulSet {
        let labels = ["app": name]
        var podSpec = PodSpec(containers: [Container(name: "app", image: "busybox")])
        podSpec.volumes = [Volume(name: "data", persistentVolumeClaim: .init(claimName: "shadowed")),
                           Volume(name: "scratch", persistentVolumeClaim: .init(claimName: "shared"))]
        var spec = StatefulSetSpec(template: PodTemplateSpec(metadata: ObjectMeta(labels: labels,
                                                                                  annotations: ["note": "x"]),
                                                             spec: podSpec))
        spec.replicas = replicas
        spec.selector = LabelSelector(matchLabels: labels)
        spec.serviceName = name
        spec.podManagementPolicy = parallel ? "Parallel" : nil
        spec.volumeClaimTemplates = templates
        if whenScaled != nil || whenDeleted != nil {
            spec.persistentVolumeClaimRetentionPolicy = .init(whenDeleted: whenDeleted, whenScaled: whenScaled)
        }
        // StatefulSetOrdinals has no public memberwise init in CairnCore; decode it as a manifest would.
        if let start { spec.ordinals = try! JSONDecoder().decode(StatefulSetOrdinals.self, from: Data(#"{"start":\#(start)}"#.utf8)) }
        var set = StatefulSet(metadata: ObjectMeta(name: name, namespace: ns), spec: spec)
        set.metadata.uid = "uid-\(name)"
        set.metadata.generation = generation
        set.metadata.resourceVersion = "1"
        set.setTypeMeta()
        return set
    }

    static func replicaSet(_ name: String = "api", replicas: Int32 = 1, generation: Int64 = 1) -> ReplicaSet {
        var spec = ReplicaSetSpec()
        spec.replicas = replicas
        spec.selector = LabelSelector(matchLabels: ["app": name])
        var podSpec = PodSpec(containers: [Container(name: "app")])
        podSpec.volumes = [Volume(name: "shared", persistentVolumeClaim: .init(claimName: "shared"))]
        spec.template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": name, "tier": "x"]), spec: podSpec)
        var rs = ReplicaSet(metadata: ObjectMeta(name: name, namespace: ns), spec: spec)
        rs.metadata.uid = "uid-\(name)"
        rs.metadata.generation = generation
        rs.metadata.resourceVersion = "1"
        rs.setTypeMeta()
        return rs
    }

    enum State { case pending, running, ready, failed, succeeded }

    /// A pod as the store would hold it, optionally owned (as controller) by `owner`.
    static func pod(_ name: String, owner: (any KubeObject)? = nil, state: State = .ready, node: String? = "n1",
                    labels: [String: String]? = nil, created: Double = 0, readyAt: Double? = nil,
                    deleting: Bool = false, uid: String? = nil, annotations: [String: String]? = nil) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: ns, labels: labels, annotations: annotations),
                      spec: PodSpec(containers: [Container(name: "app")]))
        pod.metadata.uid = uid ?? "uid-\(name)"
        pod.metadata.resourceVersion = "1"
        pod.metadata.creationTimestamp = at(created)
        if let owner { pod.metadata.ownerReferences = [ownerRef(owner)] }
        if deleting { pod.metadata.deletionTimestamp = at(created + 1) }
        pod.spec.nodeName = node
        var status = PodStatus()
        switch state {
        case .pending: status.phase = .pending
        case .running: status.phase = .running
        case .ready:
            status.phase = .running
            status.conditions = [PodCondition(type: "Ready", status: .true, lastTransitionTime: at(readyAt ?? created))]
        case .failed: status.phase = .failed
        case .succeeded: status.phase = .succeeded
        }
        pod.status = status
        pod.setTypeMeta()
        return pod
    }

    /// A pod of a StatefulSet fixture: labels and volumes as the planner would have made them.
    static func setPod(_ set: StatefulSet, _ ordinal: Int, state: State = .ready, deleting: Bool = false,
                       uid: String? = nil) -> Pod {
        let name = "\(set.name)-\(ordinal)"
        var p = pod(name, owner: set, state: state, labels: (set.spec.template.metadata?.labels ?? [:])
                        .merging([Well.podNameLabel: name, Well.podIndexLabel: "\(ordinal)"]) { $1 },
                    deleting: deleting, uid: uid)
        p.spec.volumes = (set.spec.volumeClaimTemplates ?? []).map {
            Volume(name: $0.metadata.nameOrEmpty,
                   persistentVolumeClaim: .init(claimName: "\($0.metadata.nameOrEmpty)-\(name)"))
        }
        return p
    }

    static func claim(_ name: String, owners: [any KubeObject] = [], labels: [String: String]? = nil,
                      deleting: Bool = false, uid: String? = nil) -> PersistentVolumeClaim {
        var c = PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: ns, labels: labels),
                                      spec: claimTemplate().spec)
        c.metadata.uid = uid ?? "uid-\(name)"
        c.metadata.resourceVersion = "1"
        c.metadata.finalizers = [Well.pvcProtection]
        c.metadata.ownerReferences = owners.isEmpty ? nil : owners.map(ownerRef)
        if deleting { c.metadata.deletionTimestamp = t0 }
        var status = PersistentVolumeClaimStatus()
        status.phase = .bound
        c.status = status
        c.setTypeMeta()
        return c
    }

    static func ownerRef(_ o: any KubeObject) -> OwnerReference {
        let kind = type(of: o).kind
        return OwnerReference(apiVersion: kind.apiVersion, kind: kind.rawValue, name: o.name, uid: o.uid,
                              controller: true, blockOwnerDeletion: true)
    }

    static func snapshot(now: Time = at(1000), sets: [StatefulSet] = [], replicaSets: [ReplicaSet] = [],
                         pods: [Pod] = [], claims: [PersistentVolumeClaim] = []) -> ClusterSnapshot {
        var s = ClusterSnapshot(now: now)
        s.statefulSets = sets
        s.replicaSets = replicaSets
        s.pods = pods
        s.claims = claims
        return s
    }

    // MARK: Summaries

    static func key(_ o: any KubeObject) -> String {
        "\(type(of: o).kind.rawValue) \(o.namespace.map { "\($0)/" } ?? "")\(o.name)"
    }

    static func owners(_ o: any KubeObject) -> String {
        let refs = o.metadata.ownerReferences ?? []
        return refs.isEmpty ? "none" : refs.map { "\($0.kind)/\($0.name)" }.joined(separator: ",")
    }

    static func labels(_ l: [String: String]?) -> String {
        (l ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// One line per action. Status writes are left out unless `status` is true.
    static func summary(_ actions: [Action], status: Bool = false) -> [String] {
        actions.compactMap { a in
            switch a {
            case .create(let o):
                if let c = o as? PersistentVolumeClaim {
                    let own = c.metadata.ownerReferences == nil ? "" : " owners=\(owners(c))"
                    return "create \(key(c)) labels=\(labels(c.metadata.labels))\(own)"
                }
                return "create \(key(o))"
            case .update(let o):
                if let set = o as? StatefulSet {
                    guard status, let st = set.status else { return nil }
                    return "status \(key(set)) replicas=\(st.replicas ?? 0) ready=\(st.readyReplicas ?? 0) "
                        + "current=\(st.currentReplicas ?? 0) updated=\(st.updatedReplicas ?? 0) "
                        + "available=\(st.availableReplicas ?? 0) generation=\(st.observedGeneration ?? 0)"
                }
                if let rs = o as? ReplicaSet {
                    guard status, let st = rs.status else { return nil }
                    return "status \(key(rs)) replicas=\(st.replicas ?? 0) fullyLabeled=\(st.fullyLabeledReplicas ?? 0) "
                        + "ready=\(st.readyReplicas ?? 0) available=\(st.availableReplicas ?? 0) "
                        + "generation=\(st.observedGeneration ?? 0)"
                }
                return "update \(key(o)) owners=\(owners(o))"
            case .delete(let kind, let namespace, let name, _):
                return "delete \(kind.rawValue) \(namespace.map { "\($0)/" } ?? "")\(name)"
            case .event(let object, let type, let reason, let message, _):
                return "event \(type.rawValue) \(reason) \(object.kind ?? "") \(object.namespace ?? "")/\(object.name ?? ""): \(message)"
            default:
                return "other"
            }
        }
    }
}

/// Names from a fixed list, then "zzzz<n>" forever.
final class FakeNames: NameGenerator, @unchecked Sendable {
    private var queue: [String]
    private var n = 0
    private let lock = NSLock()
    init(_ names: [String]) { queue = names }
    func suffix() -> String {
        lock.lock(); defer { lock.unlock() }
        if !queue.isEmpty { return queue.removeFirst() }
        n += 1
        return "z\(String(format: "%04d", n))"
    }
}

/// Applies Actions the way the daemon and the API server would, so scenarios can run for several syncs:
/// creates get a fresh uid; updates carrying an old resourceVersion conflict and are dropped; deleting
/// a pod makes it terminate (gone at the next `settle()`); a claim with pvc-protection in use by a pod is
/// kept, terminating, until no pod uses it.
struct ClusterSim {
    var s: ClusterSnapshot
    var events: [String] = []
    private var nextUID = 1
    var names: any NameGenerator = FakeNames([])

    init(_ s: ClusterSnapshot) { self.s = s }

    mutating func uid() -> String {
        defer { nextUID += 1 }
        return "sim-\(nextUID)"
    }

    mutating func apply(_ actions: [Action]) {
        for a in actions {
            switch a {
            case .create(let o):
                var meta = o.metadata
                meta.uid = uid()
                meta.resourceVersion = "1"
                meta.creationTimestamp = s.now
                if var pod = o as? Pod {
                    guard !s.pods.contains(where: { $0.name == pod.name && $0.namespace == pod.namespace }) else { continue }
                    pod.metadata = meta
                    var st = PodStatus()
                    st.phase = .pending
                    pod.status = st
                    s.pods.append(pod)
                } else if var claim = o as? PersistentVolumeClaim {
                    guard !s.claims.contains(where: { $0.name == claim.name && $0.namespace == claim.namespace }) else { continue }
                    claim.metadata = meta
                    claim.metadata.addFinalizer(Well.pvcProtection)
                    var st = PersistentVolumeClaimStatus()
                    st.phase = .bound
                    claim.status = st
                    s.claims.append(claim)
                }
            case .update(let o):
                if let pod = o as? Pod { replace(&s.pods, pod) }
                if let claim = o as? PersistentVolumeClaim { replace(&s.claims, claim) }
                if let set = o as? StatefulSet { replace(&s.statefulSets, set) }
                if let rs = o as? ReplicaSet { replace(&s.replicaSets, rs) }
            case .delete(let kind, _, let name, let uid):
                switch kind {
                case .pod:
                    if let i = s.pods.firstIndex(where: { $0.name == name && $0.uid == uid }) {
                        s.pods[i].metadata.deletionTimestamp = s.pods[i].metadata.deletionTimestamp ?? s.now
                    }
                case .persistentVolumeClaim:
                    if let i = s.claims.firstIndex(where: { $0.name == name && $0.uid == uid }) {
                        s.claims[i].metadata.deletionTimestamp = s.claims[i].metadata.deletionTimestamp ?? s.now
                    }
                default: break
                }
            case .event:
                events += WF.summary([a])
            default: break
            }
        }
    }

    private func replace<T: KubeObject>(_ list: inout [T], _ object: T) {
        guard let i = list.firstIndex(where: { $0.name == object.name && $0.namespace == object.namespace }),
              list[i].uid == object.uid, list[i].metadata.resourceVersion == object.metadata.resourceVersion
        else { return }
        var o = object
        o.metadata.resourceVersion = String((Int(object.metadata.resourceVersion ?? "0") ?? 0) + 1)
        list[i] = o
    }

    /// Terminating pods finish; claims no pod uses lose pvc-protection and go.
    mutating func settle() {
        s.pods.removeAll { $0.metadata.isDeleting }
        let used = Set(s.pods.flatMap { p in p.spec.claimVolumes.map { "\(p.namespace ?? "")/\($0.claim)" } })
        s.claims.removeAll { $0.metadata.isDeleting && !used.contains("\($0.namespace ?? "")/\($0.name)") }
        s.statefulSets.removeAll { $0.metadata.isDeleting }
        s.replicaSets.removeAll { $0.metadata.isDeleting }
    }

    /// Pods become Running and Ready.
    mutating func makeReady(_ filter: (Pod) -> Bool = { _ in true }) {
        for i in s.pods.indices where filter(s.pods[i]) && !s.pods[i].isReady {
            s.pods[i].status?.phase = .running
            s.pods[i].status?.conditions = [PodCondition(type: "Ready", status: .true, lastTransitionTime: s.now)]
        }
    }

    mutating func plan() -> [Action] {
        StatefulSetPlanner.plan(s) + ReplicaSetPlanner.plan(s, names: names) + GarbageCollector.plan(s)
    }

    /// Syncs until nothing is planned, making pods ready after each sync when `ready` is true. Returns
    /// every action's summary, sync by sync.
    @discardableResult
    mutating func converge(ready: Bool = true, maxSyncs: Int = 50) -> [[String]] {
        var log: [[String]] = []
        for _ in 0..<maxSyncs {
            let actions = plan()
            if actions.isEmpty { return log }
            log.append(WF.summary(actions, status: true))
            apply(actions)
            settle()
            if ready { makeReady() }
            s.now = Time(s.now.date.addingTimeInterval(1))
        }
        log.append(["did not converge"])
        return log
    }

    mutating func scale(_ set: String, _ replicas: Int32) {
        guard let i = s.statefulSets.firstIndex(where: { $0.name == set }) else { return }
        s.statefulSets[i].spec.replicas = replicas
        s.statefulSets[i].metadata.generation = (s.statefulSets[i].metadata.generation ?? 0) + 1
    }

    func podNames() -> [String] { s.pods.map(\.name).sorted() }
    func claimNames() -> [String] { s.claims.map(\.name).sorted() }
    func claim(_ name: String) -> PersistentVolumeClaim? { s.claims.first { $0.name == name } }
}
