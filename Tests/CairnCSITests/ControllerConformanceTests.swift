import CairnCSI
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The CSI spec's rules for the Identity and Controller services, one by one, against `cairn csi` on
// its Unix socket. Every test starts its own driver.

@Suite(.serialized) struct IdentityConformance {
    @Test func pluginInfoCapabilitiesAndProbe() async throws {
        try await withDriver { _, c in
            let info = try await c.identity.getPluginInfo(Csi_V1_GetPluginInfoRequest())
            #expect(info.name == "cairn.csi.cairn.io")
            #expect(info.name.count <= 63)
            #expect(!info.vendorVersion.isEmpty)

            let caps = try await c.identity.getPluginCapabilities(Csi_V1_GetPluginCapabilitiesRequest())
            let services = caps.capabilities.compactMap { cap -> Csi_V1_PluginCapability.Service.TypeEnum? in
                if case .service(let s)? = cap.type { return s.type }
                return nil
            }
            #expect(Set(services.map(\.rawValue)) == [1, 2], "CONTROLLER_SERVICE and VOLUME_ACCESSIBILITY_CONSTRAINTS")
            let expansion = caps.capabilities.compactMap { cap -> Int? in
                if case .volumeExpansion(let e)? = cap.type { return e.type.rawValue }
                return nil
            }
            #expect(expansion == [1], "ONLINE expansion")

            let probe = try await c.identity.probe(Csi_V1_ProbeRequest())
            #expect(probe.hasReady && probe.ready.value)
        }
    }
}

@Suite(.serialized) struct ControllerConformance {
    @Test func capabilities() async throws {
        try await withDriver { _, c in
            let caps = try await c.controller.controllerGetCapabilities(Csi_V1_ControllerGetCapabilitiesRequest())
            let types = Set(caps.capabilities.map(\.rpc.type.rawValue))
            // CREATE_DELETE_VOLUME, LIST_VOLUMES, GET_CAPACITY, EXPAND_VOLUME, SINGLE_NODE_MULTI_WRITER.
            #expect(types == [1, 3, 4, 9, 13])
        }
    }

    @Test func createVolumeRequiredFieldsAndUnsupportedRequests() async throws {
        try await withDriver { _, c in
            var noName = Csi_V1_CreateVolumeRequest.make("x")
            noName.name = ""
            await expectCode(.invalidArgument, "no name") { try await c.controller.createVolume(noName) }
            var noCaps = Csi_V1_CreateVolumeRequest.make("no-caps")
            noCaps.volumeCapabilities = []
            await expectCode(.invalidArgument, "no capabilities") { try await c.controller.createVolume(noCaps) }
            var noMode = Csi_V1_CreateVolumeRequest.make("no-mode")
            noMode.volumeCapabilities = [Csi_V1_VolumeCapability.with { $0.mount = .init() }]
            await expectCode(.invalidArgument, "no access mode") { try await c.controller.createVolume(noMode) }
            var block = Csi_V1_CreateVolumeRequest.make("block")
            block.volumeCapabilities = [Csi_V1_VolumeCapability.with { $0.block = .init(); $0.accessMode.mode = .singleNodeWriter }]
            let blockMessage = await expectCode(.invalidArgument, "block") { try await c.controller.createVolume(block) }
            #expect(blockMessage.contains("mount volumes only"))
            for mode: Csi_V1_VolumeCapability.AccessMode.Mode in [.multiNodeReaderOnly, .multiNodeSingleWriter, .multiNodeMultiWriter] {
                await expectCode(.invalidArgument, "\(mode)") {
                    try await c.controller.createVolume(.make("multi-\(mode.rawValue)", modes: [.singleNodeWriter, mode]))
                }
            }
            var clone = Csi_V1_CreateVolumeRequest.make("clone")
            clone.volumeContentSource.volume.volumeID = "other"
            await expectCode(.invalidArgument, "content source") { try await c.controller.createVolume(clone) }
            await expectCode(.invalidArgument, "unknown parameter") {
                try await c.controller.createVolume(.make("params", parameters: ["colour": "red"]))
            }
            // Nothing was created by any of them.
            let list = try await c.controller.listVolumes(Csi_V1_ListVolumesRequest())
            #expect(list.entries.isEmpty)
        }
    }

    @Test func createVolumeReturnsTheVolumeOnItsNodeNamedForItsClaim() async throws {
        try await withDriver { d, c in
            let pv = "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab"
            let response = try await c.controller.createVolume(.make(pv, bytes: 64 << 20, parameters: [
                "csi.storage.k8s.io/pvc/name": "data-web-0", "csi.storage.k8s.io/pvc/namespace": "default",
                "csi.storage.k8s.io/pv/name": pv, "dirMode": "0750",
            ]))
            let v = response.volume
            #expect(v.volumeID == pv)
            #expect(v.capacityBytes == 64 << 20)
            #expect(v.accessibleTopology.map(\.segments) == [["topology.cairn.io/node": d.nodeID]])
            let directory = "\(d.dataRoot)/\(pv)_default_data-web-0"
            #expect(v.volumeContext["cairn.io/path"] == directory)
            var st = stat()
            #expect(lstat(directory, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR, "the volume is a directory named for its claim")
            #expect(st.st_mode & 0o7777 == 0o750, "dirMode is applied exactly")
        }
    }

    @Test func createVolumeIsIdempotentAndConflictingRepeatsAreAlreadyExists() async throws {
        try await withDriver { _, c in
            let first = try await c.controller.createVolume(.make("vol-a", bytes: 10 << 20))
            let again = try await c.controller.createVolume(.make("vol-a", bytes: 10 << 20))
            #expect(again.volume == first.volume, "the same request returns the same volume")
            let inRange = try await c.controller.createVolume(.make("vol-a", bytes: 5 << 20, limit: 20 << 20))
            #expect(inRange.volume.volumeID == first.volume.volumeID, "a range the volume satisfies is compatible")
            await expectCode(.alreadyExists, "another capacity") { try await c.controller.createVolume(.make("vol-a", bytes: 20 << 20)) }
            await expectCode(.alreadyExists, "another capability") {
                try await c.controller.createVolume(.make("vol-a", bytes: 10 << 20, modes: [.singleNodeSingleWriter]))
            }
            await expectCode(.alreadyExists, "other parameters") {
                try await c.controller.createVolume(.make("vol-a", bytes: 10 << 20, parameters: ["dirMode": "0700"]))
            }
            let list = try await c.controller.listVolumes(Csi_V1_ListVolumesRequest())
            #expect(list.entries.map(\.volume.volumeID) == ["vol-a"], "one volume, however often it was asked for")
        }
    }

    @Test func capacityRangesAndTheNodesRoomAreHonoured() async throws {
        try await withDriver(capacity: "100Mi") { d, c in
            await expectCode(.outOfRange, "limit below required") {
                try await c.controller.createVolume(.make("r1", bytes: 20 << 20, limit: 10 << 20))
            }
            let small = try await c.controller.createVolume(.make("r2", bytes: 0, limit: 4 << 20))
            #expect(small.volume.capacityBytes == 4 << 20, "no required size: the default capped by the limit")
            _ = try await c.controller.createVolume(.make("r3", bytes: 90 << 20))
            let message = await expectCode(.resourceExhausted, "more than the node has left") {
                try await c.controller.createVolume(.make("r4", bytes: 7 << 20))
            }
            #expect(message.contains("node \(d.nodeID) has \(6 << 20) bytes"))
            var elsewhere = Csi_V1_CreateVolumeRequest.make("r5", bytes: 1 << 20)
            elsewhere.accessibilityRequirements.requisite = [Csi_V1_Topology.with { $0.segments = ["topology.cairn.io/node": "other"] }]
            await expectCode(.resourceExhausted, "a requisite topology without this node") {
                try await c.controller.createVolume(elsewhere)
            }
            var here = Csi_V1_CreateVolumeRequest.make("r6", bytes: 1 << 20)
            here.accessibilityRequirements.requisite = [Csi_V1_Topology.with { $0.segments = ["topology.cairn.io/node": d.nodeID] }]
            here.accessibilityRequirements.preferred = here.accessibilityRequirements.requisite
            _ = try await c.controller.createVolume(here)
        }
    }

    @Test func getCapacityPerTopologySegment() async throws {
        try await withDriver(capacity: "100Mi") { d, c in
            let before = try await c.controller.getCapacity(Csi_V1_GetCapacityRequest())
            #expect(before.availableCapacity == 100 << 20)
            #expect(before.maximumVolumeSize.value == 100 << 20)
            _ = try await c.controller.createVolume(.make("g1", bytes: 30 << 20))
            var mine = Csi_V1_GetCapacityRequest()
            mine.accessibleTopology.segments = ["topology.cairn.io/node": d.nodeID]
            mine.volumeCapabilities = [.mount(.singleNodeWriter)]
            #expect(try await c.controller.getCapacity(mine).availableCapacity == 70 << 20)
            var other = mine
            other.accessibleTopology.segments = ["topology.cairn.io/node": "another-node"]
            #expect(try await c.controller.getCapacity(other).availableCapacity == 0)
            var block = mine
            block.volumeCapabilities = [Csi_V1_VolumeCapability.with { $0.block = .init(); $0.accessMode.mode = .singleNodeWriter }]
            #expect(try await c.controller.getCapacity(block).availableCapacity == 0, "no room for what cannot be served")
            var bad = Csi_V1_GetCapacityRequest()
            bad.parameters = ["colour": "red"]
            await expectCode(.invalidArgument, "unknown parameter") { try await c.controller.getCapacity(bad) }
        }
    }

    @Test func deleteVolumeIsIdempotentAndNeverFollowsASymlinkOut() async throws {
        try await withDriver { d, c in
            await expectCode(.invalidArgument, "no volume id") { try await c.controller.deleteVolume(Csi_V1_DeleteVolumeRequest()) }
            _ = try await c.controller.deleteVolume(Csi_V1_DeleteVolumeRequest.with { $0.volumeID = "never-existed" })

            let v = try await c.controller.createVolume(.make("del-1", bytes: 1 << 20)).volume
            let directory = v.volumeContext["cairn.io/path"]!
            // Something outside the volume that a link inside points to, a file and a directory.
            let outside = "\(d.dir)/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try "keep".write(toFile: "\(outside)/precious", atomically: true, encoding: .utf8)
            #expect(symlink(outside, "\(directory)/link-to-dir") == 0)
            #expect(symlink("\(outside)/precious", "\(directory)/link-to-file") == 0)
            try FileManager.default.createDirectory(atPath: "\(directory)/sub", withIntermediateDirectories: true)
            try "x".write(toFile: "\(directory)/sub/file", atomically: true, encoding: .utf8)

            let delete = Csi_V1_DeleteVolumeRequest.with { $0.volumeID = v.volumeID }
            _ = try await c.controller.deleteVolume(delete)
            _ = try await c.controller.deleteVolume(delete)  // twice: same answer
            #expect(!FileManager.default.fileExists(atPath: directory))
            #expect(readText("\(outside)/precious") == "keep", "the symlink's target is untouched")
            #expect(try await c.controller.listVolumes(Csi_V1_ListVolumesRequest()).entries.isEmpty)
        }
    }

    @Test func deleteVolumeInUseIsFailedPrecondition() async throws {
        try await withDriver { d, c in
            let v = try await c.controller.createVolume(.make("busy", bytes: 1 << 20)).volume
            let staging = try d.stagingPath("busy")
            _ = try await c.node.nodeStageVolume(.make(v.volumeID, staging))
            let message = await expectCode(.failedPrecondition, "staged volume") {
                try await c.controller.deleteVolume(Csi_V1_DeleteVolumeRequest.with { $0.volumeID = v.volumeID })
            }
            #expect(message.contains(staging))
            #expect(FileManager.default.fileExists(atPath: v.volumeContext["cairn.io/path"]!), "nothing was deleted")
            _ = try await c.node.nodeUnstageVolume(Csi_V1_NodeUnstageVolumeRequest.with {
                $0.volumeID = v.volumeID
                $0.stagingTargetPath = staging
            })
            _ = try await c.controller.deleteVolume(Csi_V1_DeleteVolumeRequest.with { $0.volumeID = v.volumeID })
        }
    }

    @Test func validateVolumeCapabilities() async throws {
        try await withDriver { _, c in
            let v = try await c.controller.createVolume(.make("val", bytes: 1 << 20)).volume
            await expectCode(.invalidArgument, "no volume id") {
                try await c.controller.validateVolumeCapabilities(Csi_V1_ValidateVolumeCapabilitiesRequest.with {
                    $0.volumeCapabilities = [.mount(.singleNodeWriter)]
                })
            }
            await expectCode(.invalidArgument, "no capabilities") {
                try await c.controller.validateVolumeCapabilities(Csi_V1_ValidateVolumeCapabilitiesRequest.with { $0.volumeID = v.volumeID })
            }
            await expectCode(.notFound, "unknown volume") {
                try await c.controller.validateVolumeCapabilities(Csi_V1_ValidateVolumeCapabilitiesRequest.with {
                    $0.volumeID = "nope"
                    $0.volumeCapabilities = [.mount(.singleNodeWriter)]
                })
            }
            let ok = try await c.controller.validateVolumeCapabilities(Csi_V1_ValidateVolumeCapabilitiesRequest.with {
                $0.volumeID = v.volumeID
                $0.volumeContext = v.volumeContext
                $0.volumeCapabilities = [.mount(.singleNodeWriter), .mount(.singleNodeMultiWriter), .mount(.singleNodeReaderOnly)]
            })
            #expect(ok.hasConfirmed && ok.confirmed.volumeCapabilities.count == 3)
            let multi = try await c.controller.validateVolumeCapabilities(Csi_V1_ValidateVolumeCapabilitiesRequest.with {
                $0.volumeID = v.volumeID
                $0.volumeCapabilities = [.mount(.multiNodeMultiWriter)]
            })
            #expect(!multi.hasConfirmed && multi.message.contains("MULTI_NODE_MULTI_WRITER"))
            let block = try await c.controller.validateVolumeCapabilities(Csi_V1_ValidateVolumeCapabilitiesRequest.with {
                $0.volumeID = v.volumeID
                $0.volumeCapabilities = [Csi_V1_VolumeCapability.with { $0.block = .init(); $0.accessMode.mode = .singleNodeWriter }]
            })
            #expect(!block.hasConfirmed && !block.message.isEmpty)
        }
    }

    @Test func listVolumesPagesWithTokens() async throws {
        try await withDriver { _, c in
            var created: [String] = []
            for i in 0..<5 { created.append(try await c.controller.createVolume(.make("page-\(i)", bytes: 1 << 20)).volume.volumeID) }
            var seen: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await c.controller.listVolumes(Csi_V1_ListVolumesRequest.with {
                    $0.maxEntries = 2
                    $0.startingToken = token
                })
                #expect(page.entries.count <= 2)
                for e in page.entries { #expect(e.volume.capacityBytes == 1 << 20) }
                seen += page.entries.map(\.volume.volumeID)
                token = page.nextToken
                pages += 1
            } while !token.isEmpty && pages < 10
            #expect(seen == created.sorted() && pages == 3)
            await expectCode(.aborted, "a token the driver never issued") {
                try await c.controller.listVolumes(Csi_V1_ListVolumesRequest.with { $0.startingToken = "invalid-token" })
            }
            await expectCode(.invalidArgument, "negative max_entries") {
                try await c.controller.listVolumes(Csi_V1_ListVolumesRequest.with { $0.maxEntries = -1 })
            }
        }
    }

    @Test func controllerExpandVolume() async throws {
        try await withDriver(capacity: "100Mi") { _, c in
            let v = try await c.controller.createVolume(.make("grow", bytes: 10 << 20)).volume
            await expectCode(.invalidArgument, "no volume id") {
                try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with { $0.capacityRange.requiredBytes = 1 })
            }
            await expectCode(.invalidArgument, "no capacity range") {
                try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with { $0.volumeID = v.volumeID })
            }
            await expectCode(.notFound, "unknown volume") {
                try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with {
                    $0.volumeID = "nope"
                    $0.capacityRange.requiredBytes = 20 << 20
                })
            }
            let expand = Csi_V1_ControllerExpandVolumeRequest.with {
                $0.volumeID = v.volumeID
                $0.capacityRange.requiredBytes = 20 << 20
            }
            let grown = try await c.controller.controllerExpandVolume(expand)
            #expect(grown.capacityBytes == 20 << 20 && grown.nodeExpansionRequired)
            #expect(try await c.controller.controllerExpandVolume(expand).capacityBytes == 20 << 20, "twice: same answer")
            let smaller = try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with {
                $0.volumeID = v.volumeID
                $0.capacityRange.requiredBytes = 5 << 20
            })
            #expect(smaller.capacityBytes == 20 << 20, "a smaller size is already satisfied; volumes never shrink")
            await expectCode(.outOfRange, "a limit below the current size") {
                try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with {
                    $0.volumeID = v.volumeID
                    $0.capacityRange.limitBytes = 15 << 20
                })
            }
            await expectCode(.outOfRange, "more than the node has") {
                try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with {
                    $0.volumeID = v.volumeID
                    $0.capacityRange.requiredBytes = 200 << 20
                })
            }
            let capacity = try await c.controller.getCapacity(Csi_V1_GetCapacityRequest())
            #expect(capacity.availableCapacity == 80 << 20, "the expansion is promised from the node's storage")
            let listed = try await c.controller.listVolumes(Csi_V1_ListVolumesRequest())
            #expect(listed.entries.first?.volume.capacityBytes == 20 << 20)
        }
    }
}
