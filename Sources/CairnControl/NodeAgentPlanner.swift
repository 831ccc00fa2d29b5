import CairnCore

/// kubelet's volume manager for the pods on this host's nodes (`snapshot.localNodes`):
/// - a scheduled pod that is not Running (new, or marked not ready after a restart) whose claims are all
///   Bound to existing local volumes is started with its volumes mounted; the daemon marks it Running
///   and Ready. Until then it waits, as kubelet waits for its volumes to attach.
/// - a pod being deleted is stopped: its volumes are unmounted (those whose claim and volume still
///   exist), then the pod object is removed.
/// - a pod being deleted that never reached a node is removed at once, as the API server does for
///   unscheduled pods. One with finalizers waits for them.
public enum NodeAgentPlanner {
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = StorageIndex(s)
        var actions: [Action] = []
        for pod in s.pods.sorted(by: { storageCreationOrder($0.metadata, $1.metadata) }) {
            let node = pod.spec.nodeName ?? ""
            if pod.metadata.isDeleting {
                if node.isEmpty {
                    if (pod.metadata.finalizers ?? []).isEmpty {
                        actions.append(.delete(.pod, namespace: pod.namespace, name: pod.name, uid: pod.uid))
                    }
                } else if s.localNodes.contains(node) {
                    actions.append(.stopPod(pod, mounts: mounts(pod, node, index).compactMap { $0 }))
                }
                continue
            }
            guard s.localNodes.contains(node), pod.phase != "Running", !pod.storageIsTerminal else { continue }
            let resolved = mounts(pod, node, index)
            if resolved.allSatisfy({ $0 != nil }) {
                actions.append(.startPod(pod, mounts: resolved.compactMap { $0 }))
            }
        }
        return actions
    }

    /// One mount per persistentVolumeClaim volume, in the pod's order; nil where the claim is not Bound
    /// to an existing local volume that names it.
    static func mounts(_ pod: Pod, _ node: String, _ index: StorageIndex) -> [PodVolumeMount?] {
        pod.spec.claimVolumes.map { v in
            guard let claim = index.claim(pod.namespace, v.claim), claim.phase == "Bound",
                  let volumeName = claim.spec.volumeName, let pv = index.volumes[volumeName],
                  pv.spec.claimRef?.uid == claim.uid, let path = pv.spec.local?.path else { return nil }
            let modes = claim.spec.accessModes ?? []
            let readOnly = v.readOnly || (!modes.isEmpty && modes.allSatisfy { $0 == AccessMode.readOnlyMany.rawValue })
            return PodVolumeMount(volumeName: v.volume, claimName: claim.name, claimUID: claim.uid, persistentVolume: pv.name,
                                  node: node, backingPath: path, capacityBytes: pv.capacityBytes, readOnly: readOnly)
        }
    }
}
