import CairnCore

/// kube-scheduler for what Cairn models (`pkg/scheduler`): the PreFilter and Filter plugins that concern
/// nodes and volumes, in upstream's order, and upstream's FitError text when no node fits.
///
/// Pods without `spec.nodeName` are scheduled oldest first. Per node the first failing filter wins:
/// NodeUnschedulable, TaintToleration (NoSchedule and NoExecute taints, such as the unreachable taint of
/// a node nobody serves), NodeAffinity (nodeSelector and required node affinity), VolumeRestrictions
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

    /// Every pod of the snapshot.
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now)
    }

    /// The pods among `keys`: unscheduled ones are placed, scheduled ones have their claims repaired.
    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time) -> [Action] {
        var sync = SchedulerSync(index, now: now)
        return sync.plan(keys.filter { $0.kind == .pod }.compactMap { index.pods[$0.key] })
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] { index.pods.keys.map { ObjectRef(.pod, $0) } }
}

/// The reasons upstream's plugins give, word for word.
enum SchedulerReason {
    static let unschedulable = "node(s) were unschedulable"
    static func untoleratedTaint(_ t: Taint) -> String { "node(s) had untolerated taint {\(t.key): \(t.value ?? "")}" }
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
    let index: ClusterIndex
    let now: Time
    var ledger: StorageLedger
    var actions: [Action] = []
    /// Claims whose future volume is tied to a node in this plan (beyond their selected-node annotation).
    var pinned: [NamespacedName: String] = [:]
    /// Static volumes assumed for claims in this plan.
    var assumedVolumes: Set<String> = []
    /// Pods this plan placed, per claim (VolumeRestrictions counts them as users).
    var plannedUsers: [NamespacedName: Int] = [:]

    init(_ index: ClusterIndex, now: Time) {
        self.index = index
        self.now = now
        ledger = index.plannableLedger
    }

    mutating func plan(_ pods: [Pod]) -> [Action] {
        let sorted = pods.sorted { storageCreationOrder($0.metadata, $1.metadata) }
        for pod in sorted where !(pod.spec.nodeName ?? "").isEmpty && !pod.storageIsTerminal && !pod.metadata.isDeleting {
            repairSelectedNode(pod)
        }
        for pod in sorted where (pod.spec.nodeName ?? "").isEmpty && !pod.metadata.isDeleting && !pod.storageIsTerminal
            && (pod.spec.schedulerName ?? Scheduler.name) == Scheduler.name {
            schedule(pod)
        }
        return actions
    }

    /// The node a claim's future volume is promised to: its selected node, or one this plan chose.
    func pinnedNode(_ claim: PersistentVolumeClaim) -> String? {
        if let node = pinned[claim.key] { return node }
        guard (claim.spec.volumeName ?? "").isEmpty else { return nil }
        return claim.metadata.annotation(Well.selectedNode)
    }

    /// Scheduled, unfinished pods using a claim (VolumeRestrictions' IsPVCUsedByPods).
    func users(of claim: NamespacedName) -> Int {
        index.podsUsing(claim).filter { !($0.spec.nodeName ?? "").isEmpty && !$0.storageIsTerminal }.count
            + (plannedUsers[claim] ?? 0)
    }

    /// A pod already on a node whose delayed claim has no node yet (the claim's write failed after the
    /// pod's succeeded): pin the claim to the pod's node.
    mutating func repairSelectedNode(_ pod: Pod) {
        guard let node = pod.spec.nodeName else { return }
        for v in pod.spec.claimVolumes {
            guard let claim = index.claim(pod.namespace, v.claim), !claim.metadata.isDeleting,
                  (claim.spec.volumeName ?? "").isEmpty, pinnedNode(claim) == nil, index.isDelayBinding(claim),
                  index.volumeReferencing(claim) == nil else { continue }
            pinClaim(claim, to: node)
        }
    }

    mutating func pinClaim(_ claim: PersistentVolumeClaim, to node: String) {
        var updated = claim
        updated.metadata.setAnnotation(Well.selectedNode, node)
        actions.append(.update(updated))
        pinned[claim.key] = node
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
        case .failure(let message) where message.message.isEmpty:
            return
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
        var immediate = false, provisioning = false
        for claim in claims.all {
            if ClusterIndex.isFullyBound(claim) {
                claims.bound.append(claim)
            } else if index.isDelayBinding(claim) && (claim.spec.volumeName ?? "").isEmpty {
                claims.delayed.append(claim)
            } else {
                immediate = true
                if index.observed.provisioning[claim.uid] != nil { provisioning = true }
            }
        }
        // Its volume is being made right now: the pod is planned again once the claim is bound, and
        // says nothing meanwhile (upstream would report the claim unbound for that moment).
        if immediate && provisioning { return .failure(PreFilterFailure(message: "")) }
        if immediate { return .failure(PreFilterFailure(message: SchedulerReason.unboundImmediate)) }
        return .success(claims)
    }

    /// The Filter plugins for one node, in upstream's order; the first that fails gives the reasons.
    func filter(_ pod: Pod, _ claims: PodClaims, _ node: Node) -> Result<NodePlan, Unschedulable> {
        if node.spec?.unschedulable == true && !Self.tolerates(pod, Taint(key: Well.unschedulableTaint, effect: .noSchedule)) {
            return .failure(Unschedulable(reasons: [SchedulerReason.unschedulable]))
        }
        // TaintToleration: the first NoSchedule or NoExecute taint the pod does not tolerate.
        for taint in node.spec?.taints ?? [] where taint.effect != .preferNoSchedule && !Self.tolerates(pod, taint) {
            return .failure(Unschedulable(reasons: [SchedulerReason.untoleratedTaint(taint)]))
        }
        if !Self.matchesNodeAffinity(pod, node) {
            return .failure(Unschedulable(reasons: [SchedulerReason.nodeAffinity]))
        }
        for claim in claims.all where Set(claim.spec.accessModes ?? []).contains(AccessMode.readWriteOncePod.rawValue) {
            if users(of: claim.key) > 0 {
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
            if let pinnedNode = pinnedNode(claim) {
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
        guard let selector = ClusterIndex.volumeSelector(claim) else { return nil }
        let request = claim.requestBytes ?? 0
        let modes = Set(claim.spec.accessModes ?? [])
        for pv in index.availableVolumes(class: claim.spec.storageClassName ?? "") {
            guard (index.volumeBytes[pv.name] ?? 0) >= request, pv.phase == .available, pv.spec.claimRef == nil,
                  !pv.metadata.isDeleting, !assumedVolumes.contains(pv.name), !chosen.contains(pv.name),
                  (pv.spec.volumeMode ?? "Filesystem") == (claim.spec.volumeMode ?? "Filesystem"),
                  Set(pv.spec.accessModes ?? []).isSuperset(of: modes),
                  selector.matches(pv.metadata.labels ?? [:]),
                  pv.spec.nodeAffinity?.required.map({ NodeSelectorMatch.matches($0, node) }) ?? true else { continue }
            return pv
        }
        return nil
    }

    /// Toleration.ToleratesTaint: some toleration of the pod matches the taint's effect, key and value.
    static func tolerates(_ pod: Pod, _ taint: Taint) -> Bool {
        for t in pod.spec.tolerations?.arrayValue ?? [] {
            let key = t["key"]?.stringValue ?? "", op = t["operator"]?.stringValue ?? "Equal"
            let effect = t["effect"]?.stringValue ?? "", value = t["value"]?.stringValue ?? ""
            guard effect.isEmpty || effect == taint.effect.rawValue else { continue }
            if op == "Exists" && (key.isEmpty || key == taint.key) { return true }
            if op == "Equal" && key == taint.key && value == (taint.value ?? "") { return true }
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
            pinned[claim.key] = node
        }
        for claim in plan.provisions { pinClaim(claim, to: node) }
        for claim in claims.all { plannedUsers[claim.key, default: 0] += 1 }

        var updated = pod
        updated.spec.nodeName = node
        setCondition(&updated, PodCondition(type: PodConditionType.podScheduled, status: .true, lastTransitionTime: now))
        actions.append(.update(updated))
        actions.append(storageEvent(pod, .normal, "Scheduled",
                                    "Successfully assigned \(pod.namespace ?? "")/\(pod.name) to \(node)"))
    }

    /// PodScheduled=False with the FitError text; the event only when the text changes.
    mutating func fail(_ pod: Pod, _ message: String) {
        let current = pod.condition(PodConditionType.podScheduled)
        if current?.status == .false && current?.reason == "Unschedulable" && current?.message == message { return }
        var updated = pod
        setCondition(&updated, PodCondition(type: PodConditionType.podScheduled, status: .false, reason: "Unschedulable", message: message,
                                            lastTransitionTime: current?.status == .false ? current?.lastTransitionTime : now))
        actions.append(.update(updated))
        actions.append(storageEvent(pod, .warning, "FailedScheduling", message))
    }

    func setCondition(_ pod: inout Pod, _ condition: PodCondition) {
        var status = pod.status ?? PodStatus()
        if status.phase == nil { status.phase = .pending }
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
