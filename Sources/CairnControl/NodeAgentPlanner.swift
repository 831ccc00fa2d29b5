import CairnCore

/// kubelet's volume manager and status manager for the pods on this host's nodes, deciding from the
/// objects and from what the node agent observed (`NodeObservations`: which pods have their volumes
/// mounted, which work is under way, what failed):
///
/// 1. A scheduled pod on a node this daemon serves, whose claims are all Bound to existing local
///    volumes, and whose volumes are not mounted: mount them (`arrival` when the pod never started).
///    Until its claims are bound it waits, as kubelet waits for its volumes to attach.
/// 2. Its volumes are mounted but it is not Running and Ready: Running, with kubelet's conditions, and
///    the binding history says `mounted` (first start) or `remounted` (the daemon restarted under it).
/// 3. It is Running but its volumes are not mounted (the daemon restarted): Ready and ContainersReady
///    False until they are mounted again.
/// 4. A failed mount: the pod's message and a FailedMount event (once per message), retried with
///    kubelet's backoff.
/// 5. A pod being deleted with its volumes mounted: unmount them (fingerprinting what it leaves).
///    Unmounted: the history says `unmounted` (if it ever started) and the pod object is removed.
/// 6. A pod being deleted that never reached a node is removed at once, as the API server does for
///    unscheduled pods. One with finalizers waits for them.
public enum NodeAgentPlanner {
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now)
    }

    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time) -> [Action] {
        let pods = keys.filter { $0.kind == .pod }.compactMap { index.pods[$0.key] }
        return pods.sorted { storageCreationOrder($0.metadata, $1.metadata) }.flatMap { plan(index, $0, now: now) }
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] { index.pods.keys.map { ObjectRef(.pod, $0) } }

    static func plan(_ index: ClusterIndex, _ pod: Pod, now: Time) -> [Action] {
        let node = pod.spec.nodeName ?? ""
        let key = NamespacedName(pod)
        if pod.metadata.isDeleting {
            if node.isEmpty {
                guard (pod.metadata.finalizers ?? []).isEmpty else { return [] }
                return [.delete(.pod, namespace: pod.namespace, name: pod.name, uid: pod.uid)]
            }
            guard index.localNodes.contains(node) else { return [] }
            return stop(index, pod, key)
        }
        // Only a node this daemon serves right now runs pods; the node lifecycle controller speaks for
        // the others.
        guard index.localNodes.contains(node), index.observed.servedNodes[node] != nil, !pod.storageIsTerminal else { return [] }
        let observed = index.observed
        if let mounted = observed.mounted[key], mounted.uid == pod.uid {
            return pod.isRunningAndReady ? [] : markRunning(pod, mounted.mounts, now: now)
        }
        var actions: [Action] = []
        if pod.phase == .running && (pod.isReady || pod.condition(PodConditionType.containersReady)?.status == .true) {
            actions.append(.update(markNotReady(pod, now: now)))
        }
        let work = NodeWork.mount(key)
        if observed.inFlight.contains(work) { return actions }
        let resolved = mounts(pod, node, index)
        guard resolved.allSatisfy({ $0 != nil }) else { return actions }
        if let failure = observed.failures[work] {
            let message = "MountVolume.SetUp failed for volume \"\(resolved.first??.persistentVolume ?? "")\" : \(failure.message)"
            if pod.status?.message != message {
                var updated = actions.isEmpty ? pod : markNotReady(pod, now: now)
                updated.status?.message = message
                actions = [.update(updated), .event(object: pod.reference(), type: .warning, reason: "FailedMount", message: message)]
            }
            if !failure.mayRetry(now: now) {
                return actions + [.recheck(ObjectRef(.pod, key), afterSeconds: failure.retryAfterSeconds)]
            }
        }
        return actions + [.mountPod(pod, mounts: resolved.compactMap { $0 }, arrival: pod.status?.startTime == nil)]
    }

    /// Rules 5 and 6 for a pod on a local node.
    static func stop(_ index: ClusterIndex, _ pod: Pod, _ key: NamespacedName) -> [Action] {
        if index.observed.inFlight.contains(.unmount(key)) || index.observed.inFlight.contains(.mount(key)) { return [] }
        if let mounted = index.observed.mounted[key], mounted.uid == pod.uid {
            return [.unmountPod(pod, mounts: mounted.mounts)]
        }
        var actions: [Action] = []
        if pod.status?.startTime != nil {
            for m in mounts(pod, pod.spec.nodeName ?? "", index).compactMap({ $0 }) {
                actions.append(.history(.unmounted, claim: claimReference(m, pod), volume: m.persistentVolume, node: m.node,
                                        pod: pod.name, detail: nil))
            }
        }
        return actions + [.delete(.pod, namespace: pod.namespace, name: pod.name, uid: pod.uid)]
    }

    /// Rule 2: what kubelet's status manager writes once the containers run, and the history entry.
    static func markRunning(_ pod: Pod, _ mounts: [PodVolumeMount], now: Time) -> [Action] {
        var updated = pod
        var status = pod.status ?? PodStatus()
        let firstStart = status.startTime == nil
        status.phase = .running
        status.message = nil
        status.reason = nil
        status.hostIP = "127.0.0.1"
        if firstStart { status.startTime = now }
        status.conditions = [PodConditionType.readyToStartContainers, PodConditionType.initialized, PodConditionType.ready,
                             PodConditionType.containersReady, PodConditionType.podScheduled].map { type in
            let previous = pod.condition(type)
            return PodCondition(type: type, status: .true,
                                lastTransitionTime: previous?.status == .true ? previous?.lastTransitionTime : now)
        }
        updated.status = status
        var actions: [Action] = [.update(updated)]
        for m in mounts {
            actions.append(.history(firstStart ? .mounted : .remounted, claim: claimReference(m, pod), volume: m.persistentVolume,
                                    node: m.node, pod: pod.name, detail: firstStart ? nil : "remounted after the daemon restarted"))
        }
        return actions
    }

    /// Rule 3: the pod keeps running, but is not ready while its volumes are not mounted.
    static func markNotReady(_ pod: Pod, now: Time) -> Pod {
        var updated = pod
        updated.status?.conditions = pod.status?.conditions?.map { c in
            guard c.type == PodConditionType.ready || c.type == PodConditionType.containersReady, c.status != .false else { return c }
            return PodCondition(type: c.type, status: .false, reason: "VolumesNotMounted",
                                message: "the pod's volumes are being mounted again after cairn serve restarted",
                                lastTransitionTime: now)
        }
        return updated
    }

    static func claimReference(_ m: PodVolumeMount, _ pod: Pod) -> ObjectReference {
        ObjectReference(apiVersion: "v1", kind: Kind.persistentVolumeClaim.rawValue, namespace: pod.namespace,
                        name: m.claimName, uid: m.claimUID)
    }

    /// Every mount of a pod on its node, or nil while any claim is not Bound to its volume yet.
    public static func resolvedMounts(_ pod: Pod, in index: ClusterIndex) -> [PodVolumeMount]? {
        let all = mounts(pod, pod.spec.nodeName ?? "", index)
        return all.allSatisfy { $0 != nil } ? all.compactMap { $0 } : nil
    }

    /// One mount per persistentVolumeClaim volume, in the pod's order; nil where the claim is not Bound
    /// to an existing local volume that names it.
    static func mounts(_ pod: Pod, _ node: String, _ index: ClusterIndex) -> [PodVolumeMount?] {
        pod.spec.claimVolumes.map { v in
            guard let claim = index.claim(pod.namespace, v.claim), claim.phase == .bound,
                  let volumeName = claim.spec.volumeName, let pv = index.volumes[volumeName],
                  pv.spec.claimRef?.uid == claim.uid, let path = pv.spec.local?.path else { return nil }
            let modes = claim.spec.accessModes ?? []
            let readOnly = v.readOnly || (!modes.isEmpty && modes.allSatisfy { $0 == AccessMode.readOnlyMany.rawValue })
            return PodVolumeMount(volumeName: v.volume, claimName: claim.name, claimUID: claim.uid, persistentVolume: pv.name,
                                  node: node, backingPath: path, capacityBytes: pv.capacityBytes, readOnly: readOnly)
        }
    }
}
