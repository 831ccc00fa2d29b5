import CairnCore

/// kube-scheduler for what Cairn models (`pkg/scheduler`): the PreFilter and Filter plugins that concern
/// nodes and volumes, in upstream's order, and upstream's FitError text when no node fits.
///
/// Pods without `spec.nodeName` are scheduled oldest first. Per node the first failing filter wins:
/// NodeUnschedulable, NodeAffinity (nodeSelector and required node affinity), VolumeRestrictions
/// (ReadWriteOncePod), VolumeBinding (bound volumes' node affinity, unbound WaitForFirstConsumer claims:
/// a matching Available volume on the node, else room to provision).
///
/// Among feasible nodes the pod goes to the one with the most free storage (see `StorageLedger`), ties
/// to the name that sorts first: Cairn's stand-in for upstream's scoring, which spreads pods too.
/// Every filter is evaluated on every node, so a pod bound to a local volume on node1 that excludes
/// node1 reads "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s)
/// had volume node affinity conflict." (upstream since 1.28 narrows local-volume pods to the volume's
/// node in PreFilter and reports only that node's reason).
///
/// Binding a pod sets spec.nodeName and PodScheduled=True; its unbound delayed claims are pinned to the
/// node as upstream's PreBind does: a static match gets the volume's claimRef, a claim to provision gets
/// `volume.kubernetes.io/selected-node`. Those writes come before the pod's, and a scheduled pod whose
/// claim lost that write is repaired at the next sync.
public enum Scheduler {
    public static let name = "default-scheduler"

    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        var sync = SchedulerSync(s)
        return sync.plan()
    }
}

/// The reasons upstream's plugins give, word for word.
enum SchedulerReason {
    static let unschedulable = "node(s) were unschedulable"
    static let nodeAffinity = "node(s) didn't match Pod's node affinity/selector"
    static let readWriteOncePodConflict = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
    static let volumeNodeConflict = "node(s) had volume node affinity conflict"
    static let volumeBindConflict = "node(s) didn't find available persistent volumes to bind"
    static let notEnoughSpace = "node(s) did not have enough free storage"
    static let volumeNotExist = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
    static let unboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
    static let noNodes = "no nodes available to schedule pods"
}

struct SchedulerSync {
    let snapshot: ClusterSnapshot
    let index: StorageIndex
    var ledger: StorageLedger
    var actions: [Action] = []
    /// Claims whose future volume is tied to a node: a selected node, or a volume assumed in this plan.
    var pinned: [StorageKey: String] = [:]
    /// Static volumes assumed for claims in this plan.
    var assumedVolumes: Set<String> = []
    /// Scheduled, unfinished pods per claim (VolumeRestrictions' IsPVCUsedByPods).
    var claimUsers: [StorageKey: Int] = [:]

    init(_ s: ClusterSnapshot) {
        snapshot = s
        index = StorageIndex(s)
        ledger = StorageLedger(index)
        for claim in index.claims.values {
            if (claim.spec.volumeName ?? "").isEmpty, let node = claim.metadata.annotation(Well.selectedNode) {
                pinned[claim.storageKey] = node
            }
        }
    }

    mutating func plan() -> [Action] {
        let pods = snapshot.pods.sorted { storageCreationOrder($0.metadata, $1.metadata) }
        for pod in pods where !(pod.spec.nodeName ?? "").isEmpty && !pod.storageIsTerminal {
            for v in pod.spec.claimVolumes { claimUsers[StorageKey(pod.namespace, v.claim), default: 0] += 1 }
            if !pod.metadata.isDeleting { repairSelectedNode(pod) }
        }
        for pod in pods where (pod.spec.nodeName ?? "").isEmpty && !pod.metadata.isDeleting && !pod.storageIsTerminal
            && (pod.spec.schedulerName ?? Scheduler.name) == Scheduler.name {
            schedule(pod)
        }
        return actions
    }

    /// A pod already on a node whose delayed claim has no node yet (the claim's write failed after the
    /// pod's succeeded): pin the claim to the pod's node.
    mutating func repairSelectedNode(_ pod: Pod) {
        guard let node = pod.spec.nodeName else { return }
        for v in pod.spec.claimVolumes {
            guard let claim = index.claim(pod.namespace, v.claim), !claim.metadata.isDeleting,
                  (claim.spec.volumeName ?? "").isEmpty, pinned[claim.storageKey] == nil, index.isDelayBinding(claim),
                  index.volumeReferencing(claim) == nil else { continue }
            pinClaim(claim, to: node)
        }
    }

    mutating func pinClaim(_ claim: PersistentVolumeClaim, to node: String) {
        var updated = claim
        updated.metadata.setAnnotation(Well.selectedNode, node)
        actions.append(.update(updated))
        pinned[claim.storageKey] = node
        if index.storageClass(of: claim)?.provisioner == Well.provisioner, let bytes = claim.requestBytes {
            ledger.reserve(claimUID: claim.uid, node: node, bytes: bytes)
        }
    }

    // MARK: one pod

    /// The pod's claims sorted into what VolumeBinding's PreFilter sees.
    struct PodClaims {
        var bound: [PersistentVolumeClaim] = []
        var delayed: [PersistentVolumeClaim] = []
        var all: [PersistentVolumeClaim] = []
    }

    /// What one node needs for the pod's delayed claims.
    struct NodePlan {
        var staticBindings: [(claim: PersistentVolumeClaim, volume: PersistentVolume)] = []
        var provisions: [PersistentVolumeClaim] = []
    }

    mutating func schedule(_ pod: Pod) {
        switch preFilter(pod) {
        case .failure(let message):
            return fail(pod, index.nodeNames.isEmpty ? SchedulerReason.noNodes : "0/\(index.nodeNames.count) nodes are available: \(message.message).")
        case .success(let claims):
            if index.nodeNames.isEmpty { return fail(pod, SchedulerReason.noNodes) }
            var reasons: [String: Int] = [:]
            var feasible: [(node: String, plan: NodePlan)] = []
            for name in index.nodeNames {
                guard let node = index.nodes[name] else { continue }
                switch filter(pod, claims, node) {
                case .success(let plan): feasible.append((name, plan))
                case .failure(let failed): for r in failed.reasons { reasons[r, default: 0] += 1 }
                }
            }
            // Most free storage first; nodeNames is sorted, so ties keep the first name.
            guard let chosen = feasible.reduce(nil as (node: String, plan: NodePlan)?, { best, next in
                guard let best else { return next }
                return ledger.free(next.node) > ledger.free(best.node) ? next : best
            }) else {
                // FitError.Error: "<count> <reason>" histogram, sort.Strings, joined by ", ".
                let histogram = reasons.map { "\($0.value) \($0.key)" }.sorted()
                return fail(pod, "0/\(index.nodeNames.count) nodes are available: \(histogram.joined(separator: ", ")).")
            }
            bindPod(pod, claims, chosen.node, chosen.plan)
        }
    }

    struct Unschedulable: Error { var reasons: [String] }
    struct PreFilterFailure: Error { var message: String }

    /// VolumeRestrictions' and VolumeBinding's PreFilter: every claim exists, none is being deleted, and
    /// no claim that cannot wait for the pod (Immediate, or already naming its volume) is unbound.
    func preFilter(_ pod: Pod) -> Result<PodClaims, PreFilterFailure> {
        var claims = PodClaims()
        for v in pod.spec.claimVolumes {
            guard let claim = index.claim(pod.namespace, v.claim) else {
                return .failure(PreFilterFailure(message: "persistentvolumeclaim \(StorageText.quoted(v.claim)) not found"))
            }
            claims.all.append(claim)
        }
        for claim in claims.all where claim.metadata.isDeleting {
            return .failure(PreFilterFailure(message: "persistentvolumeclaim \(StorageText.quoted(claim.name)) is being deleted"))
        }
        var immediate = false
        for claim in claims.all {
            if StorageIndex.isFullyBound(claim) {
                claims.bound.append(claim)
            } else if index.isDelayBinding(claim) && (claim.spec.volumeName ?? "").isEmpty {
                claims.delayed.append(claim)
            } else {
                immediate = true
            }
        }
        if immediate { return .failure(PreFilterFailure(message: SchedulerReason.unboundImmediate)) }
        return .success(claims)
    }

    /// The Filter plugins for one node, in upstream's order; the first that fails gives the reasons.
    func filter(_ pod: Pod, _ claims: PodClaims, _ node: Node) -> Result<NodePlan, Unschedulable> {
        if node.spec?.unschedulable == true && !Self.toleratesUnschedulable(pod) {
            return .failure(Unschedulable(reasons: [SchedulerReason.unschedulable]))
        }
        if !Self.matchesNodeAffinity(pod, node) {
            return .failure(Unschedulable(reasons: [SchedulerReason.nodeAffinity]))
        }
        for claim in claims.all where Set(claim.spec.accessModes ?? []).contains(AccessMode.readWriteOncePod.rawValue) {
            if (claimUsers[claim.storageKey] ?? 0) > 0 {
                return .failure(Unschedulable(reasons: [SchedulerReason.readWriteOncePodConflict]))
            }
        }
        return volumeBinding(claims, node)
    }

    /// VolumeBinding's Filter (FindPodVolumes): may give several reasons for one node.
    func volumeBinding(_ claims: PodClaims, _ node: Node) -> Result<NodePlan, Unschedulable> {
        var boundSatisfied = true, boundFound = true, unboundSatisfied = true, enoughSpace = true
        for claim in claims.bound {
            guard let pv = index.volumes[claim.spec.volumeName ?? ""] else { boundFound = false; continue }
            if let required = pv.spec.nodeAffinity?.required, !NodeSelectorMatch.matches(required, node) {
                boundSatisfied = false
            }
        }
        var plan = NodePlan()
        var need: Int64 = 0
        var chosen: Set<String> = []
        for claim in claims.delayed {
            if let pinnedNode = pinned[claim.storageKey] {
                // Its volume is promised to that node already (and its storage counted there).
                if pinnedNode != node.name { boundSatisfied = false }
                continue
            }
            if let pv = staticMatch(claim, node, excluding: chosen) {
                chosen.insert(pv.name)
                plan.staticBindings.append((claim, pv))
                continue
            }
            guard let storageClass = index.storageClass(of: claim),
                  !storageClass.provisioner.isEmpty, storageClass.provisioner != "kubernetes.io/no-provisioner" else {
                unboundSatisfied = false
                continue
            }
            plan.provisions.append(claim)
            // Only Cairn's own volumes use this node's disk; another provisioner's capacity is unknown.
            if storageClass.provisioner == Well.provisioner { need += claim.requestBytes ?? 0 }
        }
        if need > 0 && (node.metadata.annotation(Node.dataRootAnnotation) == nil || ledger.free(node.name) < need) {
            enoughSpace = false
        }
        var reasons: [String] = []
        if !boundSatisfied { reasons.append(SchedulerReason.volumeNodeConflict) }
        if !unboundSatisfied { reasons.append(SchedulerReason.volumeBindConflict) }
        if !enoughSpace { reasons.append(SchedulerReason.notEnoughSpace) }
        if !boundFound { reasons.append(SchedulerReason.volumeNotExist) }
        return reasons.isEmpty ? .success(plan) : .failure(Unschedulable(reasons: reasons))
    }

    /// FindMatchingVolume on a node: the smallest Available, unclaimed volume of the claim's class on
    /// that node whose capacity, access modes, volume mode and labels fit.
    func staticMatch(_ claim: PersistentVolumeClaim, _ node: Node, excluding chosen: Set<String>) -> PersistentVolume? {
        guard let selector = StorageIndex.volumeSelector(claim) else { return nil }
        let request = claim.requestBytes ?? 0
        let modes = Set(claim.spec.accessModes ?? [])
        for pv in index.volumesByClass[claim.spec.storageClassName ?? ""] ?? [] {
            guard (index.volumeBytes[pv.name] ?? 0) >= request, pv.phase == "Available", pv.spec.claimRef == nil,
                  !pv.metadata.isDeleting, !assumedVolumes.contains(pv.name), !chosen.contains(pv.name),
                  (pv.spec.volumeMode ?? "Filesystem") == (claim.spec.volumeMode ?? "Filesystem"),
                  Set(pv.spec.accessModes ?? []).isSuperset(of: modes),
                  selector.matches(pv.metadata.labels ?? [:]),
                  pv.spec.nodeAffinity?.required.map({ NodeSelectorMatch.matches($0, node) }) ?? true else { continue }
            return pv
        }
        return nil
    }

    /// NodeUnschedulable: a pod that tolerates node.kubernetes.io/unschedulable:NoSchedule may go there.
    static func toleratesUnschedulable(_ pod: Pod) -> Bool {
        for t in pod.spec.tolerations?.arrayValue ?? [] {
            let key = t["key"]?.stringValue ?? "", op = t["operator"]?.stringValue ?? "Equal"
            let effect = t["effect"]?.stringValue ?? "", value = t["value"]?.stringValue ?? ""
            guard effect.isEmpty || effect == "NoSchedule" else { continue }
            if op == "Exists" && (key.isEmpty || key == Well.unschedulableTaint) { return true }
            if op == "Equal" && key == Well.unschedulableTaint && value.isEmpty { return true }
        }
        return false
    }

    /// NodeAffinity: every nodeSelector label, and one of the required node selector terms.
    static func matchesNodeAffinity(_ pod: Pod, _ node: Node) -> Bool {
        let labels = node.metadata.labels ?? [:]
        for (k, v) in pod.spec.nodeSelector ?? [:] where labels[k] != v { return false }
        if let required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution {
            return NodeSelectorMatch.matches(required, node)
        }
        return true
    }

    // MARK: outcome

    mutating func bindPod(_ pod: Pod, _ claims: PodClaims, _ node: String, _ plan: NodePlan) {
        for (claim, pv) in plan.staticBindings {
            // AssumePodVolumes/BindPodVolumes: the volume is reserved for the claim by claimRef; the PV
            // controller completes the binding.
            var volume = pv
            volume.spec.claimRef = claim.reference()
            volume.metadata.setAnnotation(Well.boundByController, "yes")
            actions.append(.update(volume))
            assumedVolumes.insert(pv.name)
            pinned[claim.storageKey] = node
        }
        for claim in plan.provisions { pinClaim(claim, to: node) }
        for claim in claims.all { claimUsers[claim.storageKey, default: 0] += 1 }

        var updated = pod
        updated.spec.nodeName = node
        setCondition(&updated, PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: snapshot.now))
        actions.append(.update(updated))
        actions.append(storageEvent(pod, .normal, "Scheduled",
                                    "Successfully assigned \(pod.namespace ?? "")/\(pod.name) to \(node)"))
    }

    /// PodScheduled=False with the FitError text; the event only when the text changes.
    mutating func fail(_ pod: Pod, _ message: String) {
        let current = pod.condition("PodScheduled")
        if current?.status == "False" && current?.reason == "Unschedulable" && current?.message == message { return }
        var updated = pod
        setCondition(&updated, PodCondition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message,
                                            lastTransitionTime: current?.status == "False" ? current?.lastTransitionTime : snapshot.now))
        actions.append(.update(updated))
        actions.append(storageEvent(pod, .warning, "FailedScheduling", message))
    }

    func setCondition(_ pod: inout Pod, _ condition: PodCondition) {
        var status = pod.status ?? PodStatus()
        if status.phase == nil { status.phase = "Pending" }
        var conditions = status.conditions ?? []
        if let i = conditions.firstIndex(where: { $0.type == condition.type }) {
            conditions[i] = condition
        } else {
            conditions.append(condition)
        }
        status.conditions = conditions
        pod.status = status
    }
}
