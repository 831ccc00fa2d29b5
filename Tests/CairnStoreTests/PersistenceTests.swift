import CairnCore
import Foundation
import Testing
@testable import CairnStore

@Suite struct PersistenceTests {
    @Test func aReopenedStoreKeepsEverythingAndVersionsNeverGoBack() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("state/nested/cairn.db")   // parent directories are created
        var uid = ""
        do {
            let store = try Store(path: path)
            #expect(store.path == path)
            try store.write { w in
                uid = try w.create(.persistentVolumeClaim, claim("keep"), now: t0).uid
                let gone = try w.create(.pod, pod("gone"), now: t0)
                _ = try w.delete(gone.key, preconditionUID: gone.uid)
                try w.appendHistory(HistoryEntry(at: t0, namespace: "default", claim: "keep", claimUID: uid,
                                                 volume: "pv-1", action: .provisioned))
                try w.recordFingerprint(Fingerprint(claimUID: uid, kind: .left, namespace: "default", claim: "keep", volume: "pv-1",
                                                    pod: "web-0", recordedAt: t0, files: 3, bytes: 42, digest: "sha256:ab"))
                try w.recordUsage(volume: "pv-1", used: 42, capacity: 1 << 30, at: t0)
            }
            #expect(try store.read { r in try r.currentResourceVersion() } == 3)
        }

        let store = try Store(path: path)
        try store.read { r in
            let kept = try r.get(ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "keep"))
            #expect(kept?.uid == uid)
            #expect(kept?.resourceVersion == 1)
            #expect(try r.list(kind: .pod).isEmpty)
            // The counter is its own row, not max(resource_version): the delete's version is kept.
            #expect(try r.currentResourceVersion() == 3)
            #expect(try r.history(claimUID: uid).map(\.action) == [.provisioned])
            #expect(try r.fingerprint(claimUID: uid, kind: .left)?.digest == "sha256:ab")
            #expect(try r.usage(volume: "pv-1")?.usedBytes == 42)
        }
        let next = try store.write { w in try w.create(.pod, pod("gone"), now: t0) }
        #expect(next.resourceVersion == 4)
    }

    @Test func migrationsRunOnceAndReopeningIsIdempotent() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("cairn.db")
        let first = try Store(path: path).appliedMigrations()
        #expect(first == Schema.migrator.migrations)
        for _ in 0..<3 {
            let store = try Store(path: path)
            #expect(try store.appliedMigrations() == first)
            #expect(try store.read { r in try r.currentResourceVersion() } == 0, "the counter row is seeded once")
        }
    }

    @Test func aStoreFromANewerCairnIsRefused() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("cairn.db")
        try Store(path: path).unsafeExecute("INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        do {
            _ = try Store(path: path)
            Issue.record("opening a newer store should fail")
        } catch let error as StoreError {
            #expect(error.description.contains("written by a newer Cairn"))
            #expect(error.description.contains("v99-from-the-future"))
        }
    }

    @Test func theFileIsWALWithFullSync() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try Store(path: dir.path("cairn.db"))
        #expect(try store.writerPragma("journal_mode") == "wal")
        #expect(try store.writerPragma("synchronous") == "2", "2 is FULL")
        #expect(try store.writerPragma("foreign_keys") == "1")
    }

    @Test func aCommittedWriteSurvivesAnUncleanStop() throws {
        // What kill -9 leaves: the main file and the WAL as they are while the store is open, with no
        // checkpoint and no clean close. Copy both while the store is live and open the copy.
        let dir = try TempDir()
        defer { dir.cleanup() }
        let live = dir.path("live/cairn.db")
        let store = try Store(path: live)
        try store.write { w in
            for i in 0..<20 { _ = try w.create(.pod, pod("p\(i)"), now: t0) }
        }
        let copy = dir.path("copy/cairn.db")
        try FileManager.default.createDirectory(atPath: dir.path("copy"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: live, toPath: copy)
        try FileManager.default.copyItem(atPath: live + "-wal", toPath: copy + "-wal")
        let walSize = try FileManager.default.attributesOfItem(atPath: live + "-wal")[.size] as? Int ?? 0
        #expect(walSize > 0, "the write is still in the WAL, not checkpointed")

        let recovered = try Store(path: copy)
        let (count, rv) = try recovered.read { r in (try r.list(kind: .pod).count, try r.currentResourceVersion()) }
        #expect(count == 20)
        #expect(rv == 20)
        withExtendedLifetime(store) {}
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("cairn.db")
        try Data(String(repeating: "not sqlite ", count: 1000).utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Store(path: path)
            Issue.record("opening garbage should fail")
        } catch let error as StoreError {
            guard case .corrupt(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains(path))
        }
    }

    @Test func anUnwritableDirectoryIsAClearError() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let blocker = dir.path("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        #expect(throws: StoreError.self) { try Store(path: blocker + "/sub/cairn.db") }
    }

    @Test func badRowsSurfaceAsErrorsNotCrashes() throws {
        let store = try Store.inMemory()
        try store.unsafeExecute("""
            INSERT INTO binding_history (at, namespace, claim, claim_uid, action) VALUES ('yesterday', 'd', 'c', 'u', 'bound')
            """)
        do {
            _ = try store.read { r in try r.history(claimUID: "u") }
            Issue.record("a bad time should not decode")
        } catch let error as StoreError {
            #expect(error == .corrupt("binding_history.at of row 1 holds \"yesterday\", which is not an RFC 3339 time"))
        }
    }
}
