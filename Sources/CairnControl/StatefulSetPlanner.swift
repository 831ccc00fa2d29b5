import CairnCore

/// The StatefulSet controller (kubernetes `pkg/controller/statefulset`): pods `<set>-<ordinal>` with stable
/// claims `<template>-<set>-<ordinal>`, created in order and removed from the highest ordinal, and the
/// claims' ownerReferences kept as `persistentVolumeClaimRetentionPolicy` asks (the garbage collector
/// then deletes claims whose owners are gone).
///
/// Cairn keeps no ControllerRevisions: a pod keeps the template it was created with, as with
/// `updateStrategy: OnDelete`, and every existing pod counts as current and updated.
public enum StatefulSetPlanner {
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now)
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.statefulSets.keys.map { ObjectRef(.statefulSet, $0) }
    }

    /// The sets among `keys`, in name order.
    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time) -> [Action] {
        Set(keys.filter { $0.kind == .statefulSet }.map(\.key)).sorted().compactMap { index.statefulSets[$0] }.flatMap { set in
            StatefulSetSync(set: set, index: index, now: now).plan()
        }
    }
}

/// What the controller decides for one set (updateStatefulSet in stateful_set_control.go).
struct StatefulSetSync {
    let set: StatefulSet
    let index: ClusterIndex
    let now: Time

    private var monotonic: Bool { !set.isParallel }
    private var minReady: Int32? { self.set.spec.minReadySeconds }

    func plan() -> [Action] {
        // A set being deleted is left to the garbage collector, with its status as it is.
        guard !set.metadata.isDeleting, let selector = try? Selector(set.spec.selector) else { return [] }
        let candidates = index.candidatePods(controller: set.uid, namespace: set.namespace)
        let (pods, adoptions) = claimPods(owner: set, selector: selector, candidates: candidates) {
            StatefulSetNames.ordinal(of: $0.name, in: set.name) != nil
        }
        var actions = adoptions

        // Partition into the replicas [start, start+replicas) and the condemned rest.
        let start = set.ordinalStart, count = max(set.replicas, 0)
        var replicas = [Pod?](repeating: nil, count: count)
        var condemned: [(ordinal: Int, pod: Pod)] = []
        for pod in pods {
            guard let ordinal = StatefulSetNames.ordinal(of: pod.name, in: set.name) else { continue }
            if ordinal >= start && ordinal < start + count {
                replicas[ordinal - start] = pod
            } else {
                condemned.append((ordinal, pod))
            }
        }
        condemned.sort { $0.ordinal > $1.ordinal }

        // The first unhealthy pod: the lowest replica that is missing or unhealthy, else the lowest
        // unhealthy condemned one. Only it may be deleted while unhealthy.
        var firstUnhealthy: String?
        if let i = replicas.firstIndex(where: { !($0?.isHealthy ?? false) }) {
            firstUnhealthy = StatefulSetNames.pod(set, start + i)
        } else {
            firstUnhealthy = condemned.last(where: { !$0.pod.isHealthy })?.pod.name
        }

        if processReplicas(replicas, start: start, into: &actions) {
            processCondemned(condemned.map(\.pod), firstUnhealthy: firstUnhealthy, into: &actions)
        }
        if let update = statusUpdate(pods) { actions.append(update) }
        if let wait = availabilityWait(pods) { actions.append(.recheck(ObjectRef(.statefulSet, NamespacedName(set)), afterSeconds: wait)) }
        return actions
    }

    /// With minReadySeconds, a ready pod becomes available later: plan the set again then (upstream's
    /// enqueueAfter). nil when no pod is waiting to become available.
    func availabilityWait(_ pods: [Pod]) -> Double? {
        guard let min = minReady, min > 0 else { return nil }
        let waits = pods.compactMap { pod -> Double? in
            guard pod.isRunning, !pod.isAvailable(minReadySeconds: min, now: now), let since = pod.readySince else { return nil }
            return max(since.date.addingTimeInterval(Double(min)).timeIntervalSince(now.date), 0) + 0.001
        }
        return waits.min()
    }

    // MARK: Replicas

    /// processReplica for each ordinal in increasing order. Returns false when OrderedReady must wait,
    /// in which case nothing is condemned this sync.
    private func processReplicas(_ replicas: [Pod?], start: Int, into actions: inout [Action]) -> Bool {
        for (i, existing) in replicas.enumerated() {
            let ordinal = start + i
            guard let pod = existing else {
                createReplica(ordinal, into: &actions)
                if monotonic { return false }
                continue
            }
            // A finished pod is deleted; a new one with the same name follows once it is gone.
            if pod.hasFinished {
                if !pod.metadata.isDeleting { actions += deletePod(pod) }
                if monotonic { return false }
                continue
            }
            var claimsReconciled = false
            if pod.phase == .pending {
                actions += createMissingClaims(ordinal, podName: pod.name).actions
                actions += retentionUpdates(ordinal, pod: pod)
                claimsReconciled = true
            }
            if monotonic && (pod.metadata.isDeleting || !(pod.isRunning && pod.isReady)
                             || !pod.isAvailable(minReadySeconds: minReady, now: now)) {
                return false
            }
            if !claimsReconciled { actions += retentionUpdates(ordinal, pod: pod) }
        }
        // Condemned pods' claims get their retention ownerRefs before any of them is deleted.
        return true
    }

    /// CreateStatefulPod: the pod's missing claims first, then the pod, unless a claim is being deleted
    /// (its pod would lose the data) or, with whenScaled: Delete, still belongs to an earlier pod of that
    /// name (the garbage collector is about to delete it).
    private func createReplica(_ ordinal: Int, into actions: inout [Action]) {
        let podName = StatefulSetNames.pod(set, ordinal)
        if RetentionPolicy(set).whenScaled == .delete && claimIsStale(ordinal, podName: podName) { return }
        let (claimActions, errors) = createMissingClaims(ordinal, podName: podName)
        actions += claimActions
        if !errors.isEmpty {
            actions.append(workloadEvent(set, .warning, "FailedCreate",
                                       "create Pod \(podName) in StatefulSet \(set.name) failed error: \(joinedErrors(errors))"))
            return
        }
        actions.append(.create(newPod(ordinal)))
        actions += retentionUpdates(ordinal, podName: podName, podUID: "")
        actions.append(workloadEvent(set, .normal, "SuccessfulCreate",
                                   "create Pod \(podName) in StatefulSet \(set.name) successful"))
    }

    /// newStatefulSetPod: the template plus identity (name, labels, hostname, subdomain) and storage.
    func newPod(_ ordinal: Int) -> Pod {
        var pod = podFromTemplate(set.spec.template, owner: set)
        let name = StatefulSetNames.pod(set, ordinal)
        pod.metadata.name = name
        var labels = pod.metadata.labels ?? [:]
        labels[Well.podNameLabel] = name
        labels[Well.podIndexLabel] = String(ordinal)
        pod.metadata.labels = labels
        pod.spec.hostname = name
        pod.spec.subdomain = set.spec.serviceName
        // updateStorage: one volume per claim template, replacing a template volume of the same name.
        let templates = set.spec.volumeClaimTemplates ?? []
        let templateNames = Set(templates.map { $0.metadata.nameOrEmpty })
        var volumes = templates.map { t in
            Volume(name: t.metadata.nameOrEmpty,
                   persistentVolumeClaim: .init(claimName: StatefulSetNames.claim(t, set, ordinal), readOnly: false))
        }
        volumes += (pod.spec.volumes ?? []).filter { !templateNames.contains($0.name) }
        pod.spec.volumes = volumes.isEmpty ? nil : volumes
        return pod
    }

    // MARK: Claims

    /// getPersistentVolumeClaims: each template named for the ordinal, its labels merged with the set's
    /// selector.matchLabels. Retention ownerRefs to the set are set at creation (upstream adds them right
    /// after creating the pod); refs to the pod follow once the pod has a uid.
    func newClaim(_ template: PersistentVolumeClaimTemplate, _ ordinal: Int) -> PersistentVolumeClaim {
        var labels = template.metadata.labels ?? [:]
        for (k, v) in set.spec.selector?.matchLabels ?? [:] { labels[k] = v }
        let meta = ObjectMeta(name: StatefulSetNames.claim(template, set, ordinal), namespace: set.namespace,
                              labels: labels.isEmpty ? nil : labels, annotations: template.metadata.annotations)
        var claim = PersistentVolumeClaim(metadata: meta, spec: template.spec)
        claim.setTypeMeta()
        let owners = ClaimOwnership(set: set, podName: StatefulSetNames.pod(set, ordinal), podUID: "",
                                    podInRange: true).updatedReferences(of: claim)
        claim.metadata.ownerReferences = owners.isEmpty ? nil : owners
        return claim
    }

    /// createPersistentVolumeClaims: creates the missing claims (with an event each) and reports the ones
    /// being deleted as errors.
    private func createMissingClaims(_ ordinal: Int, podName: String) -> (actions: [Action], errors: [String]) {
        var actions: [Action] = []
        var errors: [String] = []
        for template in set.spec.volumeClaimTemplates ?? [] {
            let name = StatefulSetNames.claim(template, set, ordinal)
            if let existing = index.claim(set.namespace, name) {
                if existing.metadata.isDeleting { errors.append("pvc \(name) is being deleted") }
                continue
            }
            actions.append(.create(newClaim(template, ordinal)))
            actions.append(workloadEvent(set, .normal, "SuccessfulCreate",
                                       "create Claim \(name) Pod \(podName) in StatefulSet \(set.name) success"))
        }
        return (actions, errors)
    }

    /// PodClaimIsStale: a claim of this ordinal still owned by a previous pod of the same name.
    private func claimIsStale(_ ordinal: Int, podName: String) -> Bool {
        (set.spec.volumeClaimTemplates ?? []).contains { template in
            guard let claim = index.claim(set.namespace, StatefulSetNames.claim(template, set, ordinal)) else {
                return false
            }
            return ClaimOwnership.hasStaleReference(claim, to: .pod, named: podName, uid: "")
        }
    }

    private func retentionUpdates(_ ordinal: Int, pod: Pod) -> [Action] {
        retentionUpdates(ordinal, podName: pod.name, podUID: pod.uid)
    }

    /// UpdatePodClaimForRetentionPolicy: rewrites the ownerRefs of this ordinal's claims that do not
    /// match the policy.
    private func retentionUpdates(_ ordinal: Int, podName: String, podUID: String) -> [Action] {
        let start = set.ordinalStart
        let ownership = ClaimOwnership(set: set, podName: podName, podUID: podUID,
                                       podInRange: ordinal >= start && ordinal < start + max(set.replicas, 0))
        var actions: [Action] = []
        for template in set.spec.volumeClaimTemplates ?? [] {
            let name = StatefulSetNames.claim(template, set, ordinal)
            guard var claim = index.claim(set.namespace, name), !claim.metadata.isDeleting,
                  !ownership.isUpToDate(claim) else { continue }
            if ownership.hasUnexpectedController(claim) {
                actions.append(workloadEvent(set, .warning, "ConflictingController",
                    "PersistentVolumeClaim \(name) has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim"))
            }
            let refs = ownership.updatedReferences(of: claim)
            claim.metadata.ownerReferences = refs.isEmpty ? nil : refs
            actions.append(.update(claim))
        }
        return actions
    }

    // MARK: Condemned

    /// Fixes the condemned pods' claims, then processCondemned in decreasing ordinal order: OrderedReady
    /// deletes one pod per sync and waits on a terminating pod or an unhealthy one that is not the first
    /// unhealthy pod; Parallel deletes every condemned pod not already terminating.
    private func processCondemned(_ condemned: [Pod], firstUnhealthy: String?, into actions: inout [Action]) {
        for pod in condemned {
            guard let ordinal = StatefulSetNames.ordinal(of: pod.name, in: set.name) else { continue }
            actions += retentionUpdates(ordinal, pod: pod)
        }
        for pod in condemned {
            if pod.metadata.isDeleting {
                if monotonic { return }
                continue
            }
            let healthy = pod.isRunning && pod.isReady && pod.isAvailable(minReadySeconds: minReady, now: now)
            if monotonic && !healthy && pod.name != firstUnhealthy { return }
            actions += deletePod(pod)
            if monotonic { return }
        }
    }

    private func deletePod(_ pod: Pod) -> [Action] {
        [.delete(.pod, namespace: pod.namespace, name: pod.name, uid: pod.uid),
         workloadEvent(set, .normal, "SuccessfulDelete", "delete Pod \(pod.name) in StatefulSet \(set.name) successful")]
    }

    // MARK: Status

    /// computeReplicaStatus over the pods as read (pods created or deleted by this plan show next sync).
    func statusUpdate(_ pods: [Pod]) -> Action? {
        var status = set.status ?? StatefulSetStatus()
        var replicas: Int32 = 0, ready: Int32 = 0, available: Int32 = 0, current: Int32 = 0
        for pod in pods {
            replicas += 1
            if pod.isRunning && pod.isReady {
                ready += 1
                if pod.isAvailable(minReadySeconds: minReady, now: now) { available += 1 }
            }
            if !pod.metadata.isDeleting { current += 1 }
        }
        status.observedGeneration = set.metadata.generation
        status.replicas = replicas
        status.readyReplicas = ready
        status.availableReplicas = available
        status.currentReplicas = current
        status.updatedReplicas = current
        guard status != set.status else { return nil }
        var updated = set
        updated.status = status
        return .update(updated)
    }
}

/// stateful_set_utils.go naming.
public enum StatefulSetNames {
    /// The ordinal of a claim the set stamps out (`<template>-<set>-<ordinal>`), with its template's
    /// name; nil when no template of the set names it.
    public static func claimOrdinal(_ claim: String, of set: StatefulSet) -> (template: String, ordinal: Int)? {
        claimOrdinal(claim, templates: (set.spec.volumeClaimTemplates ?? []).map(\.metadata.nameOrEmpty), set: set.name)
    }

    public static func claimOrdinal(_ claim: String, templates: [String], set: String) -> (template: String, ordinal: Int)? {
        for template in templates {
            let prefix = "\(template)-"
            guard claim.hasPrefix(prefix), let n = ordinal(of: String(claim.dropFirst(prefix.count)), in: set) else { continue }
            return (template, n)
        }
        return nil
    }

    static func pod(_ set: StatefulSet, _ ordinal: Int) -> String { "\(set.name)-\(ordinal)" }

    static func claim(_ template: PersistentVolumeClaimTemplate, _ set: StatefulSet, _ ordinal: Int) -> String {
        "\(template.metadata.nameOrEmpty)-\(set.name)-\(ordinal)"
    }

    /// getParentNameAndOrdinal for a member of `set`: the ordinal when `name` is `<set>-<digits>` and the
    /// digits fit an int32, else nil.
    public static func ordinal(of name: String, in setName: String) -> Int? {
        guard name.utf8.count > setName.utf8.count + 1, name.hasPrefix(setName) else { return nil }
        let rest = name.utf8.dropFirst(setName.utf8.count)
        guard rest.first == UInt8(ascii: "-") else { return nil }
        let digits = rest.dropFirst()
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let value = Int32(String(decoding: digits, as: UTF8.self)) else { return nil }
        return Int(value)
    }
}

enum RetentionPolicyType {
    case retain, delete
    /// Unknown values are treated as Retain, as upstream does.
    init(_ value: String) { self = value == "Delete" ? .delete : .retain }
}

struct RetentionPolicy {
    var whenScaled: RetentionPolicyType
    var whenDeleted: RetentionPolicyType
    init(_ set: StatefulSet) {
        whenScaled = RetentionPolicyType(set.whenScaled)
        whenDeleted = RetentionPolicyType(set.whenDeleted)
    }
}

/// The ownerReferences one claim of one ordinal should carry (isClaimOwnerUpToDate and
/// updateClaimOwnerRefForSetAndPod in stateful_set_utils.go):
///
/// | whenScaled / whenDeleted | owner |
/// |---|---|
/// | Retain / Retain | none |
/// | Retain / Delete | the set |
/// | Delete / Retain | the pod, only when its ordinal is out of range |
/// | Delete / Delete | the pod when out of range, else the set |
///
/// References are controller references, as upstream writes them since the policy went GA.
struct ClaimOwnership {
    let set: StatefulSet
    let podName: String
    /// "" for a pod not created yet.
    let podUID: String
    let podInRange: Bool

    private var policy: RetentionPolicy { RetentionPolicy(set) }

    private func isSet(_ ref: OwnerReference) -> Bool { ref.refers(to: .statefulSet, named: set.name) }
    private func isPod(_ ref: OwnerReference) -> Bool { ref.refers(to: .pod, named: podName) }
    private func hasOwner(_ claim: PersistentVolumeClaim, uid: String) -> Bool {
        !uid.isEmpty && claim.isOwned(by: uid)
    }

    /// hasStaleOwnerRef: the first reference to this kind and name carries another uid.
    static func hasStaleReference(_ claim: PersistentVolumeClaim, to kind: Kind, named name: String, uid: String) -> Bool {
        guard let ref = claim.metadata.ownerReferences?.first(where: { $0.refers(to: kind, named: name) }) else {
            return false
        }
        return ref.uid != uid
    }

    /// hasUnexpectedController: with a Delete policy, a controller other than this set or pod.
    func hasUnexpectedController(_ claim: PersistentVolumeClaim) -> Bool {
        if policy.whenScaled == .retain && policy.whenDeleted == .retain { return false }
        for ref in claim.metadata.ownerReferences ?? [] {
            if isSet(ref) {
                if ref.uid != set.uid { return true }
                continue
            }
            if isPod(ref) {
                if ref.uid != podUID { return true }
                continue
            }
            if ref.controller == true { return true }
        }
        return false
    }

    private func hasNonControllerOwner(_ claim: PersistentVolumeClaim) -> Bool {
        (claim.metadata.ownerReferences ?? []).contains { ref in
            (ref.uid == set.uid || (!podUID.isEmpty && ref.uid == podUID)) && ref.controller != true
        }
    }

    func isUpToDate(_ claim: PersistentVolumeClaim) -> Bool {
        if Self.hasStaleReference(claim, to: .statefulSet, named: set.name, uid: set.uid)
            || Self.hasStaleReference(claim, to: .pod, named: podName, uid: podUID) {
            // Left to the garbage collector: it belongs to an earlier set or pod of the same name.
            return true
        }
        let bySet = hasOwner(claim, uid: set.uid), byPod = hasOwner(claim, uid: podUID)
        if hasUnexpectedController(claim) { return !(bySet || byPod) }
        if hasNonControllerOwner(claim) { return false }
        let scaledDown = !podInRange
        switch (policy.whenScaled, policy.whenDeleted) {
        case (.retain, .retain): return !bySet && !byPod
        case (.retain, .delete): return bySet && !byPod
        case (.delete, .retain): return !bySet && scaledDown == byPod
        case (.delete, .delete): return scaledDown != bySet && scaledDown == byPod
        }
    }

    func updatedReferences(of claim: PersistentVolumeClaim) -> [OwnerReference] {
        let unexpected = hasUnexpectedController(claim)
        var refs = (claim.metadata.ownerReferences ?? []).filter { !isSet($0) && !isPod($0) }
        if unexpected { return refs }
        let scaledDown = !podInRange
        let wantSet: Bool, wantPod: Bool
        switch (policy.whenScaled, policy.whenDeleted) {
        case (.retain, .retain): (wantSet, wantPod) = (false, false)
        case (.retain, .delete): (wantSet, wantPod) = (true, false)
        case (.delete, .retain): (wantSet, wantPod) = (false, scaledDown)
        case (.delete, .delete): (wantSet, wantPod) = (!scaledDown, scaledDown)
        }
        if wantPod && !podUID.isEmpty && !refs.contains(where: { $0.uid == podUID }) {
            refs.append(OwnerReference(apiVersion: Kind.pod.apiVersion, kind: Kind.pod.rawValue, name: podName,
                                       uid: podUID, controller: true, blockOwnerDeletion: true))
        }
        if wantSet && !set.uid.isEmpty && !refs.contains(where: { $0.uid == set.uid }) {
            refs.append(set.ownerReference())
        }
        return refs
    }
}
