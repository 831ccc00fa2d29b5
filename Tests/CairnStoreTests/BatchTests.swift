import CairnCore
import Foundation
import Testing
@testable import CairnStore

/// `Store.batch`: the controllers' group commit.
@Suite struct BatchTests {
    @Test func writesInABatchCommitTogetherAndReadsInsideSeeThem() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("cairn.db")
        let store = try Store(path: path)
        try store.batch {
            try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("a"), now: t0) }
            // Staged reads see the batch's uncommitted writes; other connections do not, yet.
            #expect(try store.readStaged { r in try r.list(kind: .persistentVolumeClaim).count } == 1)
            #expect(try store.read { r in try r.list(kind: .persistentVolumeClaim).count } == 0)
            try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("b"), now: t0) }
        }
        // Committed: another connection (a reopened store) sees both.
        let reopened = try Store(path: path)
        #expect(try reopened.read { r in try r.list(kind: .persistentVolumeClaim).map(\.key.name) }.sorted() == ["a", "b"])
    }

    @Test func aFailedWriteInsideABatchUndoesOnlyItself() throws {
        let store = try Store.inMemory()
        try store.batch {
            try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("a"), now: t0) }
            var refused = false
            do {
                try store.write { w in
                    _ = try w.create(.pod, pod("half"), now: t0)
                    _ = try w.create(.persistentVolumeClaim, claim("a"), now: t0)  // already exists
                }
            } catch is StoreError {
                refused = true
            }
            #expect(refused)
            try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("c"), now: t0) }
        }
        let claims = try store.read { r in try r.list(kind: .persistentVolumeClaim).map(\.key.name).sorted() }
        #expect(claims == ["a", "c"])
        let pods = try store.read { r in try r.list(kind: .pod) }
        #expect(pods.isEmpty, "the failed write's first half was undone with it")
    }

    @Test func aBatchThatThrowsStoresNothing() throws {
        struct Stop: Error {}
        let store = try Store.inMemory()
        #expect(throws: Stop.self) {
            try store.batch {
                try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("a"), now: t0) }
                throw Stop()
            }
        }
        #expect(try store.read { r in try r.list(kind: .persistentVolumeClaim).isEmpty })
    }
}
