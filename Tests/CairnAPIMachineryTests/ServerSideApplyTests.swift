@testable import CairnAPIMachinery
import CairnCore
import Foundation
import Testing

struct ServerSideApplyTests {
    static let t0 = Time(Date(timeIntervalSince1970: 1_800_000_000))
    static let t1 = Time(Date(timeIntervalSince1970: 1_800_000_100))

    static let sts = json(#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"serviceName":"web","template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"nginx:1","ports":[{"containerPort":80}]}]}}}}"#)

    static func entries(_ o: JSONValue) -> [JSONValue] { o["metadata"]?["managedFields"]?.arrayValue ?? [] }

    /// 1. An apply that creates: one Apply entry owning exactly what the configuration names.
    @Test func applyCreates() throws {
        let out = try ServerSideApply.apply(live: nil, applied: Self.sts, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t0)
        #expect(out["spec"]?["replicas"] == 1)
        let e = try #require(Self.entries(out).first)
        #expect(Self.entries(out).count == 1)
        #expect(e["manager"] == "kubectl")
        #expect(e["operation"] == "Apply")
        #expect(e["apiVersion"] == "apps/v1")
        #expect(e["fieldsType"] == "FieldsV1")
        #expect(e["time"] == "2027-01-15T08:00:00Z")
        #expect(e["fieldsV1"] == json(#"""
            {"f:metadata":{"f:labels":{"f:app":{}}},
             "f:spec":{"f:replicas":{},"f:selector":{"f:matchLabels":{"f:app":{}}},"f:serviceName":{},
               "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
                 "f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},
                   "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}
            """#))
    }

    /// 2. kubectl apply (client side) then kubectl apply --server-side changing replicas: kube-apiserver's conflict.
    @Test func conflictWithClientSideApply() throws {
        let created = ServerSideApply.update(old: nil, new: Self.sts, kind: .statefulSet, manager: "kubectl-client-side-apply", now: Self.t0)
        #expect(Self.entries(created).first?["operation"] == "Update")
        #expect(Self.entries(created).first?["fieldsV1"]?["f:spec"]?["f:replicas"] == [:])
        var applied = Self.sts
        applied["spec"]?["replicas"] = 3
        do {
            _ = try ServerSideApply.apply(live: created, applied: applied, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t1)
            Issue.record("no conflict")
        } catch {
            #expect(error.code == 409)
            #expect(error.reason == .conflict)
            #expect(error.message == #"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#)
            #expect(error.details?.causes == [Status.Cause(reason: "FieldManagerConflict", message: #"conflict with "kubectl-client-side-apply" using apps/v1"#, field: ".spec.replicas")])
        }
        // 3. The same values are no conflict: both managers share the fields.
        let shared = try ServerSideApply.apply(live: created, applied: Self.sts, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t1)
        #expect(Self.entries(shared).count == 2)
        #expect(Self.entries(shared).allSatisfy { $0["fieldsV1"]?["f:spec"]?["f:replicas"] == [:] })

        // 4. --force-conflicts: the apply wins and takes the field.
        let forced = try ServerSideApply.apply(live: created, applied: applied, kind: .statefulSet, manager: "kubectl", force: true, now: Self.t1)
        #expect(forced["spec"]?["replicas"] == 3)
        let csa = try #require(Self.entries(forced).first { $0["manager"] == "kubectl-client-side-apply" })
        #expect(csa["fieldsV1"]?["f:spec"]?["f:replicas"] == nil)
        #expect(csa["fieldsV1"]?["f:spec"]?["f:serviceName"] == [:])
    }

    /// 5. Several conflicts, from two managers, listed by manager.
    @Test func severalConflicts() throws {
        var a = ServerSideApply.update(old: nil, new: Self.sts, kind: .statefulSet, manager: "alpha", now: Self.t0)
        var changed = a
        changed["spec"]?["serviceName"] = "other"
        a = ServerSideApply.update(old: a, new: changed, kind: .statefulSet, manager: "beta", now: Self.t1)
        var applied = Self.sts
        applied["spec"]?["replicas"] = 2
        applied["spec"]?["serviceName"] = "third"
        do {
            _ = try ServerSideApply.apply(live: a, applied: applied, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t1)
            Issue.record("no conflict")
        } catch {
            #expect(error.message == "Apply failed with 2 conflicts: conflicts with \"alpha\" using apps/v1:\n- .spec.replicas\nconflicts with \"beta\" using apps/v1:\n- .spec.serviceName")
        }
    }

    /// 6. A field the applier set before and leaves out now is removed (nobody else owns it);
    /// an associative list item it drops is removed too.
    @Test func applyPrunesWhatItNoLongerSets() throws {
        var withEnv = Self.sts
        withEnv["spec"]?["template"]?["spec"]?["containers"] = json(#"[{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]"#)
        let first = try ServerSideApply.apply(live: nil, applied: withEnv, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t0)
        var second = withEnv
        second["spec"]?["replicas"] = nil
        second["spec"]?["template"]?["spec"]?["containers"] = json(#"[{"name":"app","image":"nginx:1","env":[{"name":"B","value":"2"}]}]"#)
        let out = try ServerSideApply.apply(live: first, applied: second, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t1)
        #expect(out["spec"]?["replicas"] == nil)
        #expect(out["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"] == json(#"[{"name":"B","value":"2"}]"#))
    }

    /// 7. A field owned by another manager stays when the applier drops it.
    @Test func applyKeepsWhatOthersOwn() throws {
        let first = try ServerSideApply.apply(live: nil, applied: Self.sts, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t0)
        var scaled = first
        scaled["spec"]?["replicas"] = 5
        let afterScale = ServerSideApply.update(old: first, new: scaled, kind: .statefulSet, manager: "kube-controller-manager", subresource: "scale", now: Self.t1)
        var without = Self.sts
        without["spec"]?["replicas"] = nil
        let out = try ServerSideApply.apply(live: afterScale, applied: without, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t1)
        #expect(out["spec"]?["replicas"] == 5)
        let scaler = try #require(Self.entries(out).first { $0["manager"] == "kube-controller-manager" })
        #expect(scaler["subresource"] == "scale")
    }

    /// 8. Updates: status is not tracked on the main resource; label changes move ownership.
    @Test func updatesTrackOwnership() throws {
        var pod = json(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"1"}},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending"}}"#)
        let created = ServerSideApply.update(old: nil, new: pod, kind: .pod, manager: "kubectl-create", now: Self.t0)
        let fields = try #require(Self.entries(created).first?["fieldsV1"])
        #expect(fields["f:status"] == nil)
        #expect(fields["f:metadata"]?["f:labels"] == json(#"{".":{},"f:a":{}}"#))
        pod = created
        pod["metadata"]?["labels"]?["a"] = "2"
        let relabelled = ServerSideApply.update(old: created, new: pod, kind: .pod, manager: "kubectl-label", now: Self.t1)
        let label = try #require(Self.entries(relabelled).first { $0["manager"] == "kubectl-label" })
        #expect(label["fieldsV1"] == json(#"{"f:metadata":{"f:labels":{"f:a":{}}}}"#))
        let create = try #require(Self.entries(relabelled).first { $0["manager"] == "kubectl-create" })
        // It still owns the labels map itself (a member with no children prints as {}).
        #expect(create["fieldsV1"]?["f:metadata"]?["f:labels"] == [:])
        // No change: no new entry, no new time.
        let same = ServerSideApply.update(old: relabelled, new: relabelled, kind: .pod, manager: "kubectl-edit", now: Self.t1)
        #expect(Self.entries(same).count == 2)
    }

    @Test func applyRequestChecks() throws {
        var bad = Self.sts
        bad["metadata"]?["managedFields"] = [["manager": "x"]]
        #expect(throws: Status.badRequest("metadata.managedFields must be nil")) {
            try ServerSideApply.apply(live: nil, applied: bad, kind: .statefulSet, manager: "kubectl", force: false, now: Self.t0)
        }
        #expect(throws: Status.self) { try ServerSideApply.validatePatchOptions(.apply, fieldManager: nil, force: false) }
        #expect(throws: Status.self) { try ServerSideApply.validatePatchOptions(.merge, fieldManager: "x", force: true) }
        try ServerSideApply.validatePatchOptions(.apply, fieldManager: "kubectl", force: true)
        do {
            try ServerSideApply.validatePatchOptions(.apply, fieldManager: "", force: false)
        } catch {
            #expect(error.message == #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#)
        }
        #expect(ServerSideApply.managerName(fieldManager: nil, userAgent: "kubectl/v1.32.4 (linux/amd64) kubernetes/abc") == "kubectl")
        #expect(ServerSideApply.managerName(fieldManager: "kubectl-edit", userAgent: "kubectl/v1.32.4") == "kubectl-edit")
    }

    @Test func fieldSetRoundTrip() throws {
        let v1 = json(#"{"f:metadata":{"f:labels":{".":{},"f:a":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{}}},"f:finalizers":{"v:\"x\"":{}}}}"#)
        let set = try FieldSet(fieldsV1: v1)
        #expect(set.fieldsV1 == v1)
        #expect(set.contains([.field("metadata"), .field("labels")]))
        #expect(set.paths.map(\.pathString).contains(#".spec.containers[name="c"].image"#))
    }
}
