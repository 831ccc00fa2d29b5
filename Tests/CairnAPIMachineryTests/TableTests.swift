@testable import CairnAPIMachinery
import CairnCore
import Foundation
import Testing

struct TableTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ secondsAgo: Int) -> String { Time(now.addingTimeInterval(-Double(secondsAgo))).description }

    static func cells(_ text: String) -> [JSONValue] {
        let o = Fixtures.object(text.replacingOccurrences(of: "T0", with: at(3 * 3600)).replacingOccurrences(of: "T1", with: at(90)))
        return TableRows.row(o, context: TableContext(now: now, kubeletVersion: "v1.32.0")).cells
    }

    /// Pod STATUS and READY as printPod derives them (numbered cases).
    static let pods: [(Int, String, [JSONValue])] = [
        (1, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":"T0"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
         ["a", "1/1", "Running", "0", "3h", "<none>", "<none>", "<none>", "<none>"]),
        (2, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":"T1"},"spec":{"containers":[{"name":"c"},{"name":"d"}]},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}]}}"#,
         ["a", "0/2", "Running", "0", "90s", "<none>", "<none>", "<none>", "<none>"]),
        // 3. Scheduled, volumes not yet mounted: what a kubelet reports while it sets the pod up.
        (3, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":"T0"},"spec":{"nodeName":"n1","containers":[{"name":"c"}]},"status":{"phase":"Pending"}}"#,
         ["a", "0/1", "ContainerCreating", "0", "3h", "<none>", "n1", "<none>", "<none>"]),
        (4, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":"T0","deletionTimestamp":"T1"},"spec":{"nodeName":"n1","containers":[{"name":"c"}]},"status":{"phase":"Running","podIP":"10.0.0.9","conditions":[{"type":"Ready","status":"True"}]}}"#,
         ["a", "1/1", "Terminating", "0", "3h", "10.0.0.9", "n1", "<none>", "<none>"]),
        (5, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":"T0"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}}"#,
         ["a", "0/1", "SchedulingGated", "0", "3h", "<none>", "<none>", "<none>", "<none>"]),
        (6, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","creationTimestamp":"T0"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Failed","reason":"Evicted"}}"#,
         ["a", "0/1", "Evicted", "0", "3h", "<none>", "<none>", "<none>", "<none>"]),
        (7, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c"}]}}"#,
         ["a", "0/1", "Pending", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"]),
    ]

    @Test(arguments: pods)
    func pod(_ c: (Int, String, [JSONValue])) {
        #expect(Self.cells(c.1) == c.2, "case \(c.0)")
    }

    @Test func podRowConditions() {
        let o = Fixtures.object(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Succeeded"}}"#)
        #expect(TableRows.row(o, context: TableContext(now: Self.now)).conditions ==
                [["type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."]])
    }

    /// Every other kind (numbered cases).
    static let others: [(Int, String, [JSONValue])] = [
        (1, #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","creationTimestamp":"T0"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}},"status":{"readyReplicas":1}}"#,
         ["s", "1/1", "3h", "a,b", "x,y"]),
        (2, #"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r","creationTimestamp":"T0"},"spec":{"replicas":0,"selector":{"matchLabels":{"b":"2","a":"1"},"matchExpressions":[{"key":"t","operator":"In","values":["y","x"]}]},"template":{"spec":{"containers":[{"name":"a"}]}}}}"#,
         ["r", 0, 0, 0, "3h", "a", "", "a=1,b=2,t in (x,y)"]),
        (3, #"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r","creationTimestamp":"T0"},"spec":{}}"#,
         ["r", 1, 0, 0, "3h", "", "", "<none>"]),
        (4, #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","creationTimestamp":"T0"},"spec":{"type":"NodePort","clusterIP":"10.96.0.7","ports":[{"port":80,"nodePort":30080},{"port":53,"protocol":"UDP"}],"selector":{"b":"2","a":"1"}}}"#,
         ["web", "NodePort", "10.96.0.7", "<none>", "80:30080/TCP,53/UDP", "3h", "a=1,b=2"]),
        (5, #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"lb","creationTimestamp":"T0"},"spec":{"type":"LoadBalancer"}}"#,
         ["lb", "LoadBalancer", "<none>", "<pending>", "<none>", "3h", "<none>"]),
        (6, #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n","creationTimestamp":"T0","labels":{"node-role.kubernetes.io/worker":"","kubernetes.io/role":"edge","node-role.kubernetes.io/":"x"}},"spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"Unknown"}],"addresses":[{"type":"InternalIP","address":"10.0.0.2"},{"type":"ExternalIP","address":"1.2.3.4"}]}}"#,
         ["n", "NotReady,SchedulingDisabled", "edge,worker", "3h", "v1.32.0", "10.0.0.2", "1.2.3.4", "<unknown>", "<unknown>", "<unknown>"]),
        (7, #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n","creationTimestamp":"T0"}}"#,
         ["n", "Unknown", "<none>", "3h", "v1.32.0", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]),
        (8, #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1","creationTimestamp":"T0"},"involvedObject":{"kind":"PersistentVolumeClaim","name":"c","fieldPath":"spec"},"reason":"ProvisioningSucceeded","message":"  done \n","type":"Normal","count":2,"firstTimestamp":"T0","lastTimestamp":"T1","source":{"component":"cairn.io/local-path","host":"n1"}}"#,
         ["90s", "Normal", "ProvisioningSucceeded", "persistentvolumeclaim/c", "spec", "cairn.io/local-path, n1", "done", "3h", 2, "e1"]),
        (9, #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e2"},"involvedObject":{"kind":"Node"},"reportingComponent":"cairn"}"#,
         ["<unknown>", "", "", "node", "", "cairn", "", "<unknown>", 1, "e2"]),
        (10, #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns","creationTimestamp":"T0"},"status":{"phase":"Terminating"}}"#,
         ["ns", "Terminating", "3h"]),
        (11, #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv","creationTimestamp":"T0","annotations":{"volume.beta.kubernetes.io/storage-class":"old"}},"spec":{"capacity":{"storage":"1536Mi"},"accessModes":["ReadWriteMany","ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain","claimRef":{"namespace":"d","name":"c"},"storageClassName":"new"},"status":{"phase":"Released","reason":"Why"}}"#,
         ["pv", "1536Mi", "RWO,RWX", "Retain", "Released", "d/c", "old", "<unset>", "Why", "3h", "<unset>"]),
        (12, #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c","creationTimestamp":"T0"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Block"},"status":{"phase":"Pending"}}"#,
         ["c", "Pending", "", "", "", "", "<unset>", "3h", "Block"]),
        (13, #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c","creationTimestamp":"T0","deletionTimestamp":"T1"},"spec":{"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"fast","volumeName":"pv"},"status":{"phase":"Bound","accessModes":["ReadWriteOncePod"],"capacity":{"storage":"1Gi"}}}"#,
         ["c", "Terminating", "pv", "1Gi", "RWOP", "fast", "<unset>", "3h", "<unset>"]),
        (14, #"{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"s","creationTimestamp":"T0","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"p"}"#,
         ["s (default)", "p", "Delete", "Immediate", false, "3h"]),
    ]

    @Test(arguments: others)
    func other(_ c: (Int, String, [JSONValue])) {
        #expect(Self.cells(c.1) == c.2, "case \(c.0)")
    }

    @Test(arguments: Kind.allCases)
    func everyRowMatchesItsColumns(_ kind: Kind) {
        for o in Fixtures.all where type(of: o).kind == kind {
            #expect(TableRows.row(o, context: TableContext()).cells.count == TableColumns.of(kind).count, "\(kind)")
        }
        #expect(TableColumns.of(kind).filter { $0.format == "name" }.count >= 1)
    }

    /// The Table document: list meta, column definitions, and includeObject's three forms.
    @Test func tableDocument() throws {
        let pods = Fixtures.all.filter { $0 is Pod }
        let table = Tables.table(kind: .pod, objects: pods, list: ListMeta(resourceVersion: "42", continueToken: "c1", remainingItemCount: 3))
        #expect(table["kind"] == "Table")
        #expect(table["apiVersion"] == "meta.k8s.io/v1")
        #expect(table["metadata"] == ["resourceVersion": "42", "continue": "c1", "remainingItemCount": 3])
        let columns = try #require(table["columnDefinitions"]?.arrayValue)
        #expect(columns.map { $0["name"]?.stringValue ?? "" } == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"])
        #expect(columns[0] == ["name": "Name", "type": "string", "format": "name", "priority": 0, "description": .string(TableColumns.Doc.name)])
        #expect(columns[5]["priority"] == 1)
        let row = try #require(table["rows"]?.arrayValue?.first)
        #expect(row["object"]?["kind"] == "PartialObjectMetadata")
        #expect(row["object"]?["apiVersion"] == "meta.k8s.io/v1")
        #expect(row["object"]?["metadata"]?["name"] == "stateful-pvc-0")
        #expect(row["object"]?["spec"] == nil)

        let full = Tables.table(kind: .pod, objects: pods, list: nil, options: TableOptions(includeObject: .object), version: "v1beta1")
        #expect(full["apiVersion"] == "meta.k8s.io/v1beta1")
        #expect(full["metadata"] == ["resourceVersion": "7"])
        #expect(full["rows"]?.arrayValue?.first?["object"]?["kind"] == "Pod")
        #expect(full["rows"]?.arrayValue?.first?["object"]?["spec"]?["nodeName"] == "k8s-node2")

        let bare = Tables.table(kind: .pod, objects: pods, list: nil, options: TableOptions(includeObject: .none, noHeaders: true))
        #expect(bare["columnDefinitions"] == .null)
        #expect(bare["rows"]?.arrayValue?.first?["object"] == nil)
    }

    @Test func includeObjectQuery() throws {
        #expect(try IncludeObject(query: nil) == .metadata)
        #expect(try IncludeObject(query: "") == .metadata)
        #expect(try IncludeObject(query: "Object") == .object)
        #expect(throws: Status.badRequest("unrecognized includeObject value: \"All\"")) { try IncludeObject(query: "All") }
    }
}
