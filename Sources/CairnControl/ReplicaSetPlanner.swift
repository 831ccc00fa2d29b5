import CairnCore
import Foundation

/// The ReplicaSet controller (kubernetes `pkg/controller/replicaset/replica_set.go`): keeps
/// `spec.replicas` active pods named `<rs>-<5 random characters>`, creating the missing ones at once and
/// deleting the extras the controller would rank first (getPodsToDelete).
public enum ReplicaSetPlanner {
    /// At most this many creations or deletions per ReplicaSet and sync (upstream's burstReplicas); the
    /// next sync does the rest.
    public static let burstReplicas = 500
    /// Tries of `names.suffix()` for one pod before giving up until the next sync.
    static let nameAttempts = 16

    public static func plan(_ s: ClusterSnapshot, names: any NameGenerator) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now, names: names)
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.replicaSets.keys.map { ObjectRef(.replicaSet, $0) }
    }

    /// The ReplicaSets among `keys`, in name order.
    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time, names: any NameGenerator) -> [Action] {
        var planned: Set<NamespacedName> = []
        var actions: [Action] = []
        for key in Set(keys.filter { $0.kind == .replicaSet }.map(\.key)).sorted() {
            guard let rs = index.replicaSets[key] else { continue }
            actions += ReplicaSetSync(rs: rs, index: index, now: now).plan(names: names, plannedNames: &planned)
        }
        return actions
    }
}

struct ReplicaSetSync {
    let rs: ReplicaSet
    let index: ClusterIndex
    let now: Time

    /// `plannedNames`: pod names this plan has given out already (beside the existing pods').
    func plan(names: any NameGenerator, plannedNames: inout Set<NamespacedName>) -> [Action] {
        guard !rs.metadata.isDeleting, let template = rs.spec.template,
              let selector = try? Selector(rs.spec.selector) else { return [] }
        // FilterActivePods, then ClaimPods: finished and terminating pods neither count nor get adopted.
        let candidates = index.candidatePods(controller: rs.uid, namespace: rs.namespace).filter(\.isActive)
        var (pods, actions) = claimPods(owner: rs, selector: selector, candidates: candidates) { _ in true }
        pods.sort { $0.name < $1.name }

        let diff = pods.count - max(rs.replicas, 0)
        if diff < 0 {
            for _ in 0..<min(-diff, ReplicaSetPlanner.burstReplicas) {
                guard let name = freshName(names, plannedNames: &plannedNames) else { break }
                var pod = podFromTemplate(template, owner: rs)
                pod.metadata.generateName = generateNameBase
                pod.metadata.name = name
                actions.append(.create(pod))
                actions.append(workloadEvent(rs, .normal, "SuccessfulCreate", "Created pod: \(name)"))
            }
        } else if diff > 0 {
            for pod in podsToDelete(pods, count: min(diff, ReplicaSetPlanner.burstReplicas)) {
                actions.append(.delete(.pod, namespace: pod.namespace, name: pod.name, uid: pod.uid))
                actions.append(workloadEvent(rs, .normal, "SuccessfulDelete", "Deleted pod: \(pod.name)"))
            }
        }
        if let update = statusUpdate(pods, template: template) { actions.append(update) }
        return actions
    }

    /// GetPodFromTemplate's generateName "<rs>-", cut to 58 bytes as the API server's name generator does.
    private var generateNameBase: String { "\(rs.name)-" }

    private func freshName(_ names: any NameGenerator, plannedNames: inout Set<NamespacedName>) -> String? {
        var base = generateNameBase
        let maxBase = Names.dns1123LabelMaxLength - 5
        if base.utf8.count > maxBase { base = String(decoding: Array(base.utf8.prefix(maxBase)), as: UTF8.self) }
        for _ in 0..<ReplicaSetPlanner.nameAttempts {
            let key = NamespacedName(rs.namespace, base + names.suffix())
            if index.pods[key] == nil, plannedNames.insert(key).inserted { return key.name }
        }
        return nil
    }

    // MARK: Which pods go first (controller_utils.go ActivePodsWithRanks)

    func podsToDelete(_ pods: [Pod], count: Int) -> [Pod] {
        guard count < pods.count else { return pods }
        let related = relatedPods()
        var onNode: [String: Int] = [:]
        for pod in related where pod.isActive { onNode[pod.spec.nodeName ?? "", default: 0] += 1 }
        let ranked = pods.map { (pod: $0, rank: onNode[$0.spec.nodeName ?? ""] ?? 0) }
        // A stable sort over name order, so equal pods are chosen the same way every sync.
        let sorted = ranked.enumerated().sorted { a, b in
            if DeletionRanking.less(a.element, b.element, now: now) { return true }
            if DeletionRanking.less(b.element, a.element, now: now) { return false }
            return a.offset < b.offset
        }
        return sorted.prefix(count).map(\.element.pod)
    }

    /// getIndirectlyRelatedPods: the pods of every ReplicaSet with the same controller. A ReplicaSet
    /// without a controller has none, so the "doubled up" rank plays no part for it.
    private func relatedPods() -> [Pod] {
        guard let controller = rs.controllerRef else { return [] }
        return (index.replicaSetsByNamespace[rs.namespace ?? ""] ?? []).sorted().compactMap { index.replicaSets[$0] }
            .filter { $0.controllerRef?.uid == controller.uid }
            .flatMap { index.pods(index.podsByController[$0.uid]) }
    }

    // MARK: Status

    /// calculateStatus over the claimed active pods as read; written only when it changed.
    func statusUpdate(_ pods: [Pod], template: PodTemplateSpec) -> Action? {
        let templateLabels = Selector(matching: template.metadata?.labels ?? [:])
        var status = rs.status ?? ReplicaSetStatus()
        var fully: Int32 = 0, ready: Int32 = 0, available: Int32 = 0
        for pod in pods {
            if templateLabels.matches(pod.metadata.labels ?? [:]) { fully += 1 }
            if pod.isReady {
                ready += 1
                if pod.isAvailable(minReadySeconds: rs.spec.minReadySeconds, now: now) { available += 1 }
            }
        }
        status.replicas = Int32(pods.count)
        status.fullyLabeledReplicas = fully
        status.readyReplicas = ready
        status.availableReplicas = available
        status.observedGeneration = rs.metadata.generation
        guard status != rs.status else { return nil }
        var updated = rs
        updated.status = status
        return .update(updated)
    }
}

/// ActivePodsWithRanks.Less: true when `a` should be deleted before `b`.
enum DeletionRanking {
    static let deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

    private static func phaseOrdinal(_ phase: PodPhase) -> Int {
        switch phase {
        case .unknown: 1
        case .running: 2
        default: 0
        }
    }

    /// GetDeletionCostFromPodAnnotations: an int32, 0 when missing or invalid.
    static func deletionCost(_ pod: Pod) -> Int32 {
        guard let value = pod.metadata.annotation(deletionCostAnnotation) else { return 0 }
        return Int32(value.trimmingCharacters(in: .whitespaces)) ?? 0
    }

    static func less(_ a: (pod: Pod, rank: Int), _ b: (pod: Pod, rank: Int), now: Time) -> Bool {
        let (p, q) = (a.pod, b.pod)
        let (pn, qn) = (p.spec.nodeName ?? "", q.spec.nodeName ?? "")
        // 1. Unassigned < assigned.
        if pn != qn && (pn.isEmpty || qn.isEmpty) { return pn.isEmpty }
        // 2. Pending < Unknown < Running.
        if phaseOrdinal(p.phase) != phaseOrdinal(q.phase) { return phaseOrdinal(p.phase) < phaseOrdinal(q.phase) }
        // 3. Not ready < ready.
        if p.isReady != q.isReady { return !p.isReady }
        // 4. Lower pod-deletion-cost < higher.
        if deletionCost(p) != deletionCost(q) { return deletionCost(p) < deletionCost(q) }
        // 5. Doubled up (more active related pods on the node) < not doubled up.
        if a.rank != b.rank { return a.rank > b.rank }
        // 6. Both ready: ready more recently < ready longer (logarithmic buckets).
        if p.isReady && q.isReady {
            let (rp, rq) = (p.readySince, q.readySince)
            if rp != rq {
                if let rp, let rq { return compareLogarithmic(rp, rq, p, q, now: now) }
                return rp == nil
            }
        }
        // 7. Higher container restart counts first: Cairn runs no containers, so all are 0.
        // 8. No creation time < newer < older (logarithmic buckets).
        let (cp, cq) = (p.metadata.creationTimestamp, q.metadata.creationTimestamp)
        if cp != cq {
            if let cp, let cq { return compareLogarithmic(cp, cq, p, q, now: now) }
            return cp == nil
        }
        return false
    }

    /// LogarithmicScaleDown: times compare by floor(log2(age in nanoseconds)); equal buckets by uid.
    private static func compareLogarithmic(_ t1: Time, _ t2: Time, _ p: Pod, _ q: Pod, now: Time) -> Bool {
        let diff = logRank(t1, now) - logRank(t2, now)
        return diff == 0 ? p.uid < q.uid : diff < 0
    }

    static func logRank(_ t: Time, _ now: Time) -> Int64 {
        let nanos = (now.date.timeIntervalSince(t.date) * 1e9).rounded(.towardZero)
        return nanos > 0 ? Int64(log2(nanos)) : -1
    }
}
