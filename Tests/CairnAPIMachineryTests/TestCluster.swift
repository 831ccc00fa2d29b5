@testable import CairnAPIMachinery
import CairnCore
import Foundation

/// A fixed set of objects served the way the daemon will serve them once the machinery is wired in:
/// discovery, lists and single objects as Tables or JSON. Only what the kubectl tests need.
struct TestCluster: Sendable {
    var objects: [any KubeObject]
    /// Where writes go, when a test makes some (kubectl apply, create --raw).
    var store: WritableStore? = nil
    var extraRoutes: @Sendable (FakeRequest) -> FakeResponse? = { _ in nil }

    func handle(_ r: FakeRequest) -> FakeResponse {
        if let extra = extraRoutes(r) { return extra }
        let parts = r.path.split(separator: "/").map(String.init)
        do throws(any Error) {
            if parts.count == 3, parts[0] == "apis", let gv = GroupVersion.served(parts[1], parts[2]) {
                return .json(Discovery.apiResourceList(gv))
            }
            switch parts {
            case ["version"]: return .json(Discovery.version())
            case ["api"], ["apis"]:
                let format = try ContentNegotiation.forDiscovery(accept: r.accept)
                if case .aggregatedDiscovery(let v) = format {
                    return .json(Discovery.aggregated(legacy: parts == ["api"], version: v), contentType: format.contentType)
                }
                return .json(parts == ["api"] ? Discovery.apiVersions(serverAddress: "127.0.0.1:6443") : Discovery.apiGroupList())
            case ["openapi", "v3"]: return .json(OpenAPI.index())
            case _ where parts.count >= 3 && parts[0] == "openapi" && parts[1] == "v3":
                guard let gv = OpenAPI.groupVersion(forPath: r.path) else {
                    return .status(Status(code: 404, reason: .notFound, message: "the server could not find the requested resource"))
                }
                return FakeResponse(status: 200, contentType: "application/json", body: OpenAPI.document(gv).text)
            case ["api", "v1"]: return .json(Discovery.apiResourceList(.core))
            default: break
            }
            guard let (kind, namespace, name) = Self.route(parts) else {
                return .status(Status(code: 404, reason: .notFound, message: "the server could not find the requested resource"))
            }
            if let store {
                if r.method != "GET" { return try store.write(r, kind: kind, namespace: namespace, name: name) }
                guard let name else { return .status(Status.methodNotAllowed("the test store lists nothing")) }
                guard let obj = store.get(kind, namespace, name) else { return .status(.notFound(kind, name)) }
                return .json(obj)
            }
            var matching = objects.filter { type(of: $0).kind == kind && (namespace == nil || $0.metadata.namespace == namespace) }
            if let name {
                matching = matching.filter { $0.name == name }
                guard !matching.isEmpty else { return .status(.notFound(kind, name)) }
            }
            let format = try ContentNegotiation.forResource(accept: r.accept)
            switch format {
            case .table(let version):
                let options = TableOptions(includeObject: try IncludeObject(query: r.query["includeObject"]))
                let table = Tables.table(kind: kind, objects: matching, list: name == nil ? ListMeta(resourceVersion: "42") : nil,
                                         options: options, context: TableContext(kubeletVersion: "v1.32.0"), version: version)
                return .json(table, contentType: format.contentType)
            default:
                if name != nil {
                    var o = matching[0]
                    o.setTypeMeta()
                    return .json(try JSONValue(encoding: o))
                }
                let items = try matching.map { o -> JSONValue in var o = o; o.setTypeMeta(); return try JSONValue(encoding: o) }
                return .json(["apiVersion": .string(kind.apiVersion), "kind": .string("\(kind.rawValue)List"),
                              "metadata": ["resourceVersion": "42"], "items": .array(items)])
            }
        } catch let s as Status {
            return .status(s)
        } catch let e as JSONPatchError {
            return .status(e.status)
        } catch let e as StrategicMergePatchError {
            return .status(e.status)
        } catch let n as NotAcceptable {
            return .status(n.status)
        } catch {
            return .status(.internalError("\(error)"))
        }
    }

    /// /api/v1/[namespaces/NS/]RESOURCE[/NAME] and /apis/G/V/...
    static func route(_ parts: [String]) -> (Kind, String?, String?)? {
        var rest: ArraySlice<String>
        let group: String
        if parts.first == "api", parts.count >= 3, parts[1] == "v1" { group = ""; rest = parts[2...] }
        else if parts.first == "apis", parts.count >= 4 { group = parts[1]; rest = parts[3...] }
        else { return nil }
        var namespace: String?
        if rest.first == "namespaces", rest.count >= 3 { namespace = rest[rest.startIndex + 1]; rest = rest.dropFirst(2) }
        guard let resource = rest.first, let kind = Kind.allCases.first(where: { $0.resource == resource && $0.group == group }) else {
            return nil
        }
        return (kind, namespace, rest.dropFirst().first)
    }
}

enum Fixtures {
    /// Two days and five minutes ago: ages print "2d" for the hour a test run may take.
    static let created = Time(Date().addingTimeInterval(-(2 * 86_400 + 300))).description

    static func object(_ text: String) -> any KubeObject {
        let value = try! JSONValue.parse(text.replacingOccurrences(of: "CREATED", with: created))
        switch ObjectDecoding.decodeAny(value) {
        case .success(let o): return o
        case .failure(let e): fatalError("fixture does not decode: \(e)")
        }
    }

    static let all: [any KubeObject] = [
        object(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"stateful-pvc-0","namespace":"default","uid":"u-p0","resourceVersion":"7","creationTimestamp":"CREATED","labels":{"app":"stateful-pvc"}},"spec":{"nodeName":"k8s-node2","containers":[{"name":"app","image":"busybox","volumeMounts":[{"name":"volume","mountPath":"/applog"}]}],"volumes":[{"name":"volume","persistentVolumeClaim":{"claimName":"volume-stateful-pvc-0"}}]},"status":{"phase":"Running","podIP":"10.1.0.5","conditions":[{"type":"Ready","status":"True"}]}}"#),
        object(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"request-pod","namespace":"default","uid":"u-p1","creationTimestamp":"CREATED"},"spec":{"containers":[{"name":"app","image":"nginx"}]},"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]}}"#),
        object(#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"stateful-pvc","namespace":"default","uid":"u-s","creationTimestamp":"CREATED"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"stateful-pvc"}},"serviceName":"stateful-pvc","template":{"metadata":{"labels":{"app":"stateful-pvc"}},"spec":{"containers":[{"name":"app","image":"busybox"}]}}},"status":{"replicas":3,"readyReplicas":1}}"#),
        object(#"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs-pvc","namespace":"default","uid":"u-r","creationTimestamp":"CREATED"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"rs"}},"template":{"metadata":{"labels":{"app":"rs"}},"spec":{"containers":[{"name":"app","image":"nginx:1.27"},{"name":"side","image":"busybox"}]}}},"status":{"replicas":2,"readyReplicas":1}}"#),
        object(#"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"volume-stateful-pvc-0","namespace":"default","uid":"u-c","creationTimestamp":"CREATED"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1G"}},"storageClassName":"fast","volumeName":"pvc-u-c"},"status":{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"1G"}}}"#),
        object(#"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"waiting","namespace":"default","uid":"u-w","creationTimestamp":"CREATED"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"2Gi"}},"storageClassName":"standard"},"status":{"phase":"Pending"}}"#),
        object(#"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pvc-u-c","uid":"u-v","creationTimestamp":"CREATED"},"spec":{"capacity":{"storage":"1G"},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Delete","storageClassName":"fast","claimRef":{"namespace":"default","name":"volume-stateful-pvc-0"},"volumeMode":"Filesystem"},"status":{"phase":"Bound"}}"#),
        object(#"{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"standard","uid":"u-sc1","creationTimestamp":"CREATED","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"cairn.io/local-path","reclaimPolicy":"Delete","volumeBindingMode":"WaitForFirstConsumer"}"#),
        object(#"{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"fast","uid":"u-sc2","creationTimestamp":"CREATED"},"provisioner":"cairn.io/local-path","allowVolumeExpansion":true}"#),
        object(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"k8s-node1","uid":"u-n1","creationTimestamp":"CREATED","labels":{"kubernetes.io/hostname":"k8s-node1"}},"spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}"#),
        object(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"k8s-node2","uid":"u-n2","creationTimestamp":"CREATED","labels":{"node-role.kubernetes.io/control-plane":""}},"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#),
        object(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default","uid":"u-ns","creationTimestamp":"CREATED"},"status":{"phase":"Active"}}"#),
        object(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"stateful-pvc","namespace":"default","uid":"u-svc","creationTimestamp":"CREATED"},"spec":{"clusterIP":"None","selector":{"app":"stateful-pvc"},"ports":[{"port":80,"name":"web"}]}}"#),
        object(#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"request-pod.1","namespace":"default","uid":"u-e","creationTimestamp":"CREATED"},"involvedObject":{"kind":"Pod","name":"request-pod","namespace":"default"},"reason":"FailedScheduling","message":"0/2 nodes are available: 2 node(s) had volume node affinity conflict.","type":"Warning","count":3,"firstTimestamp":"CREATED","lastTimestamp":"CREATED","source":{"component":"default-scheduler"}}"#),
    ]
}

/// Objects written through the test server, as JSON, with the machinery's create and patch checks.
final class WritableStore: @unchecked Sendable {
    let lock = NSLock()
    var objects: [String: JSONValue] = [:]
    var clock = 1_800_000_000.0

    func key(_ kind: Kind, _ namespace: String?, _ name: String) -> String { "\(kind.resource)/\(namespace ?? "")/\(name)" }

    func write(_ r: FakeRequest, kind: Kind, namespace: String?, name: String?) throws -> FakeResponse {
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        let now = Time(Date(timeIntervalSince1970: clock))
        switch r.method {
        case "POST":
            let validation = try FieldValidation(query: r.query["fieldValidation"], options: "CreateOptions")
            let issues = try StrictDecoding.issues(in: r.body, kind: kind)
            if validation == .strict && !issues.isEmpty { return .status(StrictDecoding.bodyError(kind: kind, issues)) }
            var obj = try JSONText.parse(r.body)
            let objName = obj["metadata"]?["name"]?.stringValue ?? ""
            if objects[key(kind, namespace, objName)] != nil { return .status(.alreadyExists(kind, objName)) }
            obj["metadata"]?["namespace"] = namespace.map { .string($0) }
            obj["metadata"]?["uid"] = .string("uid-\(objName)")
            obj["metadata"]?["resourceVersion"] = .string(String(Int(clock)))
            obj["metadata"]?["creationTimestamp"] = .string(now.description)
            obj = ServerSideApply.update(old: nil, new: obj, kind: kind, manager: ServerSideApply.managerName(fieldManager: r.query["fieldManager"], userAgent: "kubectl/test"), now: now)
            objects[key(kind, namespace, objName)] = obj
            return .json(obj, status: 201)
        case "PATCH":
            guard let name else { return .status(Status.methodNotAllowed("PATCH needs a name")) }
            let type = try PatchType(contentType: r.contentType)
            let force = r.query["force"] == "true"
            try ServerSideApply.validatePatchOptions(type, fieldManager: r.query["fieldManager"], force: force)
            let live = objects[key(kind, namespace, name)]
            let manager = ServerSideApply.managerName(fieldManager: r.query["fieldManager"], userAgent: "kubectl/test")
            var result: JSONValue
            switch type {
            case .apply:
                result = try ServerSideApply.apply(live: live, applied: try JSONText.parse(r.body), kind: kind, manager: manager, force: force, now: now)
            case .strategic:
                guard let live else { return .status(.notFound(kind, name)) }
                let patched = try StrategicMergePatch.apply(try PatchType.parseJSONBody(r.body), to: live, kind: kind)
                result = ServerSideApply.update(old: live, new: patched, kind: kind, manager: manager, now: now)
            case .merge:
                guard let live else { return .status(.notFound(kind, name)) }
                let patched = try JSONMergePatch.apply(try PatchType.parseJSONBody(r.body), to: live)
                result = ServerSideApply.update(old: live, new: patched, kind: kind, manager: manager, now: now)
            case .json:
                guard let live else { return .status(.notFound(kind, name)) }
                let patched = try JSONPatch(try PatchType.parseJSONBody(r.body)).apply(to: live)
                result = ServerSideApply.update(old: live, new: patched, kind: kind, manager: manager, now: now)
            }
            if live == nil {
                result["metadata"]?["uid"] = .string("uid-\(name)")
                result["metadata"]?["creationTimestamp"] = .string(now.description)
            }
            result["metadata"]?["resourceVersion"] = .string(String(Int(clock)))
            objects[key(kind, namespace, name)] = result
            return .json(result, status: live == nil ? 201 : 200)
        default:
            return .status(Status.methodNotAllowed("\(r.method) is not served by the test server"))
        }
    }

    func get(_ kind: Kind, _ namespace: String?, _ name: String) -> JSONValue? {
        lock.lock()
        defer { lock.unlock() }
        return objects[key(kind, namespace, name)]
    }
}
