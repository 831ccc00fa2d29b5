import CairnCore
import Foundation
import GRDB
import Testing
@testable import CairnStore

/// The change log: one row per object write, in the write's own transaction, what watch serves.
@Suite struct ChangeLogTests {
    @Test func everyWriteIsLoggedInOrderWithItsBody() throws {
        let store = try Store.inMemory()
        let (a, b, gone) = try store.write { w in
            let a = try w.create(.persistentVolumeClaim, claim("a"), now: t0)
            var body = try a.decodedBody()
            body["spec"]?["volumeName"] = .string("pv-1")
            let b = try w.update(.persistentVolumeClaim, body)
            let gone = try w.delete(a.key)
            return (a, b, gone)
        }
        let changes = try store.read { try $0.changes(after: 0, kind: .persistentVolumeClaim, namespace: nil, limit: 10) }
        #expect(changes.map(\.type) == [.added, .modified, .deleted])
        #expect(changes.map(\.resourceVersion) == [a.resourceVersion, b.resourceVersion, gone.resourceVersion])
        #expect(changes.map(\.json) == [a.json, b.json, gone.json])
        #expect(try store.read { try $0.changes(after: a.resourceVersion, kind: .persistentVolumeClaim, namespace: nil, limit: 10) }.count == 2)
        #expect(try store.read { try $0.changes(after: 0, kind: .pod, namespace: nil, limit: 10) }.isEmpty)
    }

    @Test func anUpdateThatChangesNothingLogsNothing() throws {
        let store = try Store.inMemory()
        let a = try store.write { w in try w.create(.persistentVolumeClaim, claim("a"), now: t0) }
        let again = try store.write { w in try w.update(.persistentVolumeClaim, try a.decodedBody()) }
        #expect(again.resourceVersion == a.resourceVersion)
        #expect(try store.read { try $0.changeCount() } == 1)
    }

    @Test func aRefusedWriteLogsNothing() throws {
        let store = try Store.inMemory()
        _ = try store.write { w in try w.create(.persistentVolumeClaim, claim("a"), now: t0) }
        #expect(throws: StoreError.self) { try store.write { w in try w.create(.persistentVolumeClaim, claim("a"), now: t0) } }
        #expect(try store.read { try $0.changeCount() } == 1)
    }

    @Test func compactionKeepsTheNewestAndRecordsHowFarBack() throws {
        let store = try Store.inMemory()
        try store.write { w in for i in 0..<10 { _ = try w.create(.pod, pod("p\(i)"), now: t0) } }
        let removed = try store.write { w in try w.compactChanges(retain: 4) }
        #expect(removed == 6)
        let (left, compacted) = try store.read { r in
            (try r.changes(after: 0, kind: nil, namespace: nil, limit: 100).map(\.resourceVersion), try r.compactedResourceVersion())
        }
        #expect(left == [7, 8, 9, 10])
        #expect(compacted == 6)
        // Nothing more to remove: no write.
        #expect(try store.write { w in try w.compactChanges(retain: 4) } == 0)
    }

    @Test func theLogAndTheCompactionPointSurviveAReopen() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        do {
            let store = try Store(path: dir.path("cairn.db"))
            try store.write { w in for i in 0..<3 { _ = try w.create(.pod, pod("p\(i)"), now: t0) } }
            try store.write { w in _ = try w.compactChanges(retain: 2) }
        }
        let store = try Store(path: dir.path("cairn.db"))
        #expect(try store.read { try $0.compactedResourceVersion() } == 1)
        #expect(try store.read { try $0.changes(after: 1, kind: .pod, namespace: nil, limit: 10) }.map(\.key.name) == ["p1", "p2"])
    }

    @Test func stagedWritesShareOneCommitAndWakeWaiters() async throws {
        let store = try Store.inMemory()
        try store.stage { w in _ = try w.create(.pod, pod("a"), now: t0) }
        try store.stage { w in _ = try w.create(.pod, pod("b"), now: t0) }
        #expect(store.hasStagedWrites)
        let waiter = Task { await store.commits.wait(after: 0, timeout: .seconds(30)) }
        try store.commit()
        #expect(await waiter.value == 2)
        #expect(!store.hasStagedWrites)
        #expect(try store.read { try $0.list(kind: .pod).count } == 2)
    }

    @Test func aRolledBackStageLeavesNothing() throws {
        let store = try Store.inMemory()
        try store.stage { w in _ = try w.create(.pod, pod("a"), now: t0) }
        store.rollback()
        #expect(try store.read { try $0.list(kind: .pod).isEmpty })
        #expect(try store.read { try $0.changeCount() } == 0)
        #expect(try store.read { try $0.currentResourceVersion() } == 0)
    }
}

/// A file written by the first schema opens under the second with every row kept.
@Suite struct MigrationTests {
    @Test func versionOneFilesMigrate() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("cairn.db")
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v1-objects-history-fingerprints-usage")
            try queue.write { db in
                try db.execute(sql: """
                    UPDATE counters SET value = 1 WHERE name = 'resourceVersion';
                    INSERT INTO objects (kind, namespace, name, uid, resource_version, body) VALUES ('Pod', 'default', 'p', 'u-p', 1,
                        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default","resourceVersion":"1","uid":"u-p"}}');
                    INSERT INTO binding_history (at, namespace, claim, claim_uid, action) VALUES ('2027-01-15T08:00:00Z', 'default', 'c', 'u-c', 'mounted');
                    INSERT INTO fingerprints VALUES ('u-c', 'default', 'c', 'pv', 'p', '2027-01-15T08:00:00Z', 1, 2, 'd1');
                    INSERT INTO fingerprints VALUES ('arrival:u-c', 'default', 'c', 'pv', 'p', '2027-01-15T09:00:00Z', 3, 4, 'd2');
                    """)
            }
        }
        let store = try Store(path: path)
        let (uid, actions, left, arrival, compacted) = try store.read { r in
            (try r.get(ObjectKey(kind: .pod, namespace: "default", name: "p"))?.uid, try r.history(claimUID: "u-c").map(\.action),
             try r.fingerprint(claimUID: "u-c", kind: .left)?.digest, try r.fingerprint(claimUID: "u-c", kind: .arrival)?.digest,
             try r.compactedResourceVersion())
        }
        #expect(uid == "u-p")
        #expect(actions == [.mounted])
        #expect(left == "d1")
        #expect(arrival == "d2")
        // Writes before the change log existed cannot be replayed: a watch starts after them.
        #expect(compacted == 1)
        // The new actions are accepted.
        try store.write { w in
            _ = try w.appendHistory(HistoryEntry(at: t0, namespace: "default", claim: "c", claimUID: "u-c", action: .remounted))
        }
    }
}
