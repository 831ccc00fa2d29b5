import CairnCore
import Foundation
import Testing
@testable import CairnStore

@Suite struct ObjectTests {
    @Test func createStampsMetadataAndCanBeReadBack() throws {
        let store = try Store.inMemory()
        let created = try store.write { w in try w.create(.persistentVolumeClaim, claim("data-0"), now: t0) }
        let body = created.body

        #expect(created.key == ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "data-0"))
        #expect(created.resourceVersion == 1)
        #expect(body.at("apiVersion") == .string("v1"))
        #expect(body.at("kind") == .string("PersistentVolumeClaim"))
        #expect(body.at("metadata.uid") == .string(created.uid))
        #expect(created.uid == created.uid.lowercased() && UUID(uuidString: created.uid) != nil)
        #expect(body.at("metadata.resourceVersion") == .string("1"))
        #expect(body.at("metadata.creationTimestamp") == .string(t0.description))
        #expect(body.at("metadata.generation") == .int(1))
        #expect(body.at("spec.resources.requests.storage") == .string("1Gi"))
        #expect(created.json == body.jsonText(), "stored text is the sorted-key encoding")

        let fetched = try store.read { r in try r.get(created.key) }
        #expect(fetched == created)
    }

    @Test func createKeepsIdentityTheCallerSet() throws {
        let store = try Store.inMemory()
        var body = claim("restored")
        body["metadata"]?["uid"] = .string("0a0a0a0a-0000-4000-8000-000000000001")
        body["metadata"]?["creationTimestamp"] = .string("2020-01-01T00:00:00Z")
        body["metadata"]?["generation"] = .int(7)
        body["metadata"]?["resourceVersion"] = .string("999")
        let created = try store.write { w in try w.create(.persistentVolumeClaim, body, now: t0) }
        #expect(created.uid == "0a0a0a0a-0000-4000-8000-000000000001")
        #expect(created.body.at("metadata.creationTimestamp") == .string("2020-01-01T00:00:00Z"))
        #expect(created.body.at("metadata.generation") == .int(7))
        #expect(created.resourceVersion == 1, "resourceVersion always comes from the counter")
        #expect(created.body.at("metadata.resourceVersion") == .string("1"))
    }

    @Test func clusterScopedKindsDropTheNamespace() throws {
        let store = try Store.inMemory()
        var body = volume("pv-1")
        body["metadata"]?["namespace"] = .string("default")
        let created = try store.write { w in try w.create(.persistentVolume, body, now: t0) }
        #expect(created.key == ObjectKey(kind: .persistentVolume, name: "pv-1"))
        #expect(created.body.at("metadata.namespace") == nil)
        #expect(try store.read { r in try r.get(ObjectKey(kind: .persistentVolume, name: "pv-1")) } != nil)
    }

    @Test func createRefusesADuplicateKey() throws {
        let store = try Store.inMemory()
        try store.write { w in _ = try w.create(.persistentVolumeClaim, claim("c"), now: t0) }
        let key = ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "c")
        #expect(throws: StoreError.alreadyExists(key)) {
            try store.write { w in try w.create(.persistentVolumeClaim, claim("c"), now: t0) }
        }
        // The same name in another namespace, or of another kind, is another object.
        try store.write { w in
            _ = try w.create(.persistentVolumeClaim, claim("c", namespace: "other"), now: t0)
            _ = try w.create(.pod, pod("c"), now: t0)
        }
        #expect(try store.read { r in try r.currentResourceVersion() } == 3)
    }

    struct BadBody: Sendable, CustomTestStringConvertible {
        var kind: Kind
        var body: JSONValue
        var message: String
        var testDescription: String { message }
    }

    @Test(arguments: [
        BadBody(kind: .pod, body: .array([]), message: "a Pod must be a JSON object, not array"),
        BadBody(kind: .pod, body: .object(["metadata": .string("x")]), message: "Pod metadata must be an object, not string"),
        BadBody(kind: .pod, body: .object(["metadata": .object(["namespace": .string("default")])]),
                message: "Pod: metadata.name: Required value: name is required"),
        BadBody(kind: .persistentVolume, body: .object(["metadata": .object(["name": .string("")])]),
                message: "PersistentVolume: metadata.name: Required value: name is required"),
        BadBody(kind: .pod, body: .object(["metadata": .object(["name": .string("p")])]),
                message: "pods \"p\": metadata.namespace: Required value: Pod is namespaced"),
    ])
    func createRefusesBodiesItCannotKey(_ c: BadBody) throws {
        let store = try Store.inMemory()
        #expect(throws: StoreError.invariant(c.message)) {
            try store.write { w in try w.create(c.kind, c.body, now: t0) }
        }
        #expect(try store.read { r in try r.currentResourceVersion() } == 0)
    }

    @Test func listIsSortedByNamespaceThenNameAndFiltersByNamespace() throws {
        let store = try Store.inMemory()
        try store.write { w in
            for (ns, name) in [("b", "x"), ("a", "z"), ("a", "y"), ("c", "a")] {
                _ = try w.create(.persistentVolumeClaim, claim(name, namespace: ns), now: t0)
            }
            _ = try w.create(.pod, pod("x", namespace: "a"), now: t0)
        }
        let (all, inA, none, rv) = try store.read { r in
            (try r.list(kind: .persistentVolumeClaim), try r.list(kind: .persistentVolumeClaim, namespace: "a"),
             try r.list(kind: .statefulSet), try r.currentResourceVersion())
        }
        #expect(all.map { "\($0.key.namespace)/\($0.key.name)" } == ["a/y", "a/z", "b/x", "c/a"])
        #expect(inA.map(\.key.name) == ["y", "z"])
        #expect(none.isEmpty)
        #expect(rv == 5)
    }

    @Test func updateKeepsIdentityAndTakesANewResourceVersion() throws {
        let store = try Store.inMemory()
        let created = try store.write { w in try w.create(.persistentVolumeClaim, claim("c"), now: t0) }
        var body = created.body
        body["status"] = .object(["phase": .string("Bound")])
        body["metadata"]?["uid"] = nil
        body["metadata"]?["creationTimestamp"] = .string("1999-01-01T00:00:00Z")
        let updated = try store.write { w in try w.update(.persistentVolumeClaim, body) }

        #expect(updated.uid == created.uid)
        #expect(updated.resourceVersion == 2)
        #expect(updated.body.at("metadata.uid") == .string(created.uid))
        #expect(updated.body.at("metadata.creationTimestamp") == .string(t0.description))
        #expect(updated.body.at("metadata.resourceVersion") == .string("2"))
        #expect(updated.body.at("status.phase") == .string("Bound"))
        #expect(try store.read { r in try r.get(created.key) } == updated)
    }

    @Test func updateOfAMissingObjectIsNotFound() throws {
        let store = try Store.inMemory()
        let key = ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "ghost")
        #expect(throws: StoreError.notFound(key)) {
            try store.write { w in try w.update(.persistentVolumeClaim, claim("ghost")) }
        }
    }

    struct VersionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var given: JSONValue?   // metadata.resourceVersion in the body; nil = absent
        var require: Bool
        var conflict: String?   // expected conflict reason, nil = accepted
        var testDescription: String { name }
    }

    // The stored object is at resourceVersion 2 when each update is tried.
    @Test(arguments: [
        VersionCase(name: "absent, not required", given: nil, require: false, conflict: nil),
        VersionCase(name: "absent, required", given: nil, require: true,
                    conflict: "metadata.resourceVersion must be specified for an update"),
        VersionCase(name: "current", given: .string("2"), require: true, conflict: nil),
        VersionCase(name: "current as a number", given: .int(2), require: false, conflict: nil),
        VersionCase(name: "stale", given: .string("1"), require: false, conflict: StoreError.objectModified),
        VersionCase(name: "from the future", given: .string("3"), require: true, conflict: StoreError.objectModified),
        VersionCase(name: "not a number", given: .string("abc"), require: false, conflict: StoreError.objectModified),
    ])
    func updateChecksTheResourceVersion(_ c: VersionCase) throws {
        let store = try Store.inMemory()
        let key = ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "c")
        try store.write { w in
            _ = try w.create(.persistentVolumeClaim, claim("c"), now: t0)
            var b = claim("c")
            b["status"] = .object(["phase": .string("Pending")])
            _ = try w.update(.persistentVolumeClaim, b)
        }
        var body = claim("c")
        body["status"] = .object(["phase": .string("Bound")])
        body["metadata"]?["resourceVersion"] = c.given
        if let reason = c.conflict {
            #expect(throws: StoreError.conflict(key, reason)) {
                try store.write { w in try w.update(.persistentVolumeClaim, body, requireResourceVersion: c.require) }
            }
            #expect(try store.read { r in try r.get(key)?.resourceVersion } == 2)
        } else {
            let updated = try store.write { w in
                try w.update(.persistentVolumeClaim, body, requireResourceVersion: c.require)
            }
            #expect(updated.resourceVersion == 3)
        }
    }

    @Test func updateWithAnotherUIDIsAConflict() throws {
        let store = try Store.inMemory()
        let created = try store.write { w in try w.create(.persistentVolumeClaim, claim("c"), now: t0) }
        var body = claim("c")
        body["metadata"]?["uid"] = .string("someone-else")
        #expect(throws: StoreError.conflict(created.key,
            "Precondition failed: UID in precondition: someone-else, UID in object meta: \(created.uid)")) {
            try store.write { w in try w.update(.persistentVolumeClaim, body) }
        }
    }

    struct GenerationCase: Sendable, CustomTestStringConvertible {
        var name: String
        var change: @Sendable (inout JSONValue) -> Void
        var generation: Int64
        var newVersion: Bool
        var testDescription: String { name }
    }

    @Test(arguments: [
        GenerationCase(name: "spec changed", change: { $0["spec"]?["resources"] = .object(["requests": .object(["storage": .string("2Gi")])]) },
                       generation: 2, newVersion: true),
        GenerationCase(name: "spec field added", change: { $0["spec"]?["storageClassName"] = .string("local") },
                       generation: 2, newVersion: true),
        GenerationCase(name: "spec removed", change: { $0["spec"] = nil }, generation: 2, newVersion: true),
        GenerationCase(name: "status changed", change: { $0["status"] = .object(["phase": .string("Bound")]) },
                       generation: 1, newVersion: true),
        GenerationCase(name: "labels changed", change: { $0["metadata"]?["labels"] = .object(["a": .string("b")]) },
                       generation: 1, newVersion: true),
        GenerationCase(name: "caller's generation is ignored", change: { $0["metadata"]?["generation"] = .int(40) },
                       generation: 1, newVersion: false),
        GenerationCase(name: "nothing changed", change: { _ in }, generation: 1, newVersion: false),
    ])
    func generationMovesOnlyWithSpec(_ c: GenerationCase) throws {
        let store = try Store.inMemory()
        let created = try store.write { w in try w.create(.persistentVolumeClaim, claim("c"), now: t0) }
        var body = created.body
        c.change(&body)
        let updated = try store.write { w in try w.update(.persistentVolumeClaim, body, requireResourceVersion: true) }
        #expect(updated.body.at("metadata.generation") == .int(c.generation))
        #expect(updated.resourceVersion == (c.newVersion ? 2 : 1))
        #expect(try store.read { r in try r.currentResourceVersion() } == (c.newVersion ? 2 : 1))
        if !c.newVersion { #expect(updated == created) }
    }

    @Test func deleteReturnsTheObjectAtTheDeletionsVersion() throws {
        let store = try Store.inMemory()
        let created = try store.write { w in try w.create(.pod, pod("p"), now: t0) }
        let deleted = try store.write { w in try w.delete(created.key, preconditionUID: created.uid) }
        #expect(deleted.uid == created.uid)
        #expect(deleted.resourceVersion == 2)
        #expect(deleted.body.at("metadata.resourceVersion") == .string("2"))
        #expect(deleted.body.at("spec") == created.body.at("spec"))
        let (gone, rv) = try store.read { r in (try r.get(created.key), try r.currentResourceVersion()) }
        #expect(gone == nil)
        #expect(rv == 2)
        #expect(throws: StoreError.notFound(created.key)) {
            try store.write { w in try w.delete(created.key, preconditionUID: nil) }
        }
    }

    @Test func deleteWithAStaleUIDIsAConflictAndKeepsTheObject() throws {
        let store = try Store.inMemory()
        let created = try store.write { w in try w.create(.pod, pod("p"), now: t0) }
        #expect(throws: StoreError.conflict(created.key,
            "Precondition failed: UID in precondition: old-uid, UID in object meta: \(created.uid)")) {
            try store.write { w in try w.delete(created.key, preconditionUID: "old-uid") }
        }
        #expect(try store.read { r in try r.get(created.key) } == created)
    }

    @Test func aThrowingWriteRollsBackEverything() throws {
        struct Stop: Error {}
        let store = try Store.inMemory()
        #expect(throws: Stop.self) {
            try store.write { w in
                _ = try w.create(.pod, pod("a"), now: t0)
                try w.appendHistory(HistoryEntry(at: t0, namespace: "default", claim: "c", claimUID: "u", action: .bound))
                throw Stop()
            }
        }
        let (pods, rv, history) = try store.read { r in
            (try r.list(kind: .pod), try r.currentResourceVersion(), try r.history(claimUID: "u"))
        }
        #expect(pods.isEmpty && rv == 0 && history.isEmpty)
    }

    @Test func writesSeeTheirOwnChanges() throws {
        let store = try Store.inMemory()
        try store.write { w in
            let c = try w.create(.pod, pod("a"), now: t0)
            #expect(try w.get(c.key) == c)
            #expect(try w.list(kind: .pod).count == 1)
            #expect(try w.currentResourceVersion() == 1)
        }
    }

    @Test(arguments: [
        (StoreError.notFound(ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "x")),
         "persistentvolumeclaims \"x\" not found"),
        (StoreError.alreadyExists(ObjectKey(kind: .persistentVolume, name: "pv-1")),
         "persistentvolumes \"pv-1\" already exists"),
        (StoreError.conflict(ObjectKey(kind: .persistentVolumeClaim, namespace: "default", name: "x"), StoreError.objectModified),
         "Operation cannot be fulfilled on persistentvolumeclaims \"x\": the object has been modified; "
            + "please apply your changes to the latest version and try again"),
        (StoreError.invariant("persistentvolume \"pv-1\" is already bound to another claim"),
         "persistentvolume \"pv-1\" is already bound to another claim"),
    ])
    func errorsReadAsKubernetesWritesThem(_ error: StoreError, _ message: String) {
        #expect(error.description == message)
        #expect(error.localizedDescription == message)
    }
}
