import CairnCSI
import CairnNode
import CairnServer
import CairnStore
import CairnAPI
import CairnCore
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The CSI spec's rules for the Node service, and the whole life of a volume through the FUSE
// filesystem, against `cairn csi` on its Unix socket.

extension CSIClients {
    func create(_ name: String, bytes: Int64, modes: [Csi_V1_VolumeCapability.AccessMode.Mode] = [.singleNodeWriter],
                parameters: [String: String] = [:]) async throws -> Csi_V1_Volume {
        try await controller.createVolume(.make(name, bytes: bytes, modes: modes, parameters: parameters)).volume
    }

    func unpublish(_ id: String, _ target: String) async throws {
        _ = try await node.nodeUnpublishVolume(Csi_V1_NodeUnpublishVolumeRequest.with {
            $0.volumeID = id
            $0.targetPath = target
        })
    }

    func unstage(_ id: String, _ staging: String) async throws {
        _ = try await node.nodeUnstageVolume(Csi_V1_NodeUnstageVolumeRequest.with {
            $0.volumeID = id
            $0.stagingTargetPath = staging
        })
    }

    func stats(_ id: String, _ path: String) async throws -> Csi_V1_NodeGetVolumeStatsResponse {
        try await node.nodeGetVolumeStats(Csi_V1_NodeGetVolumeStatsRequest.with {
            $0.volumeID = id
            $0.volumePath = path
        })
    }
}

extension Csi_V1_NodeGetVolumeStatsResponse {
    func usage(_ unit: Csi_V1_VolumeUsage.Unit) -> Csi_V1_VolumeUsage? { usage.first { $0.unit == unit } }
}

@Suite(.serialized) struct NodeConformance {
    @Test func capabilitiesAndInfo() async throws {
        try await withDriver(extraArguments: ["--max-volumes", "7"]) { d, c in
            let caps = try await c.node.nodeGetCapabilities(Csi_V1_NodeGetCapabilitiesRequest())
            // STAGE_UNSTAGE_VOLUME, GET_VOLUME_STATS, EXPAND_VOLUME, VOLUME_CONDITION, SINGLE_NODE_MULTI_WRITER.
            #expect(Set(caps.capabilities.map(\.rpc.type.rawValue)) == [1, 2, 3, 4, 5])
            let info = try await c.node.nodeGetInfo(Csi_V1_NodeGetInfoRequest())
            #expect(info.nodeID == d.nodeID)
            #expect(info.maxVolumesPerNode == 7)
            #expect(info.accessibleTopology.segments == ["topology.cairn.io/node": d.nodeID])
        }
    }

    /// The DaemonSet's mode: no controller expansion advertised, so the node reserves the room itself.
    @Test func nodeOnlyExpansionReservesTheRoomOnTheNode() async throws {
        try await withDriver(capacity: "64Mi", extraArguments: ["--controller-expansion", "false"]) { d, c in
            let caps = try await c.controller.controllerGetCapabilities(Csi_V1_ControllerGetCapabilitiesRequest())
            #expect(!caps.capabilities.map(\.rpc.type.rawValue).contains(9), "no controller EXPAND_VOLUME")
            let v = try await c.create("node-grow", bytes: 8 << 20)
            let staging = try d.stagingPath("node-grow")
            let target = try d.targetPath(pod: "p", volume: "node-grow")
            _ = try await c.node.nodeStageVolume(.make(v.volumeID, staging))
            _ = try await c.node.nodePublishVolume(.make(v.volumeID, staging: staging, target: target))
            func expand(_ bytes: Int64) async throws -> Csi_V1_NodeExpandVolumeResponse {
                try await c.node.nodeExpandVolume(Csi_V1_NodeExpandVolumeRequest.with {
                    $0.volumeID = v.volumeID
                    $0.volumePath = target
                    $0.capacityRange.requiredBytes = bytes
                })
            }
            #expect(try await expand(32 << 20).capacityBytes == 32 << 20)
            #expect(statfsTotal(target) == 32 << 20)
            #expect(try await c.controller.getCapacity(Csi_V1_GetCapacityRequest()).availableCapacity == 32 << 20)
            await expectCode(.outOfRange, "more than the node has left") { try await expand(128 << 20) }
            #expect(statfsTotal(target) == 32 << 20, "a refused expansion changes nothing")
            await expectCode(.notFound, "a path where the volume is not") {
                try await c.node.nodeExpandVolume(Csi_V1_NodeExpandVolumeRequest.with {
                    $0.volumeID = v.volumeID
                    $0.volumePath = "\(d.dir)/elsewhere"
                    $0.capacityRange.requiredBytes = 40 << 20
                })
            }
        }
    }

    @Test func requiredFieldsAreInvalidArgument() async throws {
        try await withDriver { d, c in
            let v = try await c.create("req", bytes: 1 << 20)
            let staging = try d.stagingPath("req")
            let target = try d.targetPath(pod: "p", volume: "req")
            var stage = Csi_V1_NodeStageVolumeRequest.make(v.volumeID, staging)
            stage.volumeID = ""
            await expectCode(.invalidArgument, "stage: no volume id") { try await c.node.nodeStageVolume(stage) }
            stage = .make(v.volumeID, "")
            await expectCode(.invalidArgument, "stage: no staging path") { try await c.node.nodeStageVolume(stage) }
            stage = .make(v.volumeID, staging)
            stage.clearVolumeCapability()
            await expectCode(.invalidArgument, "stage: no capability") { try await c.node.nodeStageVolume(stage) }
            stage = .make(v.volumeID, "relative/path")
            await expectCode(.invalidArgument, "stage: relative path") { try await c.node.nodeStageVolume(stage) }
            stage = .make(v.volumeID, staging)
            stage.volumeCapability = Csi_V1_VolumeCapability.with { $0.block = .init(); $0.accessMode.mode = .singleNodeWriter }
            await expectCode(.invalidArgument, "stage: block") { try await c.node.nodeStageVolume(stage) }
            await expectCode(.failedPrecondition, "stage: a multi-node mode exceeds the volume") {
                try await c.node.nodeStageVolume(.make(v.volumeID, staging, .multiNodeMultiWriter))
            }

            await expectCode(.invalidArgument, "unstage: no volume id") {
                try await c.node.nodeUnstageVolume(Csi_V1_NodeUnstageVolumeRequest.with { $0.stagingTargetPath = staging })
            }
            await expectCode(.invalidArgument, "unstage: no staging path") {
                try await c.node.nodeUnstageVolume(Csi_V1_NodeUnstageVolumeRequest.with { $0.volumeID = v.volumeID })
            }

            var publish = Csi_V1_NodePublishVolumeRequest.make(v.volumeID, staging: staging, target: target)
            publish.volumeID = ""
            await expectCode(.invalidArgument, "publish: no volume id") { try await c.node.nodePublishVolume(publish) }
            publish = .make(v.volumeID, staging: staging, target: "")
            await expectCode(.invalidArgument, "publish: no target path") { try await c.node.nodePublishVolume(publish) }
            publish = .make(v.volumeID, staging: staging, target: target)
            publish.clearVolumeCapability()
            await expectCode(.invalidArgument, "publish: no capability") { try await c.node.nodePublishVolume(publish) }

            await expectCode(.invalidArgument, "unpublish: no volume id") {
                try await c.node.nodeUnpublishVolume(Csi_V1_NodeUnpublishVolumeRequest.with { $0.targetPath = target })
            }
            await expectCode(.invalidArgument, "unpublish: no target path") {
                try await c.node.nodeUnpublishVolume(Csi_V1_NodeUnpublishVolumeRequest.with { $0.volumeID = v.volumeID })
            }
            await expectCode(.invalidArgument, "stats: no volume id") {
                try await c.node.nodeGetVolumeStats(Csi_V1_NodeGetVolumeStatsRequest.with { $0.volumePath = staging })
            }
            await expectCode(.invalidArgument, "stats: no volume path") {
                try await c.node.nodeGetVolumeStats(Csi_V1_NodeGetVolumeStatsRequest.with { $0.volumeID = v.volumeID })
            }
            await expectCode(.invalidArgument, "expand: no volume id") {
                try await c.node.nodeExpandVolume(Csi_V1_NodeExpandVolumeRequest.with { $0.volumePath = staging })
            }
            await expectCode(.invalidArgument, "expand: no volume path") {
                try await c.node.nodeExpandVolume(Csi_V1_NodeExpandVolumeRequest.with { $0.volumeID = v.volumeID })
            }
            #expect(!isMounted(staging) && !FileManager.default.fileExists(atPath: target), "nothing was mounted")
        }
    }

    @Test func unknownVolumesAreNotFound() async throws {
        try await withDriver { d, c in
            let staging = try d.stagingPath("ghost")
            let target = try d.targetPath(pod: "p", volume: "ghost")
            await expectCode(.notFound, "stage") { try await c.node.nodeStageVolume(.make("ghost", staging)) }
            await expectCode(.notFound, "unstage") { try await c.unstage("ghost", staging) }
            await expectCode(.notFound, "publish") { try await c.node.nodePublishVolume(.make("ghost", staging: staging, target: target)) }
            await expectCode(.notFound, "unpublish") { try await c.unpublish("ghost", target) }
            await expectCode(.notFound, "stats") { try await c.stats("ghost", "some/path") }
            await expectCode(.notFound, "expand") {
                try await c.node.nodeExpandVolume(Csi_V1_NodeExpandVolumeRequest.with {
                    $0.volumeID = "ghost"
                    $0.volumePath = "some/path"
                })
            }
            // A volume that exists but is not at that path.
            let v = try await c.create("here", bytes: 1 << 20)
            await expectCode(.notFound, "stats at a path where the volume is not") { try await c.stats(v.volumeID, "some/path") }
        }
    }

    @Test func stageIsIdempotentAndConflictsAreRefused() async throws {
        try await withDriver { d, c in
            let v = try await c.create("stage", bytes: 1 << 20, modes: [.singleNodeWriter])
            let staging = try d.stagingPath("stage")
            var request = Csi_V1_NodeStageVolumeRequest.make(v.volumeID, staging)
            request.volumeContext = v.volumeContext
            _ = try await c.node.nodeStageVolume(request)
            _ = try await c.node.nodeStageVolume(request)  // twice: same answer
            #expect(isMounted(staging))
            #expect(MountTable.mounts().filter { $0.mountPoint == staging }.count == 1, "mounted once, not twice")
            await expectCode(.alreadyExists, "same path, another capability") {
                try await c.node.nodeStageVolume(.make(v.volumeID, staging, .singleNodeReaderOnly))
            }
            let other = try d.stagingPath("stage-elsewhere")
            await expectCode(.failedPrecondition, "another staging path") { try await c.node.nodeStageVolume(.make(v.volumeID, other)) }
            var wrongContext = request
            wrongContext.volumeContext = ["cairn.io/node": "another-node"]
            await expectCode(.invalidArgument, "a volume_context that is not the volume's") { try await c.node.nodeStageVolume(wrongContext) }

            // A mount lost behind the driver's back is made again by the retried stage.
            #expect(umount2(staging, 0) == 0)
            _ = try await c.node.nodeStageVolume(request)
            #expect(isMounted(staging))

            try await c.unstage(v.volumeID, staging)
            try await c.unstage(v.volumeID, staging)  // twice: same answer
            #expect(!isMounted(staging))
            #expect(FileManager.default.fileExists(atPath: staging), "the staging directory is the CO's: it stays")
        }
    }

    @Test func publishFollowsTheSpecsTableAndUnpublishRemovesTheTarget() async throws {
        try await withDriver { d, c in
            // SINGLE_NODE_SINGLE_WRITER (ReadWriteOncePod): one target path at a time.
            let once = try await c.create("once", bytes: 1 << 20, modes: [.singleNodeSingleWriter])
            let onceStaging = try d.stagingPath("once")
            let t1 = try d.targetPath(pod: "pod-1", volume: "once")
            let t2 = try d.targetPath(pod: "pod-2", volume: "once")
            await expectCode(.failedPrecondition, "publish before stage") {
                try await c.node.nodePublishVolume(.make(once.volumeID, staging: onceStaging, target: t1, mode: .singleNodeSingleWriter))
            }
            _ = try await c.node.nodeStageVolume(.make(once.volumeID, onceStaging, .singleNodeSingleWriter))
            await expectCode(.failedPrecondition, "publish without staging_target_path") {
                try await c.node.nodePublishVolume(.make(once.volumeID, staging: "", target: t1, mode: .singleNodeSingleWriter))
            }
            let p1 = Csi_V1_NodePublishVolumeRequest.make(once.volumeID, staging: onceStaging, target: t1, mode: .singleNodeSingleWriter)
            _ = try await c.node.nodePublishVolume(p1)
            _ = try await c.node.nodePublishVolume(p1)  // T1=T2, P1=P2: OK
            #expect(MountTable.mounts().filter { $0.mountPoint == t1 }.count == 1)
            await expectCode(.alreadyExists, "T1=T2, P1!=P2") {
                try await c.node.nodePublishVolume(.make(once.volumeID, staging: onceStaging, target: t1, readOnly: true,
                                                         mode: .singleNodeSingleWriter))
            }
            await expectCode(.failedPrecondition, "T1!=T2 for SINGLE_NODE_SINGLE_WRITER") {
                try await c.node.nodePublishVolume(.make(once.volumeID, staging: onceStaging, target: t2, mode: .singleNodeSingleWriter))
            }
            await expectCode(.failedPrecondition, "unstage while published") { try await c.unstage(once.volumeID, onceStaging) }

            // SINGLE_NODE_MULTI_WRITER (ReadWriteOnce): several pods of the node, read-only ones too.
            let shared = try await c.create("shared", bytes: 1 << 20, modes: [.singleNodeMultiWriter])
            let sharedStaging = try d.stagingPath("shared")
            let s1 = try d.targetPath(pod: "pod-3", volume: "shared")
            let s2 = try d.targetPath(pod: "pod-4", volume: "shared")
            _ = try await c.node.nodeStageVolume(.make(shared.volumeID, sharedStaging, .singleNodeMultiWriter))
            _ = try await c.node.nodePublishVolume(.make(shared.volumeID, staging: sharedStaging, target: s1, mode: .singleNodeMultiWriter))
            _ = try await c.node.nodePublishVolume(.make(shared.volumeID, staging: sharedStaging, target: s2, readOnly: true,
                                                         mode: .singleNodeMultiWriter))
            #expect(writeFile("\(s1)/hello", bytes: 5).errno == 0)
            #expect(readText("\(s2)/hello") == "aaaaa", "both pods see the same volume")
            #expect(writeFile("\(s2)/nope", bytes: 1).errno == EROFS, "the read-only publication refuses writes")

            for (id, target) in [(once.volumeID, t1), (shared.volumeID, s1), (shared.volumeID, s2)] {
                try await c.unpublish(id, target)
                try await c.unpublish(id, target)  // twice: same answer
                #expect(!FileManager.default.fileExists(atPath: target), "the driver removes what it created")
            }
            try await c.unpublish(once.volumeID, "\(d.kubelet)/pods/never/volumes/x/mount")  // a missing path is success
            try await c.unstage(once.volumeID, onceStaging)
            try await c.unstage(shared.volumeID, sharedStaging)
        }
    }

    /// create -> stage -> publish -> write through the target path -> stats -> expand -> unpublish ->
    /// unstage -> delete, with the FUSE quota enforced at the target path.
    @Test func fullLifecycleWithTheQuotaEnforcedAtTheTargetPath() async throws {
        try await withDriver(capacity: "1Gi") { d, c in
            let pv = "pvc-0b8f2a34-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
            let capacity: Int64 = 8 << 20
            let v = try await c.create(pv, bytes: capacity, parameters: [
                "csi.storage.k8s.io/pvc/name": "logs", "csi.storage.k8s.io/pvc/namespace": "default",
                "csi.storage.k8s.io/pv/name": pv,
            ])
            let staging = try d.stagingPath(pv)
            let target = try d.targetPath(pod: "pod-uid-1", volume: pv)
            var stage = Csi_V1_NodeStageVolumeRequest.make(v.volumeID, staging)
            stage.volumeContext = v.volumeContext
            _ = try await c.node.nodeStageVolume(stage)
            var publish = Csi_V1_NodePublishVolumeRequest.make(v.volumeID, staging: staging, target: target, pod: "web-0")
            publish.volumeContext.merge(v.volumeContext) { a, _ in a }
            _ = try await c.node.nodePublishVolume(publish)

            // df at the target path shows the claim's size, not the host disk's.
            #expect(statfsTotal(target) == capacity)
            let mount = MountTable.mounts().last { $0.mountPoint == target }
            #expect(mount?.isFuse == true, "the target path is Cairn's FUSE filesystem: \(String(describing: mount))")

            // Data written through the target path lands in the volume's directory.
            #expect(writeFile("\(target)/a.log", bytes: 3 << 20).errno == 0)
            #expect(FileManager.default.fileExists(atPath: "\(v.volumeContext["cairn.io/path"]!)/a.log"))

            let stats = try await c.stats(v.volumeID, target)
            #expect(!stats.volumeCondition.abnormal, "\(stats.volumeCondition.message)")
            let bytes = try #require(stats.usage(.bytes))
            #expect(bytes.total == capacity)
            #expect(bytes.used >= 3 << 20 && bytes.used < 4 << 20)
            #expect(bytes.available == capacity - bytes.used)
            let inodes = try #require(stats.usage(.inodes))
            #expect(inodes.used >= 2 && inodes.total > inodes.used)
            #expect(try await c.stats(v.volumeID, staging).usage(.bytes)?.used == bytes.used, "the staging path reports the same")

            // The quota: a write past the capacity fails with ENOSPC at the write.
            let full = writeFile("\(target)/b.log", bytes: 8 << 20)
            #expect(full.errno == ENOSPC, "writing past the claim's size: \(full)")
            #expect(full.written < 5 << 20)
            let atLimit = try await c.stats(v.volumeID, target).usage(.bytes)!
            #expect(atLimit.used <= capacity, "never more than the capacity: \(atLimit)")

            // Online expansion: the new size holds at once, at the target path.
            let grown = try await c.controller.controllerExpandVolume(Csi_V1_ControllerExpandVolumeRequest.with {
                $0.volumeID = v.volumeID
                $0.capacityRange.requiredBytes = 16 << 20
            })
            #expect(grown.nodeExpansionRequired)
            let expand = Csi_V1_NodeExpandVolumeRequest.with {
                $0.volumeID = v.volumeID
                $0.volumePath = target
                $0.stagingTargetPath = staging
                $0.capacityRange.requiredBytes = 16 << 20
            }
            #expect(try await c.node.nodeExpandVolume(expand).capacityBytes == 16 << 20)
            #expect(try await c.node.nodeExpandVolume(expand).capacityBytes == 16 << 20, "twice: same answer")
            #expect(statfsTotal(target) == 16 << 20, "df shows the new size")
            #expect(writeFile("\(target)/b.log", bytes: 8 << 20).errno == 0, "the room the expansion gave is usable at once")
            #expect(try await c.stats(v.volumeID, target).usage(.bytes)?.total == 16 << 20)

            try await c.unpublish(v.volumeID, target)
            #expect(!FileManager.default.fileExists(atPath: target))
            try await c.unstage(v.volumeID, staging)
            #expect(!isMounted(staging))
            _ = try await c.controller.deleteVolume(Csi_V1_DeleteVolumeRequest.with { $0.volumeID = v.volumeID })
            #expect(!FileManager.default.fileExists(atPath: v.volumeContext["cairn.io/path"]!))
        }
    }

    @Test func aDeadFuseSessionIsAnAbnormalConditionAndAFailedProbe() async throws {
        try await withDriver { d, c in
            let v = try await c.create("cond", bytes: 4 << 20)
            let staging = try d.stagingPath("cond")
            let target = try d.targetPath(pod: "p", volume: "cond")
            _ = try await c.node.nodeStageVolume(.make(v.volumeID, staging))
            _ = try await c.node.nodePublishVolume(.make(v.volumeID, staging: staging, target: target))
            #expect(try await c.stats(v.volumeID, target).volumeCondition.abnormal == false)

            // Kill the FUSE connection under the running driver.
            #expect(MountTable.abortFuseConnection(mountPoint: "\(d.stateDir)/mnt/\(d.nodeID)"))
            let stats = try await c.stats(v.volumeID, target)
            #expect(stats.volumeCondition.abnormal)
            #expect(stats.volumeCondition.message.contains("FUSE session"), "\(stats.volumeCondition.message)")
            await expectCode(.failedPrecondition, "Probe with the FUSE session gone") {
                try await c.identity.probe(Csi_V1_ProbeRequest())
            }
        }
    }

    @Test func bindingsWorkAgainstTheNodesDriver() async throws {
        try await withDriver { d, c in
            let pv = "pvc-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
            let v = try await c.create(pv, bytes: 4 << 20, modes: [.singleNodeMultiWriter], parameters: [
                "csi.storage.k8s.io/pvc/name": "data-db-0", "csi.storage.k8s.io/pvc/namespace": "shop",
                "csi.storage.k8s.io/pv/name": pv,
            ])
            let staging = try d.stagingPath(pv)
            let target = try d.targetPath(pod: "uid-db-0", volume: pv)
            _ = try await c.node.nodeStageVolume(.make(v.volumeID, staging, .singleNodeMultiWriter))
            _ = try await c.node.nodePublishVolume(.make(v.volumeID, staging: staging, target: target, mode: .singleNodeMultiWriter,
                                                         pod: "db-0"))
            #expect(writeFile("\(target)/f", bytes: 1 << 20).errno == 0)

            let json = try d.cairn(["bindings", "--socket", d.bindingsSocket, "-o", "json"])
            #expect(json.status == 0, "\(json.stderr)")
            // The CLI's own decoder of embedded mode's shape reads it.
            let list = try JSONCoding.decoder.decode(BindingList.self, from: Data(json.stdout.utf8))
            let row = try #require(list.items.first)
            #expect(list.items.count == 1)
            #expect(row.namespace == "shop" && row.claim == "data-db-0" && row.phase == .bound)
            #expect(row.volume == pv && row.node == d.nodeID && row.capacityBytes == 4 << 20)
            #expect((row.usedBytes ?? 0) >= 1 << 20)
            #expect(row.accessModes == ["ReadWriteOnce"])
            #expect(row.path == v.volumeContext["cairn.io/path"])
            #expect(row.pods.map(\.name) == ["db-0"] && row.pods.first?.hostPath == target)

            let table = try d.cairn(["bindings", "--socket", d.bindingsSocket])
            #expect(table.status == 0)
            #expect(table.stdout.contains("data-db-0") && table.stdout.contains("db-0:\(target)"), "\(table.stdout)")
            let otherNamespace = try d.cairn(["bindings", "--socket", d.bindingsSocket, "-n", "default", "-o", "json"])
            #expect(try JSONCoding.decoder.decode(BindingList.self, from: Data(otherNamespace.stdout.utf8)).items.isEmpty)

            // The claim's history is in SQLite's binding_history, as in embedded mode.
            let store = try Store(path: "\(d.stateDir)/cairn.db")
            let history = try store.read { try $0.history(namespace: "shop", claim: "data-db-0") }
            #expect(history.map(\.action) == [.provisioned, .mounted])
            #expect(history.allSatisfy { $0.claimUID == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" && $0.volume == pv })
            #expect(history.last?.pod == "db-0")
        }
    }
}
