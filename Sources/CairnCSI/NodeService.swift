import CairnCore
import CairnStore
import Foundation
import GRPCCore

/// CSI Node: the data path. NodeStageVolume attaches the volume to the node's FUSE session and binds
/// `<mount>/<volume id>` at the staging path; NodePublishVolume binds the staging path at the target
/// path (read-only when asked); stats and conditions come from the filesystem's own accounting;
/// NodeExpandVolume changes the enforced capacity at once. Each step is recorded in SQLite before it
/// is made, so a restarted driver makes the same mounts again.
struct NodeService: Csi_V1_Node.SimpleServiceProtocol {
    let state: DriverState

    static let capabilities: [Csi_V1_NodeServiceCapability.RPC.TypeEnum] = [
        .stageUnstageVolume, .getVolumeStats, .expandVolume, .volumeCondition, .singleNodeMultiWriter,
    ]

    static let podNameKey = "csi.storage.k8s.io/pod.name"
    static let podNamespaceKey = "csi.storage.k8s.io/pod.namespace"
    static let podUIDKey = "csi.storage.k8s.io/pod.uid"
    static let ephemeralKey = "csi.storage.k8s.io/ephemeral"

    func nodeGetCapabilities(request: Csi_V1_NodeGetCapabilitiesRequest, context: ServerContext) async throws
        -> Csi_V1_NodeGetCapabilitiesResponse
    {
        var response = Csi_V1_NodeGetCapabilitiesResponse()
        response.capabilities = Self.capabilities.map { type in
            var c = Csi_V1_NodeServiceCapability()
            c.rpc.type = type
            return c
        }
        return response
    }

    func nodeGetInfo(request: Csi_V1_NodeGetInfoRequest, context: ServerContext) async throws
        -> Csi_V1_NodeGetInfoResponse
    {
        var response = Csi_V1_NodeGetInfoResponse()
        response.nodeID = state.config.nodeID
        response.maxVolumesPerNode = state.config.maxVolumes
        response.accessibleTopology = Csi_V1_Topology(segments: NodeTopology.segments(node: state.config.nodeID))
        return response
    }

    // MARK: Stage

    func nodeStageVolume(request: Csi_V1_NodeStageVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_NodeStageVolumeResponse
    {
        let id = request.volumeID
        let capability: Capability
        let stagingPath: String
        do {
            guard !id.isEmpty else { throw CSIFailure.missing("volume_id") }
            stagingPath = try Self.absolutePath(request.stagingTargetPath, field: "staging_target_path")
            guard request.hasVolumeCapability else { throw CSIFailure.missing("volume_capability") }
            capability = try Self.nodeCapability(request.volumeCapability)
        } catch let f as CSIFailure { throw f.rpcError }
        return try await state.serve("NodeStageVolume", volume: id) { [state] in
            let volume = try state.volume(id)
            try state.checkContext(request.volumeContext, of: volume)
            let (existing, atPath, staged) = try state.store.read { r in
                (try r.csiStage(volumeID: id), try r.csiStage(stagingPath: stagingPath), try r.csiStages().count)
            }
            if let atPath, atPath.volumeID != id {
                throw CSIFailure(.failedPrecondition,
                    "staging_target_path \(stagingPath) is where volume \"\(atPath.volumeID)\" is staged")
            }
            let wanted = NodeRules.Stage(stagingPath: stagingPath, capability: capability)
            let decision = NodeRules.stage(volumeID: id, existing: try existing.map(Self.rule), request: wanted)
            let readOnly = capability.mode.isReadOnly
            switch decision {
            case .refuse(let failure):
                throw failure
            case .alreadyDone:
                try state.volumes.attach(volume)
                try state.volumes.bind(source: state.volumes.source(of: id), target: stagingPath, readOnly: readOnly)
            case .proceed:
                if state.config.maxVolumes > 0, staged >= state.config.maxVolumes {
                    throw CSIFailure(.resourceExhausted,
                        "node \(state.config.nodeID) already has \(staged) volumes staged, its limit (--max-volumes)")
                }
                try state.store.write { w in
                    try w.insertCSIStage(CSIStageRecord(
                        volumeID: id, stagingPath: stagingPath, capability: capability.description,
                        accessMode: capability.mode.description, readOnly: readOnly, stagedAt: Time(Date())))
                }
                do {
                    try state.volumes.attach(volume)
                    try state.volumes.bind(source: state.volumes.source(of: id), target: stagingPath, readOnly: readOnly)
                } catch {
                    // Undo what this call did, so the record never claims a stage that is not there.
                    try? state.volumes.unmountAll(stagingPath)
                    try? state.volumes.detach(id)
                    try? state.store.write { w in try w.deleteCSIStage(volumeID: id) }
                    throw error
                }
            }
            return Csi_V1_NodeStageVolumeResponse()
        }
    }

    func nodeUnstageVolume(request: Csi_V1_NodeUnstageVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_NodeUnstageVolumeResponse
    {
        let id = request.volumeID
        let stagingPath: String
        do {
            guard !id.isEmpty else { throw CSIFailure.missing("volume_id") }
            stagingPath = try Self.absolutePath(request.stagingTargetPath, field: "staging_target_path")
        } catch let f as CSIFailure { throw f.rpcError }
        return try await state.serve("NodeUnstageVolume", volume: id) { [state] in
            let volume = try state.volume(id)
            guard let stage = try state.store.read({ try $0.csiStage(volumeID: id) }), stage.stagingPath == stagingPath else {
                // Not staged there: success, after making sure nothing of this volume is left mounted.
                if NodeVolumes.sameInode(state.volumes.source(of: id), stagingPath) {
                    try state.volumes.unmountAll(stagingPath)
                }
                return Csi_V1_NodeUnstageVolumeResponse()
            }
            let targets = try state.store.read { try $0.csiPublications(volumeID: id) }.map(\.targetPath)
            if !targets.isEmpty {
                throw CSIFailure(.failedPrecondition,
                    "volume \"\(id)\" is still published at \(targets.joined(separator: ", ")); unpublish it first")
            }
            try state.volumes.unmountAll(stagingPath)
            if let usage = state.volumes.usage(id) {
                try state.store.write { w in
                    try w.recordUsage(volume: id, used: usage.usedBytes, capacity: usage.capacityBytes, at: Time(Date()))
                }
            }
            do {
                try state.volumes.detach(id)
            } catch {
                throw CSIFailure(.failedPrecondition, "volume \"\(volume.volumeID)\" is unmounted from \(stagingPath) "
                    + "but cannot leave the FUSE session yet: \(error); retry once the processes using it have exited")
            }
            try state.store.write { w in try w.deleteCSIStage(volumeID: id) }
            return Csi_V1_NodeUnstageVolumeResponse()
        }
    }

    // MARK: Publish

    func nodePublishVolume(request: Csi_V1_NodePublishVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_NodePublishVolumeResponse
    {
        let id = request.volumeID
        let capability: Capability
        let targetPath: String
        do {
            guard !id.isEmpty else { throw CSIFailure.missing("volume_id") }
            targetPath = try Self.absolutePath(request.targetPath, field: "target_path")
            guard request.hasVolumeCapability else { throw CSIFailure.missing("volume_capability") }
            capability = try Self.nodeCapability(request.volumeCapability)
            if request.volumeContext[Self.ephemeralKey] == "true" {
                throw CSIFailure.invalid("volume_context[\"\(Self.ephemeralKey)\"]",
                    "Cairn serves persistent volumes only (CSIDriver volumeLifecycleModes: Persistent); use a PersistentVolumeClaim")
            }
        } catch let f as CSIFailure { throw f.rpcError }
        return try await state.serve("NodePublishVolume", volume: id) { [state] in
            let volume = try state.volume(id)
            try state.checkContext(request.volumeContext, of: volume)
            guard !request.stagingTargetPath.isEmpty else {
                throw CSIFailure(.failedPrecondition,
                    "staging_target_path is not set; this driver has STAGE_UNSTAGE_VOLUME, so NodeStageVolume comes first")
            }
            let stagingPath = try Self.absolutePath(request.stagingTargetPath, field: "staging_target_path")
            let (stage, atTarget, others) = try state.store.read { r in
                (try r.csiStage(volumeID: id), try r.csiPublication(targetPath: targetPath), try r.csiPublications(volumeID: id))
            }
            let readOnly = request.readonly || capability.mode.isReadOnly
            let wanted = NodeRules.Publication(volumeID: id, targetPath: targetPath, capability: capability, readOnly: readOnly)
            let decision = NodeRules.publish(stage: try stage.map(Self.rule), requestedStagingPath: stagingPath,
                                             atTarget: try atTarget.map(Self.rule), others: try others.map(Self.rule),
                                             request: wanted)
            switch decision {
            case .refuse(let failure):
                throw failure
            case .alreadyDone:
                try state.volumes.bind(source: stagingPath, target: targetPath, readOnly: readOnly)
            case .proceed:
                let context = request.volumeContext
                try state.store.write { w in
                    try w.insertCSIPublication(CSIPublicationRecord(
                        targetPath: targetPath, volumeID: id, capability: capability.description,
                        accessMode: capability.mode.description, readOnly: readOnly,
                        podNamespace: context[Self.podNamespaceKey], podName: context[Self.podNameKey],
                        podUID: context[Self.podUIDKey], publishedAt: Time(Date())))
                }
                do {
                    try state.volumes.bind(source: stagingPath, target: targetPath, readOnly: readOnly)
                } catch {
                    try? state.volumes.unmountAll(targetPath)
                    try? state.volumes.removeTarget(targetPath)
                    try? state.store.write { w in try w.deleteCSIPublication(targetPath: targetPath) }
                    throw error
                }
                try state.store.write { w in
                    try state.recordHistory(w, volume, .mounted, pod: context[Self.podNameKey],
                                            detail: "\(targetPath)\(readOnly ? " (read-only)" : "")")
                }
            }
            return Csi_V1_NodePublishVolumeResponse()
        }
    }

    func nodeUnpublishVolume(request: Csi_V1_NodeUnpublishVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_NodeUnpublishVolumeResponse
    {
        let id = request.volumeID
        let targetPath: String
        do {
            guard !id.isEmpty else { throw CSIFailure.missing("volume_id") }
            targetPath = try Self.absolutePath(request.targetPath, field: "target_path")
        } catch let f as CSIFailure { throw f.rpcError }
        return try await state.serve("NodeUnpublishVolume", volume: id) { [state] in
            let volume = try state.volume(id)
            let publication = try state.store.read { try $0.csiPublication(targetPath: targetPath) }
            guard let publication, publication.volumeID == id else {
                // Nothing recorded: success, after removing what a publish of this volume may have left.
                if NodeVolumes.sameInode(state.volumes.source(of: id), targetPath) {
                    try state.volumes.unmountAll(targetPath)
                    try? state.volumes.removeTarget(targetPath)
                }
                return Csi_V1_NodeUnpublishVolumeResponse()
            }
            try state.volumes.unmountAll(targetPath)
            try state.volumes.removeTarget(targetPath)
            try state.store.write { w in
                try w.deleteCSIPublication(targetPath: targetPath)
                try state.recordHistory(w, volume, .unmounted, pod: publication.podName, detail: targetPath)
            }
            return Csi_V1_NodeUnpublishVolumeResponse()
        }
    }

    // MARK: Stats and expansion

    func nodeGetVolumeStats(request: Csi_V1_NodeGetVolumeStatsRequest, context: ServerContext) async throws
        -> Csi_V1_NodeGetVolumeStatsResponse
    {
        let id = request.volumeID
        guard !id.isEmpty else { throw CSIFailure.missing("volume_id").rpcError }
        guard !request.volumePath.isEmpty else { throw CSIFailure.missing("volume_path").rpcError }
        return try await state.serve("NodeGetVolumeStats") { [state] in
            _ = try state.volume(id)
            let path = try Self.mountedPath(state, volumeID: id, request.volumePath)
            var response = Csi_V1_NodeGetVolumeStatsResponse()
            let condition = state.volumes.condition(volumeID: id, path: path)
            response.volumeCondition.abnormal = condition.abnormal
            response.volumeCondition.message = condition.message
            if let usage = state.volumes.usage(id) {
                var bytes = Csi_V1_VolumeUsage()
                bytes.unit = .bytes
                bytes.total = usage.capacityBytes
                bytes.used = usage.usedBytes
                bytes.available = max(0, usage.capacityBytes - usage.usedBytes)
                response.usage.append(bytes)
                if !condition.abnormal, let inodes = NodeVolumes.inodes(path) {
                    var files = Csi_V1_VolumeUsage()
                    files.unit = .inodes
                    files.total = inodes.total
                    files.available = inodes.free
                    files.used = max(0, inodes.total - inodes.free)
                    response.usage.append(files)
                }
                try state.store.write { w in
                    try w.recordUsage(volume: id, used: usage.usedBytes, capacity: usage.capacityBytes, at: Time(Date()))
                }
            }
            return response
        }
    }

    func nodeExpandVolume(request: Csi_V1_NodeExpandVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_NodeExpandVolumeResponse
    {
        let id = request.volumeID
        do {
            guard !id.isEmpty else { throw CSIFailure.missing("volume_id") }
            guard !request.volumePath.isEmpty else { throw CSIFailure.missing("volume_path") }
            if request.hasVolumeCapability { _ = try Self.nodeCapability(request.volumeCapability) }
        } catch let f as CSIFailure { throw f.rpcError }
        let range = request.hasCapacityRange ? CapacityRange(request.capacityRange) : CapacityRange()
        return try await state.serve("NodeExpandVolume", volume: id) { [state] in
            _ = try state.volume(id)
            _ = try Self.mountedPath(state, volumeID: id, request.volumePath)
            let bytes = try state.store.write { w -> Int64 in
                guard let volume = try w.csiVolume(id: id) else { throw CSIFailure.unknownVolume(id) }
                let target = try CapacityRules.expandedSize(current: volume.capacityBytes, range: range).orThrow()
                if target > volume.capacityBytes {
                    if let room = CapacityRules.room(for: target - volume.capacityBytes, free: try state.free(w),
                                                     node: state.config.nodeID, code: .outOfRange,
                                                     what: "growing volume \"\(id)\" to \(target) bytes") {
                        throw room
                    }
                    try w.setCSIVolumeCapacity(id: id, bytes: target)
                }
                return target
            }
            // Takes effect at once: the next write is checked against the new capacity, df shows it.
            try state.volumes.setCapacity(id, bytes: bytes)
            var response = Csi_V1_NodeExpandVolumeResponse()
            response.capacityBytes = bytes
            return response
        }
    }

    // MARK: Helpers

    /// The staging or target path of the volume that `path` names; NOT_FOUND if it is neither (the
    /// spec's "volume does not exist on the specified path").
    static func mountedPath(_ state: DriverState, volumeID id: String, _ path: String) throws -> String {
        let clean = normalized(path)
        let (stage, publications) = try state.store.read { r in (try r.csiStage(volumeID: id), try r.csiPublications(volumeID: id)) }
        if stage?.stagingPath == clean || publications.contains(where: { $0.targetPath == clean }) { return clean }
        let known = ([stage?.stagingPath].compactMap { $0 } + publications.map(\.targetPath))
        throw CSIFailure(.notFound, "volume \"\(id)\" is not staged or published at \(path)"
            + (known.isEmpty ? " (it is not staged on this node)" : "; it is at \(known.joined(separator: ", "))"))
    }

    /// A capability in a Node call: a multi-node mode is "not supported by the volume"
    /// (FAILED_PRECONDITION, the spec's "exceeds capabilities"); a malformed one is INVALID_ARGUMENT.
    static func nodeCapability(_ c: Csi_V1_VolumeCapability) throws -> Capability {
        let request = CapabilityRequest(c)
        if let number = request.accessMode, let mode = AccessMode(rawValue: number), !mode.isSingleNode {
            throw CSIFailure(.failedPrecondition,
                "volume_capability.access_mode.mode: \(mode) exceeds what a Cairn volume offers: it lives on one node")
        }
        return try CapabilityRules.check(request, field: "volume_capability").orThrow()
    }

    static func absolutePath(_ path: String, field: String) throws -> String {
        guard !path.isEmpty else { throw CSIFailure.missing(field) }
        guard path.hasPrefix("/") else { throw CSIFailure.invalid(field, "\"\(path)\" is not an absolute path") }
        guard !path.utf8.contains(0) else { throw CSIFailure.invalid(field, "contains a NUL byte") }
        let clean = normalized(path)
        guard clean != "/", !clean.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw CSIFailure.invalid(field, "\"\(path)\" must name a directory below / without . or .. components")
        }
        return clean
    }

    /// Without repeated or trailing slashes, so the same path is always the same key.
    static func normalized(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return path.hasPrefix("/") ? "/" + parts.joined(separator: "/") : parts.joined(separator: "/")
    }

    static func rule(_ s: CSIStageRecord) throws -> NodeRules.Stage {
        NodeRules.Stage(stagingPath: s.stagingPath, capability: Capability(mode: try mode(s.accessMode)))
    }

    static func rule(_ p: CSIPublicationRecord) throws -> NodeRules.Publication {
        NodeRules.Publication(volumeID: p.volumeID, targetPath: p.targetPath, capability: Capability(mode: try mode(p.accessMode)),
                              readOnly: p.readOnly)
    }

    static func mode(_ name: String) throws -> AccessMode {
        guard let mode = AccessMode(name: name) else {
            throw CSIFailure(.internal, "the store holds an unknown access mode \"\(name)\"")
        }
        return mode
    }
}
