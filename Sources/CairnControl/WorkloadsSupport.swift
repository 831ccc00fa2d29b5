import CairnCore
import Foundation

extension ClusterIndex {
    /// The pods a workload may claim: those it controls and the namespace's orphans.
    func candidatePods(controller uid: String, namespace: String?) -> [Pod] {
        // Sorted by key, then looked up: sorting the pods themselves moves large values around, and
        // a StatefulSet of a thousand replicas is planned after each of its pods changes.
        let keys = (podsByController[uid] ?? []).union(orphanPodsByNamespace[namespace ?? ""] ?? [])
        return keys.sorted { $0.name < $1.name }.compactMap { pods[$0] }
    }
}

// MARK: Pod state as the controllers read it (k8s.io/kubernetes/pkg/api/v1/pod, controller_utils.go)

extension Pod {
    var isRunning: Bool { phase == .running }
    var hasFinished: Bool { phase.isTerminal }
    /// controller.IsPodActive: not finished and not being deleted.
    var isActive: Bool { !hasFinished && !metadata.isDeleting }
    /// statefulset's isHealthy: Running, Ready and not terminating.
    var isHealthy: Bool { isRunning && isReady && !metadata.isDeleting }

    /// When the Ready condition last became True; nil when the pod is not ready.
    var readySince: Time? {
        guard let c = condition(PodConditionType.ready), c.status == .true else { return nil }
        return c.lastTransitionTime
    }

    /// podutil.IsPodAvailable: ready for at least minReadySeconds (strictly longer, as upstream compares).
    func isAvailable(minReadySeconds: Int32?, now: Time) -> Bool {
        guard isReady else { return false }
        let min = Int(minReadySeconds ?? 0)
        if min == 0 { return true }
        guard let since = readySince else { return false }
        return since.date.addingTimeInterval(TimeInterval(min)) < now.date
    }
}

// MARK: Owner references

extension OwnerReference {
    func refers(to kind: Kind, named name: String) -> Bool {
        self.kind == kind.rawValue && apiVersion == kind.apiVersion && self.name == name
    }
}

/// ClaimPods (controller_ref_manager.go): the pods `owner` controls after adopting matching orphans and
/// releasing owned pods that no longer match. Adoption and release are `.update`s of the pod; the pods
/// are counted as adopted (or released) already, as upstream counts them after its patch.
/// Owners being deleted are not planned for at all, so this never runs for one.
func claimPods(owner: some KubeObject, selector: Selector, candidates: [Pod],
               isMember: (Pod) -> Bool) -> (pods: [Pod], actions: [Action]) {
    var claimed: [Pod] = []
    var actions: [Action] = []
    for var pod in candidates {
        let matches = selector.matches(pod.metadata.labels ?? [:]) && isMember(pod)
        if let ref = pod.controllerRef {
            guard ref.uid == owner.uid else { continue }
            if matches {
                claimed.append(pod)
            } else {
                pod.metadata.ownerReferences = pod.metadata.ownerReferences?.filter { $0.uid != owner.uid }
                if pod.metadata.ownerReferences?.isEmpty == true { pod.metadata.ownerReferences = nil }
                actions.append(.update(pod))
            }
            continue
        }
        guard matches, !pod.metadata.isDeleting, pod.namespace == owner.namespace else { continue }
        pod.metadata.ownerReferences = (pod.metadata.ownerReferences ?? []) + [owner.ownerReference()]
        actions.append(.update(pod))
        claimed.append(pod)
    }
    return (claimed, actions)
}

func workloadEvent(_ object: some KubeObject, _ type: EventType, _ reason: String, _ message: String) -> Action {
    .event(object: object.reference(), type: type, reason: reason, message: message)
}

/// utilerrors.NewAggregate(errs).Error(): one error prints as itself, several as "[a, b]".
func joinedErrors(_ messages: [String]) -> String {
    messages.count == 1 ? messages[0] : "[" + messages.joined(separator: ", ") + "]"
}

/// A pod built from a controller's template (controller.GetPodFromTemplate): the template's labels,
/// annotations, finalizers and spec, and a controller reference to `owner`.
func podFromTemplate(_ template: PodTemplateSpec, owner: some KubeObject) -> Pod {
    var meta = ObjectMeta(namespace: owner.namespace, labels: template.metadata?.labels,
                          annotations: template.metadata?.annotations)
    meta.finalizers = template.metadata?.finalizers
    meta.ownerReferences = [owner.ownerReference()]
    var pod = Pod(metadata: meta, spec: template.spec)
    pod.setTypeMeta()
    return pod
}
