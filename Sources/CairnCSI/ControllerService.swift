import CairnCore
import CairnNode
import CairnStore
import Foundation
import GRPCCore
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// CSI Controller, run on every node beside external-provisioner in node-deployment mode: each node
/// provisions the claims scheduled to it, as directories under its own data root. The capacity of
/// every volume is promised from the node's storage (GetCapacity reports what is left, so the
/// scheduler avoids full nodes), and the decision and its record are one SQLite transaction.
struct ControllerService: Csi_V1_Controller.SimpleServiceProtocol {
    let state: DriverState

    static let capabilities: [Csi_V1_ControllerServiceCapability.RPC.TypeEnum] = [
        .createDeleteVolume, .listVolumes, .getCapacity, .expandVolume, .singleNodeMultiWriter,
    ]

    func controllerGetCapabilities(request: Csi_V1_ControllerGetCapabilitiesRequest, context: ServerContext)
        async throws -> Csi_V1_ControllerGetCapabilitiesResponse
    {
        var response = Csi_V1_ControllerGetCapabilitiesResponse()
        let offered = Self.capabilities.filter { $0 != .expandVolume || state.config.controllerExpansion }
        response.capabilities = offered.map { type in
            var c = Csi_V1_ControllerServiceCapability()
            c.rpc.type = type
            return c
        }
        return response
    }

    // MARK: CreateVolume

    func createVolume(request: Csi_V1_CreateVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_CreateVolumeResponse
    {
        let plan: CreatePlan
        do { plan = try CreatePlan(request, node: state.config.nodeID) } catch let f as CSIFailure { throw f.rpcError }
        return try await state.serve("CreateVolume", volume: plan.volumeID) { [state] in
            let (volume, created) = try state.store.write { w -> (CSIVolumeRecord, Bool) in
                if let existing = try w.csiVolume(name: plan.name) {
                    try plan.checkRepeat(of: existing)
                    return (existing, false)
                }
                if let holder = try w.csiVolume(id: plan.volumeID) {
                    throw CSIFailure(.alreadyExists,
                        "volume id \"\(plan.volumeID)\" already belongs to the volume named \"\(holder.name)\"; use another name")
                }
                if let room = CapacityRules.room(for: plan.capacity, free: try state.free(w), node: state.config.nodeID,
                                                 code: .resourceExhausted, what: "volume \"\(plan.name)\"") {
                    throw room
                }
                let record = plan.record(dataRoot: state.config.dataRoot)
                try w.insertCSIVolume(record)
                return (record, true)
            }
            do {
                if created, let problem = Self.foreignDirectory(dataRoot: volume.dataRoot, name: volume.directory) {
                    throw CSIFailure(.failedPrecondition, problem)
                }
                try VolumeDirectory.create(dataRoot: volume.dataRoot, name: volume.directory, mode: plan.parameters.dirMode)
                if created {
                    try state.store.write { w in try state.recordHistory(w, volume, .provisioned, detail: volume.path) }
                }
            } catch {
                // Nothing is promised for a volume whose directory could not be made.
                if created { try? state.store.write { w in try w.deleteCSIVolume(id: volume.volumeID) } }
                throw error
            }
            var response = Csi_V1_CreateVolumeResponse()
            response.volume = state.protoVolume(volume)
            return response
        }
    }

    /// A CreateVolume checked: everything decided before the store is asked.
    struct CreatePlan: Sendable {
        var name: String
        var volumeID: String
        var capabilities: [Capability]
        var range: CapacityRange?
        var capacity: Int64
        var parameters: VolumeParameters
        var rawParameters: [String: String]
        var directory: String
        var node: String

        init(_ r: Csi_V1_CreateVolumeRequest, node: String) throws {
            self.node = node
            name = r.name
            volumeID = try VolumeNaming.volumeID(requestName: r.name).orThrow()
            capabilities = try CapabilityRules.checkAll(r.volumeCapabilities.map(CapabilityRequest.init),
                                                        field: "volume_capabilities").orThrow()
            if r.hasVolumeContentSource {
                throw CSIFailure.invalid("volume_content_source",
                    "Cairn creates empty volumes only (it offers neither CLONE_VOLUME nor snapshots); remove the dataSource")
            }
            if !r.mutableParameters.isEmpty {
                throw CSIFailure.invalid("mutable_parameters", "Cairn does not offer MODIFY_VOLUME; remove the VolumeAttributesClass")
            }
            rawParameters = r.parameters
            parameters = try VolumeNaming.parameters(r.parameters).orThrow()
            range = r.hasCapacityRange ? CapacityRange(r.capacityRange) : nil
            capacity = try CapacityRules.newVolumeSize(range).orThrow()
            if r.hasAccessibilityRequirements,
               !NodeTopology.allows(requisite: r.accessibilityRequirements.requisite.map(\.segments), node: node) {
                throw CSIFailure(.resourceExhausted,
                    "this driver provisions on node \(node) only (\(NodeTopology.key)=\(node)), which is not among the "
                    + "requisite topologies \(r.accessibilityRequirements.requisite.map(\.segments))")
            }
            directory = VolumeNaming.directory(volumeID: volumeID, claim: parameters.claim)
        }

        /// The spec: a repeat with compatible arguments returns the volume; incompatible ones get
        /// ALREADY_EXISTS, saying what differs.
        func checkRepeat(of existing: CSIVolumeRecord) throws {
            if let range, !range.admits(existing.capacityBytes) {
                throw CSIFailure(.alreadyExists,
                    "volume \"\(name)\" exists with capacity \(existing.capacityBytes) bytes, outside the requested range "
                    + "(required \(range.requiredBytes), limit \(range.limitBytes)); use another name")
            }
            let asked = CapabilityRules.canonical(capabilities)
            if existing.capabilities != asked {
                throw CSIFailure(.alreadyExists,
                    "volume \"\(name)\" exists with capabilities \(existing.capabilities), the request asks for \(asked); use another name")
            }
            if existing.parameters != rawParameters {
                throw CSIFailure(.alreadyExists,
                    "volume \"\(name)\" exists with parameters \(existing.parameters.sorted(by: <)), the request has "
                    + "\(rawParameters.sorted(by: <)); use another name")
            }
        }

        func record(dataRoot: String) -> CSIVolumeRecord {
            CSIVolumeRecord(
                volumeID: volumeID, name: name, node: node, dataRoot: dataRoot, directory: directory,
                capacityBytes: capacity, capabilities: CapabilityRules.canonical(capabilities),
                accessModes: capabilities.map(\.mode.description), parameters: rawParameters,
                claimNamespace: parameters.claim?.namespace, claimName: parameters.claim?.name,
                persistentVolume: parameters.claim?.persistentVolume, createdAt: Time(Date()))
        }
    }

    /// Why an existing entry at a new volume's directory cannot become the volume: a link or file, or
    /// a directory with something in it (data no volume of this driver owns). Nil if absent or empty.
    static func foreignDirectory(dataRoot: String, name: String) -> String? {
        let path = "\(dataRoot)/\(name)"
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            return "\(path) exists and is not a directory; move it away before provisioning this volume"
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        guard entries.isEmpty else {
            return "\(path) already exists with \(entries.count) entries but no volume of this driver owns it "
                + "(another volume's data?); move it away before provisioning this volume"
        }
        return nil
    }

    // MARK: DeleteVolume

    func deleteVolume(request: Csi_V1_DeleteVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_DeleteVolumeResponse
    {
        let id = request.volumeID
        guard !id.isEmpty else { throw CSIFailure.missing("volume_id").rpcError }
        return try await state.serve("DeleteVolume", volume: id) { [state] in
            guard let volume = try state.store.read({ try $0.csiVolume(id: id) }) else {
                return Csi_V1_DeleteVolumeResponse()  // gone already: success (idempotent)
            }
            if let stage = try state.store.read({ try $0.csiStage(volumeID: id) }) {
                let targets = try state.store.read { try $0.csiPublications(volumeID: id) }.map(\.targetPath)
                throw CSIFailure(.failedPrecondition,
                    "volume \"\(id)\" is in use: staged at \(stage.stagingPath)"
                    + (targets.isEmpty ? "" : ", published at \(targets.joined(separator: ", "))")
                    + "; unpublish and unstage it first")
            }
            // Never follows a symlink out of the volume, never crosses a mount inside it.
            try VolumeDirectory.remove(dataRoot: volume.dataRoot, name: volume.directory)
            try state.store.write { w in
                try w.deleteCSIVolume(id: id)
                try state.recordHistory(w, volume, .deleted, detail: volume.path)
            }
            return Csi_V1_DeleteVolumeResponse()
        }
    }

    // MARK: ValidateVolumeCapabilities

    func validateVolumeCapabilities(request: Csi_V1_ValidateVolumeCapabilitiesRequest, context: ServerContext)
        async throws -> Csi_V1_ValidateVolumeCapabilitiesResponse
    {
        let id = request.volumeID
        guard !id.isEmpty else { throw CSIFailure.missing("volume_id").rpcError }
        guard !request.volumeCapabilities.isEmpty else { throw CSIFailure.missing("volume_capabilities").rpcError }
        return try await state.serve("ValidateVolumeCapabilities") { [state] in
            let volume = try state.volume(id)
            try state.checkContext(request.volumeContext, of: volume)
            var response = Csi_V1_ValidateVolumeCapabilitiesResponse()
            if !request.parameters.isEmpty, request.parameters != volume.parameters {
                response.message = "the volume was created with parameters \(volume.parameters.sorted(by: <)), not "
                    + "\(request.parameters.sorted(by: <))"
                return response
            }
            if !request.mutableParameters.isEmpty {
                response.message = "Cairn volumes have no mutable parameters"
                return response
            }
            if case .failure(let f) = CapabilityRules.checkAll(request.volumeCapabilities.map(CapabilityRequest.init),
                                                                 field: "volume_capabilities") {
                response.message = f.message
                return response
            }
            response.confirmed.volumeContext = request.volumeContext
            response.confirmed.volumeCapabilities = request.volumeCapabilities
            response.confirmed.parameters = request.parameters
            return response
        }
    }

    // MARK: ListVolumes

    func listVolumes(request: Csi_V1_ListVolumesRequest, context: ServerContext) async throws
        -> Csi_V1_ListVolumesResponse
    {
        try await state.serve("ListVolumes") { [state] in
            let all = try state.store.read { try $0.csiVolumes(node: state.config.nodeID) }
            let page = try Pagination.page(sortedIDs: all.map(\.volumeID), maxEntries: request.maxEntries,
                                           startingToken: request.startingToken).orThrow()
            var response = Csi_V1_ListVolumesResponse()
            response.entries = all[page.range].map { v in
                var e = Csi_V1_ListVolumesResponse.Entry()
                e.volume = state.protoVolume(v)
                return e
            }
            response.nextToken = page.nextToken
            return response
        }
    }

    // MARK: GetCapacity

    func getCapacity(request: Csi_V1_GetCapacityRequest, context: ServerContext) async throws
        -> Csi_V1_GetCapacityResponse
    {
        try await state.serve("GetCapacity") { [state] in
            _ = try VolumeNaming.parameters(request.parameters).orThrow()
            var response = Csi_V1_GetCapacityResponse()
            let servable = request.volumeCapabilities.allSatisfy { c in
                if case .success = CapabilityRules.check(CapabilityRequest(c), field: "volume_capabilities") { return true }
                return false
            }
            let here = NodeTopology.describes(request.hasAccessibleTopology ? request.accessibleTopology.segments : nil,
                                              node: state.config.nodeID)
            guard servable, here else {
                response.availableCapacity = 0
                response.maximumVolumeSize = Google_Protobuf_Int64Value(0)
                return response
            }
            let free = try state.store.read { r in
                CapacityRules.free(nodeCapacity: state.nodeCapacity,
                                   provisioned: try r.csiProvisionedBytes(node: state.config.nodeID))
            }
            response.availableCapacity = free
            response.maximumVolumeSize = Google_Protobuf_Int64Value(free)
            return response
        }
    }

    // MARK: ControllerExpandVolume

    func controllerExpandVolume(request: Csi_V1_ControllerExpandVolumeRequest, context: ServerContext) async throws
        -> Csi_V1_ControllerExpandVolumeResponse
    {
        let id = request.volumeID
        guard !id.isEmpty else { throw CSIFailure.missing("volume_id").rpcError }
        guard request.hasCapacityRange else { throw CSIFailure.missing("capacity_range").rpcError }
        if request.hasVolumeCapability,
           case .failure(let f) = CapabilityRules.check(CapabilityRequest(request.volumeCapability), field: "volume_capability") {
            throw f.rpcError
        }
        let range = CapacityRange(request.capacityRange)
        return try await state.serve("ControllerExpandVolume", volume: id) { [state] in
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
            var response = Csi_V1_ControllerExpandVolumeResponse()
            response.capacityBytes = bytes
            // The node applies the new size to its FUSE session (at once if staged, else when staged).
            response.nodeExpansionRequired = true
            return response
        }
    }
}

extension DriverState {
    /// A volume as the CSI messages describe it.
    func protoVolume(_ v: CSIVolumeRecord) -> Csi_V1_Volume {
        var volume = Csi_V1_Volume()
        volume.volumeID = v.volumeID
        volume.capacityBytes = v.capacityBytes
        volume.volumeContext = volumeContext(v)
        volume.accessibleTopology = [Csi_V1_Topology(segments: NodeTopology.segments(node: v.node))]
        return volume
    }
}
