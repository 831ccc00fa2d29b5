import CairnCore
import Foundation
import Testing
@testable import CairnStore

/// The binding invariants live in the schema (unique partial indexes); these tests go through the
/// writer and check both the refusal and that nothing of the refused transaction stays.
@Suite struct InvariantTests {
    @Test func aVolumeIsBoundToAtMostOneClaim() throws {
        let store = try Store.inMemory()
        try store.write { w in
            _ = try w.create(.persistentVolume, volume("pv-1"), now: t0)
            _ = try w.create(.persistentVolumeClaim, claim("first", volumeName: "pv-1"), now: t0)
        }
        let before = try store.read { r in try r.currentResourceVersion() }

        #expect(throws: StoreError.invariant(
            "persistentvolumeclaim \"default/second\" cannot be bound to volume \"pv-1\": persistentvolume \"pv-1\" "
                + "is already bound to another claim (persistentvolumeclaim \"default/first\")")) {
            try store.write { w in
                _ = try w.create(.pod, pod("unrelated"), now: t0)   // must not survive the failed transaction
                _ = try w.create(.persistentVolumeClaim, claim("second", namespace: "default", volumeName: "pv-1"), now: t0)
            }
        }
        // Binding an existing claim by update is refused the same way.
        try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("third", namespace: "other"), now: t0) }
        #expect(throws: StoreError.self) {
            try store.write { w in try w.update(.persistentVolumeClaim, claim("third", namespace: "other", volumeName: "pv-1")) }
        }

        let (claims, pods, rv) = try store.read { r in
            (try r.list(kind: .persistentVolumeClaim), try r.list(kind: .pod), try r.currentResourceVersion())
        }
        #expect(claims.map(\.key.name) == ["first", "third"])
        #expect(claims[1].body.at("spec.volumeName") == nil)
        #expect(pods.isEmpty)
        #expect(rv == before + 1)
    }

    @Test func aClaimIsBoundToAtMostOneVolume() throws {
        let store = try Store.inMemory()
        let c = try store.write { w in try w.create(.persistentVolumeClaim, claim("data"), now: t0) }
        try store.write { w in
            _ = try w.create(.persistentVolume, volume("pv-1", claimName: "data", claimUID: c.uid), now: t0)
        }
        #expect(throws: StoreError.invariant(
            "persistentvolume \"pv-2\" cannot be bound to claim \"default/data\" (uid \(c.uid)): persistentvolumeclaim "
                + "\"default/data\" is already bound to another volume (persistentvolume \"pv-1\")")) {
            try store.write { w in
                _ = try w.create(.persistentVolume, volume("pv-2"), now: t0)
                _ = try w.update(.persistentVolume, volume("pv-2", claimName: "data", claimUID: c.uid))
            }
        }
        let volumes = try store.read { r in try r.list(kind: .persistentVolume) }
        #expect(volumes.map(\.key.name) == ["pv-1"], "pv-2's create was rolled back with the refused update")
    }

    @Test func unboundAndPreBoundObjectsDoNotCollide() throws {
        // Many claims with no volumeName (or an empty one), and many volumes with no claimRef, or a
        // claimRef without a uid (pre-bound by name), are all fine.
        let store = try Store.inMemory()
        try store.write { w in
            for i in 0..<3 {
                _ = try w.create(.persistentVolumeClaim, claim("c\(i)"), now: t0)
                _ = try w.create(.persistentVolumeClaim, claim("e\(i)", volumeName: ""), now: t0)
                _ = try w.create(.persistentVolume, volume("pv-\(i)"), now: t0)
                _ = try w.create(.persistentVolume, volume("pre-\(i)", claimName: "c0"), now: t0)
            }
            // volumeName on a non-claim, or the same claim uid in two claims' bodies, is not a binding.
            var p = pod("p")
            p["spec"]?["volumeName"] = .string("pv-0")
            _ = try w.create(.pod, p, now: t0)
            _ = try w.create(.persistentVolumeClaim, claim("bound", volumeName: "pv-0"), now: t0)
        }
        #expect(try store.read { r in try r.list(kind: .persistentVolume).count } == 6)
    }

    @Test func releasingAVolumeFreesItForAnotherClaim() throws {
        let store = try Store.inMemory()
        try store.write { w in
            _ = try w.create(.persistentVolumeClaim, claim("old", volumeName: "pv-1"), now: t0)
        }
        try store.write { w in
            _ = try w.delete(ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "old"), preconditionUID: nil)
            _ = try w.create(.persistentVolumeClaim, claim("new", volumeName: "pv-1"), now: t0)
        }
        #expect(try store.read { r in try r.list(kind: .persistentVolumeClaim).map(\.key.name) } == ["new"])
    }

    @Test func aRefusedWriteThatIsCaughtLeavesNothingBehind() throws {
        // Each object write is its own savepoint: the caller may catch a refusal and go on.
        let store = try Store.inMemory()
        try store.write { w in
            _ = try w.create(.persistentVolumeClaim, claim("a", volumeName: "pv-1"), now: t0)
            #expect(throws: StoreError.self) {
                try w.create(.persistentVolumeClaim, claim("b", volumeName: "pv-1"), now: t0)
            }
            _ = try w.create(.persistentVolumeClaim, claim("b"), now: t0)
        }
        let (names, rv) = try store.read { r in
            (try r.list(kind: .persistentVolumeClaim).map { "\($0.key.name):\($0.resourceVersion)" }, try r.currentResourceVersion())
        }
        #expect(names == ["a:1", "b:2"], "the refused create took no resourceVersion")
        #expect(rv == 2)
    }

    @Test func uidsAreUniqueAcrossKinds() throws {
        let store = try Store.inMemory()
        let p = try store.write { w in try w.create(.pod, pod("p"), now: t0) }
        var c = claim("c")
        c["metadata"]?["uid"] = .string(p.uid)
        #expect(throws: StoreError.invariant(
            "persistentvolumeclaims \"default/c\" cannot use uid \(p.uid): it belongs to pods \"default/p\"")) {
            try store.write { w in try w.create(.persistentVolumeClaim, c, now: t0) }
        }
    }

    struct Tampering: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var refusal: String   // a fragment of SQLite's message, so each case fails for its own reason
        var testDescription: String { name }
    }

    static func podRow(uid: String, version: Int, kind: String = "Pod") -> String {
        """
        INSERT INTO objects VALUES ('Pod', 'default', 'x', '\(uid)', \(version),
          '{"kind":"\(kind)","metadata":{"name":"x","namespace":"default","uid":"\(uid)","resourceVersion":"\(version)"}}')
        """
    }

    // Raw SQL that bypasses the writer: the schema alone must refuse it. The store holds one pod at
    // resourceVersion 1 and one history row.
    @Test(arguments: [
        Tampering(name: "body not JSON", sql: "INSERT INTO objects VALUES ('Pod', 'default', 'x', 'u-x', 1, '{not json')",
                  refusal: "json_valid(body)"),
        Tampering(name: "kind column disagrees with body", sql: podRow(uid: "u-x", version: 1, kind: "Node"),
                  refusal: "json_extract(body, '$.kind') = kind"),
        Tampering(name: "resource_version not taken from the counter", sql: podRow(uid: "u-x", version: 7),
                  refusal: "resource_version must be the value just taken from the counter"),
        Tampering(name: "two objects at one resourceVersion", sql: podRow(uid: "u-x", version: 1),
                  refusal: "UNIQUE constraint failed: objects.resource_version"),
        Tampering(name: "uid changed", sql: "UPDATE objects SET uid = 'other'", refusal: "metadata.uid is immutable"),
        Tampering(name: "counter goes backwards", sql: "UPDATE counters SET value = 0", refusal: "counters never decrease"),
        Tampering(name: "counter deleted", sql: "DELETE FROM counters", refusal: "counters are never deleted"),
        Tampering(name: "history rewritten", sql: "UPDATE binding_history SET action = 'lost'",
                  refusal: "binding_history is append-only"),
        Tampering(name: "unknown history action", sql: """
            INSERT INTO binding_history (at, namespace, claim, claim_uid, action) VALUES ('x', 'd', 'c', 'u', 'stolen')
            """, refusal: "CHECK constraint failed: action IN"),
        Tampering(name: "wrong column type", sql: "INSERT INTO volume_usage VALUES ('v', 'lots', 1, 'x')",
                  refusal: "cannot store TEXT value in INTEGER column volume_usage.used_bytes"),
    ])
    func theSchemaRefusesInconsistentRows(_ t: Tampering) throws {
        let store = try Store.inMemory()
        try store.write { w in
            _ = try w.create(.pod, pod("p"), now: t0)
            try w.appendHistory(HistoryEntry(at: t0, namespace: "default", claim: "c", claimUID: "u", action: .bound))
        }
        do {
            try store.unsafeExecute(t.sql)
            Issue.record("the schema accepted: \(t.sql)")
        } catch {
            #expect("\(error)".contains(t.refusal), "\(error)")
        }
    }
}
