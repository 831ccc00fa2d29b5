import CairnCore

/// Online expansion of Cairn's volumes: what external-resizer (ControllerExpandVolume) and kubelet
/// (NodeExpandVolume) do for a CSI volume, for a claim whose request was raised above its capacity
/// (the API server has already checked that its class allows expansion and that it does not shrink):
///
/// 1. The node must have room for the difference (its free storage as the provisioner counts it).
///    If not: condition ControllerResizeError and a VolumeResizeFailed event (once per message), and
///    the claim keeps its size. Planned again when storage frees up.
/// 2. Room: the PersistentVolume's capacity is raised (which takes the storage on the node), the claim
///    gets status.allocatedResources and condition Resizing, with the events ExternalExpanding and
///    Resizing.
/// 3. The volume is grown: if a pod has it mounted, its filesystem (and kernel quota) is grown at once
///    (node work); one not mounted takes its new size when next attached.
/// 4. Done: status.capacity is the new size, the conditions go, the event FileSystemResizeSuccessful
///    (online) or VolumeResizeSuccessful (offline), and the binding history says `expanded`.
public enum ExpansionPlanner {
    public static let resizer = "external-resizer \(Well.provisioner)"
    public static let controllerResizeError = "ControllerResizeError"

    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now)
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.claims.keys.map { ObjectRef(.persistentVolumeClaim, $0) }
    }

    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time) -> [Action] {
        var ledger = index.plannableLedger
        let claims = keys.filter { $0.kind == .persistentVolumeClaim }.compactMap { index.claims[$0.key] }
        return claims.sorted { storageCreationOrder($0.metadata, $1.metadata) }.flatMap { plan(index, $0, now: now, ledger: &ledger) }
    }

    static func plan(_ index: ClusterIndex, _ claim: PersistentVolumeClaim, now: Time, ledger: inout StorageLedger) -> [Action] {
        guard !claim.metadata.isDeleting, claim.phase == .bound, let request = claim.spec.requestedStorage,
              let requested = request.bytes, let volumeName = claim.spec.volumeName, let pv = index.volumes[volumeName],
              pv.spec.claimRef?.uid == claim.uid, pv.metadata.annotation(Well.provisionedBy) == Well.provisioner else { return [] }
        let capacity = claim.status?.capacity?["storage"]?.bytes ?? pv.capacityBytes
        guard requested > capacity else { return [] }
        let node = index.volumeNode[pv.name] ?? ""
        if pv.capacityBytes < requested {
            return grow(pv, claim, request, node: node, now: now, ledger: &ledger)
        }
        // The volume has its new size; is the filesystem of a mounted one grown yet?
        let mounted = index.observed.mounted.values.contains { $0.mounts.contains { $0.persistentVolume == pv.name } }
        if mounted && (index.observed.resized[pv.name] ?? 0) < requested {
            let work = NodeWork.resize(volume: pv.name)
            if index.observed.inFlight.contains(work) { return [] }
            if let failure = index.observed.failures[work], !failure.mayRetry(now: now) {
                return [.recheck(ObjectRef(.persistentVolumeClaim, claim.key), afterSeconds: failure.retryAfterSeconds)]
            }
            return [.resizeVolume(volume: pv.name, node: node, bytes: requested)]
        }
        return finish(pv, claim, request, online: mounted, from: capacity, now: now, node: node)
    }

    /// Step 1 and 2.
    static func grow(_ pv: PersistentVolume, _ claim: PersistentVolumeClaim, _ request: Quantity, node: String, now: Time,
                     ledger: inout StorageLedger) -> [Action] {
        let more = (request.bytes ?? 0) - pv.capacityBytes
        let free = ledger.free(node)
        guard free >= more else {
            let message = "resize volume \(StorageText.quoted(pv.name)) by resizer \(StorageText.quoted(Well.provisioner)) failed: "
                + "node \(StorageText.quoted(node)) does not have \(StorageText.bytes(more)) of free storage for it "
                + "(\(StorageText.bytes(max(free, 0))) free)"
            guard claim.condition(controllerResizeError)?.message != message else { return [] }
            var updated = claim
            setCondition(&updated, PersistentVolumeClaimCondition(type: controllerResizeError, status: .true, message: message,
                                                                  lastTransitionTime: now))
            return [.update(updated), .event(object: claim.reference(), type: .warning, reason: "VolumeResizeFailed", message: message,
                                             source: resizer)]
        }
        ledger.take(node, more)
        var volume = pv
        volume.spec.capacity = ["storage": request]
        var updated = claim
        var status = updated.status ?? PersistentVolumeClaimStatus()
        status.allocatedResources = ["storage": request]
        status.conditions = status.conditions?.filter { $0.type != controllerResizeError }
        updated.status = status
        setCondition(&updated, PersistentVolumeClaimCondition(type: PersistentVolumeClaimCondition.resizing, status: .true,
                                                              lastTransitionTime: now))
        return [
            .update(volume),
            .update(updated),
            .event(object: claim.reference(), type: .normal, reason: "ExternalExpanding",
                   message: "waiting for an external controller to expand this PVC", source: "volume_expand"),
            .event(object: claim.reference(), type: .normal, reason: "Resizing",
                   message: "External resizer is resizing volume \(pv.name)", source: resizer),
        ]
    }

    /// Step 4.
    static func finish(_ pv: PersistentVolume, _ claim: PersistentVolumeClaim, _ request: Quantity, online: Bool, from: Int64,
                       now: Time, node: String) -> [Action] {
        var updated = claim
        var status = updated.status ?? PersistentVolumeClaimStatus()
        status.capacity = ["storage": request]
        status.allocatedResources = ["storage": request]
        status.conditions = status.conditions?.filter {
            $0.type != PersistentVolumeClaimCondition.resizing && $0.type != PersistentVolumeClaimCondition.fileSystemResizePending
                && $0.type != controllerResizeError
        }
        if status.conditions?.isEmpty == true { status.conditions = nil }
        updated.status = status
        let event: Action = online
            ? .event(object: claim.reference(), type: .normal, reason: "FileSystemResizeSuccessful",
                     message: "MountVolume.NodeExpandVolume succeeded for volume \(StorageText.quoted(pv.name)) \(node)",
                     source: Controller.kubelet.rawValue)
            : .event(object: claim.reference(), type: .normal, reason: "VolumeResizeSuccessful",
                     message: "ExpandVolume succeeded for volume \(claim.namespace ?? "")/\(claim.name)", source: resizer)
        return [.update(updated), event,
                .history(.expanded, claim: claim.reference(), volume: pv.name, node: node, pod: nil,
                         detail: "\(StorageText.bytes(from)) -> \(request)")]
    }

    static func setCondition(_ claim: inout PersistentVolumeClaim, _ condition: PersistentVolumeClaimCondition) {
        var status = claim.status ?? PersistentVolumeClaimStatus()
        var conditions = status.conditions ?? []
        if let i = conditions.firstIndex(where: { $0.type == condition.type }) {
            var c = condition
            if conditions[i].status == condition.status { c.lastTransitionTime = conditions[i].lastTransitionTime }
            conditions[i] = c
        } else {
            conditions.append(condition)
        }
        status.conditions = conditions
        claim.status = status
    }
}

extension PersistentVolumeClaim {
    public func condition(_ type: String) -> PersistentVolumeClaimCondition? { status?.conditions?.first { $0.type == type } }
}
