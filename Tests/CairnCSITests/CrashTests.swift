import CairnCSI
import CairnNode
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// kill -9 of the driver with volumes staged and published takes the node's FUSE session with it
/// (every staging and target mount goes dead); started again, the driver remounts them all from
/// SQLite before Probe answers ready, and the target paths serve the same data.
@Suite(.serialized) struct CrashTests {
    struct Published {
        var id: String
        var staging: String
        var target: String
        var readOnly: Bool
        var capacity: Int64
    }

    func setUp(_ d: DriverProcess, _ c: CSIClients) async throws -> [Published] {
        var out: [Published] = []
        let shared = try await c.create("crash-shared", bytes: 8 << 20, modes: [.singleNodeMultiWriter])
        let sharedStaging = try d.stagingPath("crash-shared")
        _ = try await c.node.nodeStageVolume(.make(shared.volumeID, sharedStaging, .singleNodeMultiWriter))
        for (pod, readOnly) in [("writer", false), ("reader", true)] {
            let target = try d.targetPath(pod: pod, volume: "crash-shared")
            _ = try await c.node.nodePublishVolume(.make(shared.volumeID, staging: sharedStaging, target: target, readOnly: readOnly,
                                                         mode: .singleNodeMultiWriter, pod: pod))
            out.append(Published(id: shared.volumeID, staging: sharedStaging, target: target, readOnly: readOnly, capacity: 8 << 20))
        }
        let once = try await c.create("crash-once", bytes: 4 << 20, modes: [.singleNodeSingleWriter])
        let onceStaging = try d.stagingPath("crash-once")
        let onceTarget = try d.targetPath(pod: "solo", volume: "crash-once")
        _ = try await c.node.nodeStageVolume(.make(once.volumeID, onceStaging, .singleNodeSingleWriter))
        _ = try await c.node.nodePublishVolume(.make(once.volumeID, staging: onceStaging, target: onceTarget,
                                                     mode: .singleNodeSingleWriter, pod: "solo"))
        out.append(Published(id: once.volumeID, staging: onceStaging, target: onceTarget, readOnly: false, capacity: 4 << 20))
        // Data, fsync'ed through the target paths.
        #expect(writeFile("\(out[0].target)/journal", bytes: 2 << 20, fill: 0x6a).errno == 0)
        #expect(writeFile("\(out[2].target)/solo.db", bytes: 1 << 20, fill: 0x73).errno == 0)
        return out
    }

    func checkServed(_ d: DriverProcess, _ c: CSIClients, _ volumes: [Published]) async throws {
        let journal = [UInt8](repeating: 0x6a, count: 2 << 20)
        for v in volumes {
            #expect(MountTable.mounts().filter { $0.mountPoint == v.target }.count == 1,
                    "\(v.target) is mounted once, with no dead mount left under it")
            #expect(statfsTotal(v.target) == v.capacity, "df at \(v.target) shows the claim's size")
            let stats = try await c.stats(v.id, v.target)
            #expect(!stats.volumeCondition.abnormal, "\(stats.volumeCondition.message)")
        }
        #expect(FileManager.default.contents(atPath: "\(volumes[0].target)/journal").map(Array.init) == journal)
        #expect(FileManager.default.contents(atPath: "\(volumes[1].target)/journal").map(Array.init) == journal,
                "the read-only publication serves the same data")
        #expect(FileManager.default.contents(atPath: "\(volumes[2].target)/solo.db")?.count == 1 << 20)
        #expect(writeFile("\(volumes[1].target)/x", bytes: 1).errno == EROFS, "still read-only")
        #expect(writeFile("\(volumes[2].target)/more", bytes: 1 << 20).errno == 0, "still writable")
        #expect(writeFile("\(volumes[2].target)/too-much", bytes: 8 << 20).errno == ENOSPC, "the quota still holds")
    }

    func tearDown(_ c: CSIClients, _ volumes: [Published]) async throws {
        for v in volumes { try await c.unpublish(v.id, v.target) }
        for v in volumes where !v.readOnly { try await c.unstage(v.id, v.staging) }
        for id in Set(volumes.map(\.id)) {
            _ = try await c.controller.deleteVolume(Csi_V1_DeleteVolumeRequest.with { $0.volumeID = id })
        }
    }

    @Test func killNineThenTheTargetPathsServeTheSameData() async throws {
        let d = try await DriverProcess()
        defer { d.stop() }
        do {
            let volumes = try await d.withClients { c in try await setUp(d, c) }
            d.crash()
            // The session died with the process: the mounts are there but dead.
            for v in volumes {
                var st = statvfs()
                #expect(statvfs(v.target, &st) != 0 && (errno == ENOTCONN || errno == ECONNABORTED),
                        "\(v.target) is dead after kill -9")
            }
            try await d.start()
            try await d.withClients { c in
                try await checkServed(d, c, volumes)
                try await tearDown(c, volumes)
            }
            #expect(d.log().contains("restored 2 of 2 staged volumes and 3 of 3 publications"))
        } catch {
            Issue.record("driver log:\n\(d.log().suffix(6000))")
            throw error
        }
    }

    @Test func aGracefulStopAndStartRemountsToo() async throws {
        let d = try await DriverProcess()
        defer { d.stop() }
        do {
            let volumes = try await d.withClients { c in try await setUp(d, c) }
            let stopped = d.terminate()
            #expect(stopped, "SIGTERM stops the driver by itself, volumes staged and all")
            if !stopped { Issue.record("driver log:\n\(d.log().suffix(4000))") }
            try await d.start()
            try await d.withClients { c in
                try await checkServed(d, c, volumes)
                try await tearDown(c, volumes)
            }
        } catch {
            Issue.record("driver log:\n\(d.log().suffix(6000))")
            throw error
        }
    }

    @Test func aSecondDriverOnTheSameStateDirectoryIsRefused() async throws {
        let d = try await DriverProcess()
        defer { d.stop() }
        let second = try d.cairn(["csi", "--endpoint", "unix://\(d.dir)/other.sock", "--node-id", d.nodeID,
                                  "--state-dir", d.stateDir])
        #expect(second.status != 0)
        #expect(second.stderr.contains("holds the state directory"), "\(second.stderr)")
    }

    @Test func badFlagsAreRefusedWithWhatToDo() async throws {
        let d = try await DriverProcess()
        defer { d.stop() }
        let cases: [([String], String)] = [
            (["csi", "--endpoint", "tcp://127.0.0.1:9000", "--node-id", "n"], "unix:///PATH.sock"),
            (["csi", "--endpoint", "unix:///tmp/x.socket", "--node-id", "n"], "end with .sock"),
            (["csi", "--endpoint", "unix://\(d.dir)/n.sock", "--node-id", "Bad/Name", "--state-dir", "\(d.dir)/s2"], "--node-id"),
            (["csi", "--endpoint", "unix://\(d.dir)/n.sock", "--node-id", "n", "--capacity", "lots"], "--capacity"),
        ]
        for (args, expected) in cases {
            let r = try d.cairn(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
    }
}
