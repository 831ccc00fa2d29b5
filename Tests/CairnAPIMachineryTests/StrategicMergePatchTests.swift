@testable import CairnAPIMachinery
import CairnCore
import Testing

/// patch_test.go's MergeItem and RetainKeysMergeItem, in UpstreamSchema's text format.
let mergeItemTable = TypeTable(text: """
test.MergeItem
  name s:string
  value s:string
  other s:string
  mergingList l:o:test.MergeItem strategy=merge key=name
  nonMergingList l:o:test.MergeItem
  mergingIntList l:s:integer strategy=merge
  nonMergingIntList l:s:integer
  mergeItemPtr o:test.MergeItem strategy=merge key=name
  simpleMap m:s:string
  replacingItem s:object strategy=replace
  jsonItem s:object
  retainKeysMap o:test.RetainKeysMergeItem strategy=retainKeys
  retainKeysMergingList l:o:test.MergeItem strategy=merge,retainKeys key=name
test.RetainKeysMergeItem
  name s:string
  value s:string
  other s:string
  simpleMap m:s:string
  mergingIntList l:s:integer strategy=merge
  mergingList l:o:test.MergeItem strategy=merge key=name
  nonMergingList l:o:test.MergeItem

""")

let mergeItemSchema = PatchSchema(table: mergeItemTable, node: .type("test.MergeItem"))

/// sortMergeListsByName from patch_test.go's helpers: merge lists ordered by merge key, merging scalar
/// lists deduplicated and sorted, so results compare independent of the order a list was built in.
func sortMergeLists(_ v: JSONValue, _ schema: PatchSchema) -> JSONValue {
    guard case .object(let m) = v else { return v }
    var out: [String: JSONValue] = [:]
    for (k, value) in m {
        if k == "$retainKeys" || k.hasPrefix("$deleteFromPrimitiveList"), case .array(let a) = value {
            out[k] = .array(a.sorted { goFormat($0) < goFormat($1) })
            continue
        }
        if k.hasPrefix("$") { out[k] = value; continue }
        guard let (sub, strategies, mergeKey) = try? schema.lookup(k) else { out[k] = value; continue }
        switch value {
        case .object: out[k] = sortMergeLists(value, sub)
        case .array(let a) where strategies.contains("merge"):
            if a.contains(where: { if case .object = $0 { return true } else { return false } }) {
                out[k] = .array(a.map { sortMergeLists($0, sub) }.sorted { goFormat($0[mergeKey] ?? .null) < goFormat($1[mergeKey] ?? .null) })
            } else {
                out[k] = .array(StrategicMergePatch.deduplicateScalars(a).sorted { goFormat($0) < goFormat($1) })
            }
        default: out[k] = value
        }
    }
    return .object(out)
}

struct StrategicMergePatchTests {
    /// apimachinery's own two-way cases: original + patch = the expected document. The YAML cases
    /// (1-40) are sorted by merge key first, as upstream's test sorts them; the raw cases compare exactly.
    @Test(arguments: UpstreamSMPCases.all)
    func upstream(_ c: UpstreamSMPCases.Case) throws {
        let sorted = c.number <= UpstreamSMPCases.sortedCount
        func prepare(_ v: JSONValue) -> JSONValue { sorted ? sortMergeLists(v, mergeItemSchema) : v }
        do {
            let result = try StrategicMergePatch.apply(prepare(json(c.patch)), to: prepare(json(c.original)), schema: mergeItemSchema)
            #expect(c.expectedError.isEmpty, "case \(c.number) (\(c.description)) should fail with \(c.expectedError)")
            if c.expectedError.isEmpty {
                #expect(prepare(result) == prepare(json(c.expected)), "case \(c.number): \(c.description): GOT \(result.jsonText())")
            }
        } catch {
            #expect(!c.expectedError.isEmpty && error.message.contains(c.expectedError), "case \(c.number) (\(c.description)): ERROR \(error)")
        }
    }

    /// The patches kubectl sends for Cairn's kinds, against k8s.io/api's patch metadata (numbered cases).
    static let kinds: [(Int, Kind, String, String, String)] = [
        // 1. kubectl apply: a container's image changes; the list merges by name, order kept.
        (1, .statefulSet,
         #"{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}}}"#,
         #"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"b","image":"z"}]}}}}"#,
         #"{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"z"}]}}}}"#),
        // 2. env merges by name, a null deletes a member, $patch: delete removes an element; without
        //    $setElementOrder a new element goes first (mergeSortedSlice finds no live position for it).
        (2, .pod,
         #"{"spec":{"containers":[{"name":"a","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"image":"x"}]}}"#,
         #"{"spec":{"containers":[{"name":"a","image":null,"env":[{"name":"B","$patch":"delete"},{"name":"C","value":"3"}]}]}}"#,
         #"{"spec":{"containers":[{"name":"a","env":[{"name":"C","value":"3"},{"name":"A","value":"1"}]}]}}"#),
        // 3. volumeMounts merge by mountPath, ports by containerPort.
        (3, .pod,
         #"{"spec":{"containers":[{"name":"a","volumeMounts":[{"name":"v","mountPath":"/data"}],"ports":[{"containerPort":80}]}]}}"#,
         #"{"spec":{"containers":[{"name":"a","volumeMounts":[{"name":"w","mountPath":"/logs"}],"ports":[{"containerPort":80,"name":"http"}]}]}}"#,
         #"{"spec":{"containers":[{"name":"a","volumeMounts":[{"name":"w","mountPath":"/logs"},{"name":"v","mountPath":"/data"}],"ports":[{"containerPort":80,"name":"http"}]}]}}"#),
        // 4. volumes: merge by name with retainKeys (a volume's source is replaced, not merged).
        (4, .pod,
         #"{"spec":{"volumes":[{"name":"v","persistentVolumeClaim":{"claimName":"c1"}}]}}"#,
         #"{"spec":{"volumes":[{"$retainKeys":["hostPath","name"],"name":"v","hostPath":{"path":"/x"}}]}}"#,
         #"{"spec":{"volumes":[{"name":"v","hostPath":{"path":"/x"}}]}}"#),
        // 5. finalizers merge as a set; $deleteFromPrimitiveList removes one.
        (5, .persistentVolumeClaim,
         #"{"metadata":{"finalizers":["a","b"]}}"#,
         #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"]}}"#,
         #"{"metadata":{"finalizers":["c","b"]}}"#),
        // 6. tolerations have no merge key upstream: the list is replaced.
        (6, .pod,
         #"{"spec":{"tolerations":[{"key":"a","operator":"Exists"}]}}"#,
         #"{"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}}"#,
         #"{"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}}"#),
        // 7. volumeClaimTemplates are atomic (no patch strategy): replaced whole.
        (7, .statefulSet,
         #"{"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}}"#,
         #"{"spec":{"volumeClaimTemplates":[{"metadata":{"name":"c"}}]}}"#,
         #"{"spec":{"volumeClaimTemplates":[{"metadata":{"name":"c"}}]}}"#),
        // 8. kubectl label / annotate: maps merge, a null removes a key.
        (8, .node,
         #"{"metadata":{"labels":{"a":"1","b":"2"},"annotations":{"x":"y"}}}"#,
         #"{"metadata":{"labels":{"b":null,"c":"3"}}}"#,
         #"{"metadata":{"labels":{"a":"1","c":"3"},"annotations":{"x":"y"}}}"#),
        // 9. kubectl cordon: spec.unschedulable set.
        (9, .node, #"{"spec":{}}"#, #"{"spec":{"unschedulable":true}}"#, #"{"spec":{"unschedulable":true}}"#),
        // 10. Node conditions merge by type; ownerReferences by uid.
        (10, .node,
         #"{"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]},"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"DiskPressure","status":"False"}]}}"#,
         #"{"metadata":{"ownerReferences":[{"uid":"2","name":"b"}]},"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#,
         #"{"metadata":{"ownerReferences":[{"uid":"2","name":"b"},{"uid":"1","name":"a"}]},"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"DiskPressure","status":"False"}]}}"#),
        // 11. $patch: replace on a map replaces it.
        (11, .replicaSet,
         #"{"spec":{"selector":{"matchLabels":{"a":"1"}}}}"#,
         #"{"spec":{"selector":{"$patch":"replace","matchLabels":{"b":"2"}}}}"#,
         #"{"spec":{"selector":{"matchLabels":{"b":"2"}}}}"#),
        // 12. A Service's ports merge by port (Cairn keeps the spec as opaque JSON, the patch still merges).
        (12, .service,
         #"{"spec":{"ports":[{"port":80,"name":"web"}],"clusterIP":"None"}}"#,
         #"{"spec":{"ports":[{"port":443,"name":"tls"}]}}"#,
         #"{"spec":{"ports":[{"port":443,"name":"tls"},{"port":80,"name":"web"}],"clusterIP":"None"}}"#),
        // 13. The null-delete of a whole list.
        (13, .pod, #"{"spec":{"nodeSelector":{"a":"b"},"containers":[{"name":"a"}]}}"#, #"{"spec":{"nodeSelector":null}}"#,
         #"{"spec":{"containers":[{"name":"a"}]}}"#),
    ]

    @Test(arguments: kinds)
    func kindPatches(_ c: (Int, Kind, String, String, String)) throws {
        let result = try StrategicMergePatch.apply(json(c.3), to: json(c.2), kind: c.1)
        #expect(result == json(c.4), "case \(c.0): \(result.jsonText())")
    }

    /// Bad patches: each gets the error text and Status kube-apiserver answers (numbered cases).
    static let failures: [(Int, Kind, String, String, String, Int)] = [
        (1, .pod, #"{"spec":{"containers":[{"name":"a"}]}}"#, #"{"spec":{"containers":[{"image":"x"}]}}"#,
         "map: map[image:x] does not contain declared merge key: name", 500),
        (2, .pod, #"{"spec":{}}"#, #"{"spec":{"$patch":"frob"}}"#, "unknown patch type: frob in map: map[$patch:frob]", 500),
        (3, .pod, #"{"metadata":{"finalizers":["a"]}}"#, #"{"metadata":{"$deleteFromPrimitiveList":["a"]}}"#,
         "invalid patch format of primitive list", 400),
        (4, .pod, #"{"spec":{"volumes":[{"name":"v","emptyDir":{}}]}}"#, #"{"spec":{"volumes":[{"name":"v","$retainKeys":"name"}]}}"#,
         "invalid patch format of retainKeys", 400),
        (5, .pod, #"{"spec":{"volumes":[{"name":"v"}]}}"#, #"{"spec":{"volumes":[{"name":"v","$retainKeys":["name"],"hostPath":{"path":"/"}}]}}"#,
         "invalid patch format of retainKeys", 400),
        (6, .pod, #"{"spec":{"containers":[{"name":"a"}]}}"#, #"{"spec":{"containers":[{"name":"a","$patch":"merge"},{"name":"b"}]}}"#,
         "merging lists cannot yet be specified in the patch", 500),
    ]

    @Test(arguments: failures)
    func failure(_ c: (Int, Kind, String, String, String, Int)) {
        do {
            _ = try StrategicMergePatch.apply(json(c.3), to: json(c.2), kind: c.1)
            Issue.record("case \(c.0) applied")
        } catch {
            #expect(error.message == c.4, "case \(c.0)")
            #expect(error.status.code == c.5, "case \(c.0)")
        }
    }

    @Test func everyListOfTheServedKindsHasUpstreamMetadata() {
        let pod = UpstreamSchema.root(.pod)
        #expect(pod == "core.v1.Pod")
        let containers = UpstreamSchema.field("containers", of: "core.v1.PodSpec")
        #expect(containers?.mergeKey == "name")
        #expect(containers?.strategies == ["merge"])
        #expect(containers?.listType == "map")
        #expect(UpstreamSchema.field("volumes", of: "core.v1.PodSpec")?.strategies == ["merge", "retainKeys"])
        #expect(UpstreamSchema.field("ports", of: "core.v1.Container")?.mapKeys == ["containerPort", "protocol"])
        #expect(UpstreamSchema.field("finalizers", of: "meta.v1.ObjectMeta")?.listType == "set")
        #expect(UpstreamSchema.field("conditions", of: "core.v1.PersistentVolumeClaimStatus")?.mergeKey == "type")
        #expect(UpstreamSchema.field("volumeClaimTemplates", of: "apps.v1.StatefulSetSpec")?.listType == "atomic")
        for kind in Kind.allCases {
            #expect(UpstreamSchema.fields(of: UpstreamSchema.root(kind)) != nil, "\(kind)")
        }
    }
}
