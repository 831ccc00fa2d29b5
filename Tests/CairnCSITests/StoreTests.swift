import CairnCore
import CairnStore
import Foundation
import Testing

/// The CSI tables keep the lifecycle themselves: a publication needs a stage, a stage needs a volume,
/// nothing in use can be removed, and only SINGLE_NODE_MULTI_WRITER is published at two paths.
@Suite struct CSIStoreTests {
    let now = Time(Date(timeIntervalSince1970: 1_800_000_000))

    func volume(_ id: String, capacity: Int64 = 100, node: String = "n1") -> CSIVolumeRecord {
        CSIVolumeRecord(volumeID: id, name: "name-\(id)", node: node, dataRoot: "/data", directory: id, capacityBytes: capacity,
                        capabilities: "mount/SINGLE_NODE_WRITER", accessModes: ["SINGLE_NODE_WRITER"], parameters: ["dirMode": "0750"],
                        claimNamespace: "default", claimName: "c-\(id)", persistentVolume: "pvc-\(id)", createdAt: now)
    }

    func stage(_ id: String) -> CSIStageRecord {
        CSIStageRecord(volumeID: id, stagingPath: "/staging/\(id)", capability: "mount/SINGLE_NODE_WRITER",
                       accessMode: "SINGLE_NODE_WRITER", readOnly: false, stagedAt: now)
    }

    func publication(_ id: String, _ target: String, mode: String) -> CSIPublicationRecord {
        CSIPublicationRecord(targetPath: target, volumeID: id, capability: "mount/\(mode)", accessMode: mode, readOnly: false,
                             podNamespace: "default", podName: "p", podUID: "u", publishedAt: now)
    }

    func refused(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(what) must be refused")
        } catch let e as StoreError {
            guard case .invariant = e else { Issue.record("\(what): \(e)"); return }
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test func recordsRoundTripAndSum() throws {
        let store = try Store.inMemory()
        try store.write { w in
            try w.insertCSIVolume(volume("a", capacity: 100))
            try w.insertCSIVolume(volume("b", capacity: 50))
            try w.insertCSIVolume(volume("c", capacity: 7, node: "n2"))
        }
        let (a, b, listed, sum) = try store.read { r in
            (try r.csiVolume(id: "a"), try r.csiVolume(name: "name-b"), try r.csiVolumes(node: "n1"),
             try r.csiProvisionedBytes(node: "n1"))
        }
        #expect(a == volume("a", capacity: 100))
        #expect(b?.volumeID == "b")
        #expect(listed.map(\.volumeID) == ["a", "b"])
        #expect(sum == 150)
        try store.write { w in try w.setCSIVolumeCapacity(id: "a", bytes: 300) }
        #expect(try store.read { try $0.csiProvisionedBytes(node: "n1") } == 350)
        refused("a second volume with the same name") { try store.write { w in
            var v = volume("d")
            v.name = "name-a"
            try w.insertCSIVolume(v)
        } }
        refused("a second volume in the same directory") { try store.write { w in
            var v = volume("e")
            v.directory = "a"
            try w.insertCSIVolume(v)
        } }
        refused("a directory that is a path") { try store.write { w in
            var v = volume("f")
            v.directory = "../escape"
            try w.insertCSIVolume(v)
        } }
    }

    @Test func theLifecycleIsInTheForeignKeys() throws {
        let store = try Store.inMemory()
        refused("a stage of an unknown volume") { try store.write { w in try w.insertCSIStage(stage("x")) } }
        try store.write { w in try w.insertCSIVolume(volume("a")) }
        refused("a publication of an unstaged volume") { try store.write { w in
            try w.insertCSIPublication(publication("a", "/t/1", mode: "SINGLE_NODE_WRITER"))
        } }
        try store.write { w in
            try w.insertCSIStage(stage("a"))
            try w.insertCSIPublication(publication("a", "/t/1", mode: "SINGLE_NODE_WRITER"))
        }
        refused("deleting a staged volume") { try store.write { w in try w.deleteCSIVolume(id: "a") } }
        refused("unstaging a published volume") { try store.write { w in try w.deleteCSIStage(volumeID: "a") } }
        try store.write { w in
            try w.deleteCSIPublication(targetPath: "/t/1")
            try w.deleteCSIStage(volumeID: "a")
            try w.deleteCSIVolume(id: "a")
        }
        #expect(try store.read { try $0.csiVolume(id: "a") } == nil)
    }

    @Test func onlyMultiWriterIsPublishedAtTwoPaths() throws {
        let store = try Store.inMemory()
        try store.write { w in
            for id in ["one", "many"] {
                try w.insertCSIVolume(volume(id))
                try w.insertCSIStage(stage(id))
            }
            try w.insertCSIPublication(publication("one", "/t/one-1", mode: "SINGLE_NODE_SINGLE_WRITER"))
            try w.insertCSIPublication(publication("many", "/t/many-1", mode: "SINGLE_NODE_MULTI_WRITER"))
            try w.insertCSIPublication(publication("many", "/t/many-2", mode: "SINGLE_NODE_MULTI_WRITER"))
        }
        refused("a second path for SINGLE_NODE_SINGLE_WRITER") { try store.write { w in
            try w.insertCSIPublication(publication("one", "/t/one-2", mode: "SINGLE_NODE_SINGLE_WRITER"))
        } }
        refused("a single-writer path beside multi-writer ones") { try store.write { w in
            try w.insertCSIPublication(publication("many", "/t/many-3", mode: "SINGLE_NODE_WRITER"))
        } }
        #expect(try store.read { try $0.csiPublications(volumeID: "many") }.map(\.targetPath) == ["/t/many-1", "/t/many-2"])
    }

    @Test func aReopenedFileKeepsEverything() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-csi-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try Store(path: "\(dir)/cairn.db")
            try store.write { w in
                try w.insertCSIVolume(volume("a"))
                try w.insertCSIStage(stage("a"))
                try w.insertCSIPublication(publication("a", "/t/1", mode: "SINGLE_NODE_WRITER"))
            }
        }
        let reopened = try Store(path: "\(dir)/cairn.db")
        let (v, stages, publications) = try reopened.read { r in
            (try r.csiVolume(id: "a"), try r.csiStages(), try r.csiPublications())
        }
        #expect(v == volume("a"))
        #expect(stages == [stage("a")])
        #expect(publications == [publication("a", "/t/1", mode: "SINGLE_NODE_WRITER")])
    }
}
