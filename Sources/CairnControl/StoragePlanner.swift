import CairnCore

/// The PersistentVolume controller (kubernetes `pkg/controller/volume/persistentvolume/pv_controller.go`)
/// together with Cairn's own provisioner `cairn.io/local-path` (the part sig-storage-lib-external-provisioner
/// and external-provisioner play upstream) and the pvc-protection and pv-protection controllers.
///
/// A plan takes the claims and volumes it is given (the keys whose objects changed, or all of them at a
/// resync): claims oldest first, then volumes not already written by the claim pass. Nothing is
/// remembered between plans: a restart, or a crash between two actions, is just another plan.
/// Every object is written at most once per plan, because each `.update` carries the resourceVersion it
/// was read at.
///
/// Where a provisioned volume goes:
/// - `WaitForFirstConsumer`: on the node the scheduler chose (`volume.kubernetes.io/selected-node`).
/// - `Immediate`: by the class's `placement` parameter. `spread` (default) takes the node with the most
///   free storage; `pack` the node with the least free storage that still fits the request. Ties go to
///   the node whose name sorts first. Free storage is the node's allocatable `ephemeral-storage` minus
///   every PV on it that is not being deleted, minus requests already promised to the node
///   (see `StorageLedger`). The sum of volumes placed on a node never exceeds its allocatable storage.
public enum StoragePlanner {
    /// Every claim and volume of the snapshot.
    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now)
    }

    /// The claims and volumes among `keys` (other kinds are ignored).
    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time) -> [Action] {
        var sync = StorageSync(index, now: now)
        let claims = keys.filter { $0.kind == .persistentVolumeClaim }.compactMap { index.claims[$0.key] }
        let volumes = keys.filter { $0.kind == .persistentVolume }.map(\.key.name)
        return sync.plan(claims: claims, volumes: volumes)
    }

    /// Every key this planner plans at a resync.
    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.claims.keys.map { ObjectRef(.persistentVolumeClaim, $0) } + index.volumes.keys.map { ObjectRef(.persistentVolume, NamespacedName(nil, $0)) }
    }
}

struct StorageSync {
    let index: ClusterIndex
    let now: Time
    var ledger: StorageLedger
    var actions: [Action] = []
    /// PVs the claim pass handled (bound, checked or created): the volume pass leaves them alone.
    var writtenVolumes: Set<String> = []
    /// PVs as this plan leaves them, where the claim pass changed them.
    var plannedVolumes: [String: PersistentVolume] = [:]

    init(_ index: ClusterIndex, now: Time) {
        self.index = index
        self.now = now
        self.ledger = index.plannableLedger
    }

    mutating func plan(claims: [PersistentVolumeClaim], volumes: [String]) -> [Action] {
        for claim in claims.sorted(by: { storageCreationOrder($0.metadata, $1.metadata) }) { syncClaim(claim) }
        for name in Set(volumes).sorted() where !writtenVolumes.contains(name) {
            if let pv = index.volumes[name] { syncVolume(pv) }
        }
        return actions
    }

    // MARK: claims

    mutating func syncClaim(_ claim: PersistentVolumeClaim) {
        if claim.metadata.isDeleting {
            releaseProtection(claim)
        } else if claim.metadata.annotation(Well.bindCompleted) != nil {
            syncBoundClaim(claim)
        } else {
            syncUnboundClaim(claim)
        }
    }

    /// pvc-protection: a claim being deleted loses its finalizer once no scheduled, unfinished pod uses
    /// it (pvc_protection_controller podUsesPVC: pods not yet scheduled do not hold the claim).
    mutating func releaseProtection(_ claim: PersistentVolumeClaim) {
        guard claim.metadata.hasFinalizer(Well.pvcProtection) else { return }
        let inUse = index.podsUsing(claim.key).contains { pod in
            !(pod.spec.nodeName ?? "").isEmpty && !pod.storageIsTerminal
        }
        if inUse { return }
        var updated = claim
        updated.metadata.removeFinalizer(Well.pvcProtection)
        actions.append(.update(updated))
    }

    /// syncBoundClaim: the claim was bound once (bind-completed); keep both sides Bound or mark it Lost.
    mutating func syncBoundClaim(_ claim: PersistentVolumeClaim) {
        guard let volumeName = claim.spec.volumeName, !volumeName.isEmpty else {
            return lose(claim, reason: "ClaimLost",
                        message: "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
        }
        guard let pv = index.volumes[volumeName] else {
            return lose(claim, reason: "ClaimLost", message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
        }
        if let ref = pv.spec.claimRef, ref.uid != claim.uid {
            return lose(claim, reason: "ClaimMisbound", message: "Two claims are bound to the same volume, this one is bound incorrectly")
        }
        bind(pv, claim)
    }

    mutating func lose(_ claim: PersistentVolumeClaim, reason: String, message: String) {
        guard claim.phase != .lost else { return }
        var updated = claim
        var status = updated.status ?? PersistentVolumeClaimStatus()
        status.phase = .lost
        status.accessModes = nil
        status.capacity = nil
        updated.status = status
        actions.append(.update(updated))
        actions.append(storageEvent(claim, .warning, reason, message))
        actions.append(.history(.lost, claim: claim.reference(), volume: claim.spec.volumeName, node: nil, pod: nil, detail: message))
    }

    /// syncUnboundClaim: bind a requested or matching volume, else provision one, else say why not.
    mutating func syncUnboundClaim(_ claim: PersistentVolumeClaim) {
        if let volumeName = claim.spec.volumeName, !volumeName.isEmpty {
            return syncRequestedVolume(claim, volumeName)
        }
        let selectedNode = claim.metadata.annotation(Well.selectedNode)
        // A volume that already names this claim (pre-bound, or just provisioned for it) wins.
        if let pv = index.volumeReferencing(claim), !writtenVolumes.contains(pv.name) {
            guard pv.metadata.annotation(Well.provisionedBy) == Well.provisioner else { return bind(pv, claim) }
            return bind(pv, claim, extraClaimEdits: { c in
                c.metadata.setAnnotation(Well.storageProvisioner, Well.provisioner)
                c.metadata.setAnnotation(Well.betaStorageProvisioner, Well.provisioner)
            })
        }
        let delayBinding = index.isDelayBinding(claim)
        // The PV controller leaves delayed claims to the scheduler until it has picked a node.
        if !delayBinding || selectedNode != nil, let pv = bestMatch(for: claim, on: selectedNode) {
            return bind(pv, claim)
        }

        let className = claim.spec.storageClassName ?? ""
        if claim.spec.storageClassName == nil, let def = index.defaultClass {
            // assignDefaultStorageClass: a default class created after the claim is given to it.
            var updated = claim
            updated.spec.storageClassName = def.name
            actions.append(.update(updated))
            return
        }
        if className.isEmpty {
            return reportPending(claim, .normal, "FailedBinding",
                                 "no persistent volumes available for this claim and no storage class is set")
        }
        guard let storageClass = index.classes[className] else {
            return reportPending(claim, .warning, "ProvisioningFailed",
                                 "storageclass.storage.k8s.io \(StorageText.quoted(className)) not found")
        }
        if delayBinding && selectedNode == nil {
            return waitForConsumer(claim)
        }
        if storageClass.provisioner != Well.provisioner {
            return reportPending(claim, .normal, "ExternalProvisioning",
                                 "Waiting for a volume to be created either by the external provisioner '\(storageClass.provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
                                 provisioner: storageClass.provisioner)
        }
        provision(claim, storageClass, selectedNode: selectedNode)
    }

    /// The claim names its volume (spec.volumeName): bind to that one only.
    mutating func syncRequestedVolume(_ claim: PersistentVolumeClaim, _ volumeName: String) {
        // A volume that does not exist yet may still be created: wait quietly, as upstream does.
        guard let pv = plannedVolumes[volumeName] ?? index.volumes[volumeName] else { return }
        guard let ref = pv.spec.claimRef else {
            if let problem = Self.unsatisfied(pv, by: claim) {
                return reportPending(claim, .warning, "VolumeMismatch",
                                     "Cannot bind to requested volume \(StorageText.quoted(pv.name)): \(problem)")
            }
            return bind(pv, claim)
        }
        if Self.refers(ref, to: claim) { return bind(pv, claim) }
        reportPending(claim, .warning, "FailedBinding", "volume \(StorageText.quoted(pv.name)) already bound to a different claim.")
    }

    /// IsVolumeBoundToClaim: the claimRef names the claim, and its uid (when set) is the claim's.
    static func refers(_ ref: ObjectReference, to claim: PersistentVolumeClaim) -> Bool {
        ref.name == claim.name && (ref.namespace ?? "") == (claim.namespace ?? "")
            && ((ref.uid ?? "").isEmpty || ref.uid == claim.uid)
    }

    /// checkVolumeSatisfyClaim, with upstream's wording.
    static func unsatisfied(_ pv: PersistentVolume, by claim: PersistentVolumeClaim) -> String? {
        if pv.metadata.isDeleting { return "the volume is marked for deletion \(StorageText.quoted(pv.name))" }
        if pv.capacityBytes < (claim.requestBytes ?? 0) { return "requested PV is too small" }
        if (pv.spec.storageClassName ?? "") != (claim.spec.storageClassName ?? "") { return "storageClassName does not match" }
        if (pv.spec.volumeMode ?? "Filesystem") != (claim.spec.volumeMode ?? "Filesystem") { return "incompatible volumeMode" }
        if !Set(pv.spec.accessModes ?? []).isSuperset(of: claim.spec.accessModes ?? []) { return "incompatible accessMode" }
        return nil
    }

    /// findBestMatchForClaim: the smallest Available, unclaimed volume of the claim's class whose
    /// capacity, access modes, volume mode and labels (claim.spec.selector) fit; ties by name. With a
    /// selected node, only volumes on that node.
    func bestMatch(for claim: PersistentVolumeClaim, on node: String?) -> PersistentVolume? {
        guard let selector = ClusterIndex.volumeSelector(claim) else { return nil }
        let request = claim.requestBytes ?? 0
        let modes = Set(claim.spec.accessModes ?? [])
        let mode = claim.spec.volumeMode ?? "Filesystem"
        for pv in index.availableVolumes(class: claim.spec.storageClassName ?? "") {
            guard (index.volumeBytes[pv.name] ?? 0) >= request, pv.phase == .available, pv.spec.claimRef == nil,
                  !pv.metadata.isDeleting, !writtenVolumes.contains(pv.name),
                  (pv.spec.volumeMode ?? "Filesystem") == mode,
                  Set(pv.spec.accessModes ?? []).isSuperset(of: modes),
                  selector.matches(pv.metadata.labels ?? [:]) else { continue }
            if let node, index.volumeNode[pv.name] != node { continue }
            return pv
        }
        return nil
    }

    /// emitEventForUnboundDelayBindingClaim: name the pods the claim waits for, if any exist.
    mutating func waitForConsumer(_ claim: PersistentVolumeClaim) {
        let waiting = index.podsUsing(claim.key)
            .filter { ($0.spec.nodeName ?? "").isEmpty && !$0.storageIsTerminal }
            .map(\.name).sorted()
        switch waiting.count {
        case 0: reportPending(claim, .normal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
        case 1: reportPending(claim, .normal, "WaitForPodScheduled", "waiting for pod \(waiting[0]) to be scheduled")
        default: reportPending(claim, .normal, "WaitForPodScheduled", "waiting for pods \(waiting.joined(separator: ",")) to be scheduled")
        }
    }

    /// A claim stays Pending: record why on the claim and emit the event, once per change of decision.
    /// `provisioner` also sets the storage-provisioner annotations, as the PV controller does before it
    /// hands a claim to an external provisioner.
    mutating func reportPending(_ claim: PersistentVolumeClaim, _ type: EventType, _ reason: String, _ message: String,
                                provisioner: String? = nil, source: String? = nil) {
        var updated = claim
        updated.metadata.setAnnotation(Well.lastStorageEvent, "\(type.rawValue) \(reason): \(message)")
        if let provisioner {
            updated.metadata.setAnnotation(Well.storageProvisioner, provisioner)
            updated.metadata.setAnnotation(Well.betaStorageProvisioner, provisioner)
        }
        if claim.status?.phase != .pending {
            var status = updated.status ?? PersistentVolumeClaimStatus()
            status.phase = .pending
            updated.status = status
        }
        guard updated != claim else { return }
        actions.append(.update(updated))
        if updated.metadata.annotation(Well.lastStorageEvent) != claim.metadata.annotation(Well.lastStorageEvent) {
            actions.append(storageEvent(claim, type, reason, message, source: source))
        }
    }

    // MARK: binding

    /// bind(): the volume's claimRef and phase, then the claim's volumeName, annotations and status.
    /// Writes only what differs, so binding a bound pair plans nothing.
    mutating func bind(_ pv: PersistentVolume, _ claim: PersistentVolumeClaim, extraClaimEdits: ((inout PersistentVolumeClaim) -> Void)? = nil) {
        var volume = pv
        if let ref = volume.spec.claimRef, ref.uid == claim.uid, ref.name == claim.name, ref.namespace == claim.namespace {
            // Already ours; resourceVersion in claimRef is informational and not rewritten.
        } else {
            volume.spec.claimRef = claim.reference()
            volume.metadata.setAnnotation(Well.boundByController, "yes")
        }
        if volume.status?.phase != .bound {
            var status = volume.status ?? PersistentVolumeStatus()
            status.phase = .bound
            status.message = nil
            volume.status = status
        }
        if volume != pv { actions.append(.update(volume)) }
        writtenVolumes.insert(pv.name)
        plannedVolumes[pv.name] = volume

        var updated = claim
        if updated.spec.volumeName != pv.name {
            updated.spec.volumeName = pv.name
            updated.metadata.setAnnotation(Well.boundByController, "yes")
        }
        updated.metadata.setAnnotation(Well.bindCompleted, "yes")
        updated.metadata.setAnnotation(Well.lastStorageEvent, nil)
        extraClaimEdits?(&updated)
        var status = updated.status ?? PersistentVolumeClaimStatus()
        if status.accessModes != pv.spec.accessModes { status.accessModes = pv.spec.accessModes }
        // Capacity is set as the claim becomes Bound, not rewritten afterwards (updateClaimStatus).
        if status.phase != .bound || status.capacity?["storage"] == nil { status.capacity = pv.spec.capacity }
        status.phase = .bound
        updated.status = status
        if updated != claim {
            actions.append(.update(updated))
            if claim.status?.phase != .bound {
                actions.append(.history(.bound, claim: claim.reference(), volume: pv.name, node: index.volumeNode[pv.name],
                                        pod: nil, detail: nil))
            }
        }
    }

    // MARK: provisioning

    /// Cairn's provisioner: pick the node, create the directory and the PV (already bound to the claim
    /// by claimRef), then bind the claim to it in the same sync.
    mutating func provision(_ claim: PersistentVolumeClaim, _ storageClass: StorageClass, selectedNode: String?) {
        let fail = { (why: String) -> String in
            "failed to provision volume with StorageClass \(StorageText.quoted(storageClass.name)): \(why)"
        }
        let work = NodeWork.provision(claimUID: claim.uid)
        // Its directory is being made: the volume follows, and the claim is bound to it then.
        if index.observed.inFlight.contains(work) { return }
        if let failure = index.observed.failures[work], !failure.mayRetry(now: now) {
            reportPending(claim, .warning, "ProvisioningFailed", fail(failure.message), source: Well.provisioner)
            actions.append(.recheck(ObjectRef(.persistentVolumeClaim, claim.key), afterSeconds: failure.retryAfterSeconds))
            return
        }
        guard let request = claim.spec.requestedStorage, let bytes = request.bytes, bytes > 0 else {
            return reportPending(claim, .warning, "ProvisioningFailed", fail("the claim requests no storage (spec.resources.requests.storage)"),
                                 source: Well.provisioner)
        }
        let node: String
        switch choose(bytes, request: request, claim: claim, storageClass: storageClass, selectedNode: selectedNode) {
        case .failure(let why): return reportPending(claim, .warning, "ProvisioningFailed", fail(why.message), source: Well.provisioner)
        case .success(let n): node = n
        }
        guard let nodeObject = index.nodes[node], let dataRoot = nodeObject.metadata.annotation(Node.dataRootAnnotation) else {
            return reportPending(claim, .warning, "ProvisioningFailed", fail("node \(StorageText.quoted(node)) has no \(Node.dataRootAnnotation) annotation"),
                                 source: Well.provisioner)
        }
        let ns = claim.namespace ?? ""
        let name = "pvc-\(claim.uid)"
        let mode = storageClass.parameters?["dirMode"].flatMap(Validation.parseDirMode) ?? 0o777
        let directory = VolumeDirectorySpec(node: node, dataRoot: dataRoot, name: "\(name)_\(ns)_\(claim.name)", mode: mode)

        var pv = PersistentVolume(metadata: ObjectMeta(name: name, annotations: [Well.provisionedBy: Well.provisioner]),
                                  spec: PersistentVolumeSpec())
        pv.setTypeMeta()
        pv.metadata.finalizers = [Well.pvProtection]
        pv.spec.capacity = ["storage": request]
        pv.spec.accessModes = claim.spec.accessModes
        pv.spec.persistentVolumeReclaimPolicy = storageClass.effectiveReclaimPolicy
        pv.spec.storageClassName = storageClass.name
        pv.spec.claimRef = claim.reference()
        pv.spec.local = LocalVolumeSource(path: directory.path)
        let hostname = nodeObject.metadata.labels?[Well.hostnameLabel] ?? node
        pv.spec.nodeAffinity = VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: Well.hostnameLabel, operator: "In", values: [hostname])]),
        ]))
        pv.spec.volumeMode = "Filesystem"
        var status = PersistentVolumeStatus()
        status.phase = .bound
        pv.status = status

        ledger.settle(claimUID: claim.uid, node: node, bytes: bytes)
        actions.append(storageEvent(claim, .normal, "Provisioning",
                                    "External provisioner is provisioning volume for claim \(StorageText.quoted("\(ns)/\(claim.name)"))",
                                    source: Well.provisioner))
        // The claim is bound once the volume exists (the next plan finds it by its claimRef).
        actions.append(.provision(volume: pv, directory: directory, succeeded: [
            storageEvent(claim, .normal, "ProvisioningSucceeded", "Successfully provisioned volume \(name)", source: Well.provisioner),
            .history(.provisioned, claim: claim.reference(), volume: name, node: node, pod: nil, detail: directory.path),
        ]))
    }

    struct NoRoom: Error { var message: String }

    /// The node for a new volume of `bytes`: the selected one if it has room, else by placement.
    func choose(_ bytes: Int64, request: Quantity, claim: PersistentVolumeClaim, storageClass: StorageClass,
                selectedNode: String?) -> Result<String, NoRoom> {
        if let node = selectedNode {
            guard index.nodes[node] != nil else { return .failure(NoRoom(message: "node \(StorageText.quoted(node)) not found")) }
            let free = ledger.free(node, for: claim.uid)
            guard free >= bytes else {
                return .failure(NoRoom(message: "node \(StorageText.quoted(node)) does not have \(request) of free storage (\(StorageText.bytes(max(free, 0))) free)"))
            }
            return .success(node)
        }
        let usable = index.nodeNames.filter { index.dataRoots[$0] != nil }
        let fitting = usable.filter { ledger.free($0) >= bytes }
        let pack = storageClass.parameters?["placement"] == "pack"
        // nodeNames is sorted, so the first extreme found is the one whose name sorts first.
        var best: String?
        for node in fitting {
            guard let current = best else { best = node; continue }
            let f = ledger.free(node), c = ledger.free(current)
            if pack ? f < c : f > c { best = node }
        }
        if let best { return .success(best) }
        let detail = index.nodeNames.map { node in
            usable.contains(node) ? "\(node): \(StorageText.bytes(max(ledger.free(node), 0))) free"
                                  : "\(node): no \(Node.dataRootAnnotation) annotation"
        }
        let why = index.nodeNames.isEmpty ? "no node has \(request) of free storage (no nodes)"
                                          : "no node has \(request) of free storage (\(detail.joined(separator: ", ")))"
        return .failure(NoRoom(message: why))
    }

    // MARK: volumes

    /// syncVolume for a PV the claim pass did not write.
    mutating func syncVolume(_ pv: PersistentVolume) {
        let ref = pv.spec.claimRef
        let uid = ref?.uid ?? ""
        let claim = ref.flatMap { index.claim($0.namespace, $0.name ?? "") }.flatMap { $0.uid == uid ? $0 : nil }
        let claimGone = !uid.isEmpty && claim == nil
        if pv.metadata.isDeleting {
            // Deleting a released volume still reclaims it; otherwise pv-protection lets it go once unbound.
            if claimGone && reclaim(pv) == .deleteDirectory { return reclaimDelete(pv) }
            return releaseVolumeProtection(pv, bound: !claimGone && pv.phase == .bound)
        }
        if uid.isEmpty {
            // Unused, or pre-bound to a claim that has not bound yet.
            return setPhase(pv, .available)
        }
        guard let claim else { return released(pv) }
        let claimVolume = claim.spec.volumeName ?? ""
        if claimVolume.isEmpty { return }   // the claim pass binds it
        if claimVolume == pv.name { return setPhase(pv, .bound) }
        // The claim is bound to another volume.
        if pv.metadata.annotation(Well.provisionedBy) != nil && pv.spec.persistentVolumeReclaimPolicy == "Delete" {
            return released(pv)
        }
        var updated = pv
        if pv.metadata.annotation(Well.boundByController) != nil {
            updated.spec.claimRef = nil
            updated.metadata.setAnnotation(Well.boundByController, nil)
        } else {
            updated.spec.claimRef?.uid = nil
        }
        var status = updated.status ?? PersistentVolumeStatus()
        status.phase = .available
        status.message = nil
        updated.status = status
        actions.append(.update(updated))
    }

    mutating func setPhase(_ pv: PersistentVolume, _ phase: VolumePhase) {
        guard pv.status?.phase != phase else { return }
        var updated = pv
        var status = updated.status ?? PersistentVolumeStatus()
        status.phase = phase
        status.message = nil
        updated.status = status
        actions.append(.update(updated))
    }

    enum Reclaim: Equatable {
        case retain, deleteDirectory, external
        case fail(reason: String, message: String)
    }

    /// What the reclaim policy does with a released volume.
    func reclaim(_ pv: PersistentVolume) -> Reclaim {
        switch pv.spec.persistentVolumeReclaimPolicy ?? "Retain" {
        case "Retain":
            return .retain
        case "Delete":
            switch pv.metadata.annotation(Well.provisionedBy) {
            case Well.provisioner?: return .deleteDirectory
            // A volume an administrator created: nothing may delete its data (local volumes have no
            // deleter upstream either).
            case nil: return .fail(reason: "VolumeFailedDelete", message: "no deletable volume plugin matched")
            // Another provisioner's volume: that provisioner deletes it.
            default: return .external
            }
        default:
            return .fail(reason: "VolumeUnknownReclaimPolicy", message: "Volume has unrecognized PersistentVolumeReclaimPolicy")
        }
    }

    /// The claim is gone: Released (kept with its claimRef, never bound again automatically), then the
    /// reclaim policy. A Failed volume keeps its phase while deletion is retried.
    mutating func released(_ pv: PersistentVolume) {
        let outcome = reclaim(pv)
        var volume = pv
        if case .fail(let reason, let message) = outcome {
            if pv.phase != .failed {
                // Released then Failed upstream; one write here, as each object is written once per plan.
                var status = volume.status ?? PersistentVolumeStatus()
                status.phase = .failed
                status.message = message
                volume.status = status
                actions.append(.update(volume))
                actions.append(storageEvent(pv, .warning, reason, message))
            }
        } else if pv.phase != .released && pv.phase != .failed {
            var status = volume.status ?? PersistentVolumeStatus()
            status.phase = .released
            status.message = nil
            volume.status = status
            actions.append(.update(volume))
        }
        if pv.phase != .released && pv.phase != .failed {
            actions.append(.history(.released, claim: claimReference(pv), volume: pv.name, node: index.volumeNode[pv.name],
                                    pod: nil, detail: pv.spec.persistentVolumeReclaimPolicy))
        }
        if outcome == .deleteDirectory { reclaimDelete(volume) }
    }

    mutating func reclaimDelete(_ pv: PersistentVolume) {
        if index.observed.inFlight.contains(.reclaim(volume: pv.name)) { return }
        actions.append(.reclaimDelete(volume: pv, directory: directory(of: pv)))
        // A Failed volume is a retry: its deletion was recorded when first attempted.
        if pv.phase != .failed {
            actions.append(.history(.deleted, claim: claimReference(pv), volume: pv.name, node: index.volumeNode[pv.name],
                                    pod: nil, detail: pv.spec.local?.path))
        }
    }

    /// pv-protection: a volume being deleted loses its finalizer once it is not bound to a claim.
    mutating func releaseVolumeProtection(_ pv: PersistentVolume, bound: Bool) {
        guard pv.metadata.hasFinalizer(Well.pvProtection), !bound else { return }
        var updated = pv
        updated.metadata.removeFinalizer(Well.pvProtection)
        actions.append(.update(updated))
    }

    func claimReference(_ pv: PersistentVolume) -> ObjectReference {
        pv.spec.claimRef ?? ObjectReference(apiVersion: "v1", kind: Kind.persistentVolumeClaim.rawValue)
    }

    /// The directory of a local volume, from its path: the data root is its parent.
    func directory(of pv: PersistentVolume) -> VolumeDirectorySpec {
        let path = pv.spec.local?.path ?? ""
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name = parts.popLast() ?? ""
        let root = parts.joined(separator: "/")
        return VolumeDirectorySpec(node: index.volumeNode[pv.name] ?? "", dataRoot: root.isEmpty ? "/" : root, name: name, mode: 0)
    }
}
