import CairnCore
import Foundation

/// `includeObject` of metav1.TableOptions: what each row's `object` carries.
public enum IncludeObject: String, Sendable, Hashable, CaseIterable {
    case none = "None"
    /// The default: a PartialObjectMetadata (kind, apiVersion, metadata).
    case metadata = "Metadata"
    /// The whole object, as kubectl asks with `--sort-by`.
    case object = "Object"

    /// The query parameter's value; absent or empty means Metadata, an unknown value is the
    /// BadRequest kube-apiserver answers.
    public init(query value: String?) throws(Status) {
        guard let value, !value.isEmpty else { self = .metadata; return }
        guard let v = IncludeObject(rawValue: value) else {
            throw Status.badRequest("unrecognized includeObject value: \"\(value)\"")
        }
        self = v
    }
}

/// metav1.TableOptions, from the query string.
public struct TableOptions: Sendable, Hashable {
    public var includeObject: IncludeObject
    /// Set by watch after its first event, so only the first carries the column definitions.
    public var noHeaders: Bool
    public init(includeObject: IncludeObject = .metadata, noHeaders: Bool = false) {
        self.includeObject = includeObject
        self.noHeaders = noHeaders
    }
}

/// metav1.ListMeta of the list a table was made from (a single object's table has its resourceVersion only).
public struct ListMeta: Sendable, Hashable {
    public var resourceVersion: String?
    public var continueToken: String?
    public var remainingItemCount: Int64?
    public init(resourceVersion: String? = nil, continueToken: String? = nil, remainingItemCount: Int64? = nil) {
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }
    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let resourceVersion, !resourceVersion.isEmpty { o["resourceVersion"] = .string(resourceVersion) }
        if let continueToken, !continueToken.isEmpty { o["continue"] = .string(continueToken) }
        if let remainingItemCount { o["remainingItemCount"] = .int(remainingItemCount) }
        return .object(o)
    }
}

/// What a row needs that is not on the object: the time ages are measured to, and what Cairn's
/// nodes report as their kubelet version (Cairn runs no kubelet; the caller says what to show).
public struct TableContext: Sendable {
    public var now: Date
    public var kubeletVersion: String
    public init(now: Date = Date(), kubeletVersion: String = "") {
        self.now = now
        self.kubeletVersion = kubeletVersion
    }
}

/// meta.k8s.io Tables, as kube-apiserver answers `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
public enum Tables {
    /// The Table for `objects` of `kind` (a list, or a single object with `list` nil). `version` is the
    /// Table's version the client negotiated (`v1` or `v1beta1`).
    public static func table(kind: Kind, objects: [any KubeObject], list: ListMeta?, options: TableOptions = TableOptions(),
                             context: TableContext = TableContext(), version: String = "v1") -> JSONValue {
        let tableAPIVersion = "meta.k8s.io/\(version)"
        var rows: [JSONValue] = []
        rows.reserveCapacity(objects.count)
        for object in objects {
            let row = TableRows.row(object, context: context)
            var r: [String: JSONValue] = ["cells": .array(row.cells)]
            if !row.conditions.isEmpty { r["conditions"] = .array(row.conditions) }
            switch options.includeObject {
            case .none: break
            case .metadata:
                r["object"] = ["kind": "PartialObjectMetadata", "apiVersion": .string(tableAPIVersion),
                               "metadata": (try? JSONValue(encoding: object.metadata)) ?? .object([:])]
            case .object:
                var full = object
                full.setTypeMeta()
                r["object"] = (try? JSONValue(encoding: full)) ?? .object([:])
            }
            rows.append(.object(r))
        }
        let meta = list ?? ListMeta(resourceVersion: objects.first?.metadata.resourceVersion)
        var table: [String: JSONValue] = [
            "kind": "Table",
            "apiVersion": .string(tableAPIVersion),
            "metadata": meta.json,
            "rows": .array(rows),
        ]
        // kube-apiserver writes `columnDefinitions: null` when headers are off; kubectl reads either.
        table["columnDefinitions"] = options.noHeaders ? .null : .array(TableColumns.of(kind).map(\.json))
        return .object(table)
    }
}

/// One row: cells in the column order of `TableColumns.of(kind)`, and the row's conditions.
public struct TableRow: Sendable, Hashable {
    public var cells: [JSONValue]
    public var conditions: [JSONValue]
}

/// The print functions of printers.go for Cairn's kinds. Where Cairn does not model a field upstream
/// reads (a Pod's containerStatuses, a Node's nodeInfo), the row shows what a cluster shows for an
/// object in the same state, and the comment says so. Fields kube-apiserver defaults on create
/// (replicas 1, phases Pending/Active, reclaim Delete) are read with those defaults.
public enum TableRows {
    public static func row(_ object: any KubeObject, context: TableContext) -> TableRow {
        let age = translateTimestampSince(object.metadata.creationTimestamp, now: context.now)
        switch object {
        case let p as Pod: return pod(p, age: age)
        case let r as ReplicaSet:
            let cs = r.spec.template?.spec.containers ?? []
            return TableRow(cells: [.string(r.name), .int(Int64(r.replicas)), .int(Int64(r.status?.replicas ?? 0)),
                                    .int(Int64(r.status?.readyReplicas ?? 0)), .string(age),
                                    .string(cs.map(\.name).joined(separator: ",")), .string(cs.map { $0.image ?? "" }.joined(separator: ",")),
                                    .string(formatLabelSelector(r.spec.selector))], conditions: [])
        case let s as StatefulSet:
            let cs = s.spec.template.spec.containers
            return TableRow(cells: [.string(s.name), .string("\(s.status?.readyReplicas ?? 0)/\(s.replicas)"), .string(age),
                                    .string(cs.map(\.name).joined(separator: ",")), .string(cs.map { $0.image ?? "" }.joined(separator: ","))],
                            conditions: [])
        case let s as Service: return service(s, age: age)
        case let n as CairnCore.Node: return node(n, age: age, kubeletVersion: context.kubeletVersion)
        case let e as Event: return event(e, now: context.now)
        case let n as Namespace:
            return TableRow(cells: [.string(n.name), .string(n.status?.phase?.rawValue ?? "Active"), .string(age)], conditions: [])
        case let v as PersistentVolume:
            let claim = v.spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? ""
            let phase = v.metadata.isDeleting ? "Terminating" : v.phase.rawValue
            return TableRow(cells: [.string(v.name), .string(v.spec.capacity?["storage"]?.description ?? "0"),
                                    .string(AccessMode.abbreviate(v.spec.accessModes)), .string(v.spec.persistentVolumeReclaimPolicy ?? ""),
                                    .string(phase), .string(claim), .string(persistentVolumeClass(v)), "<unset>",
                                    .string(v.status?.reason ?? ""), .string(age), .string(v.spec.volumeMode ?? "<unset>")],
                            conditions: [])
        case let c as PersistentVolumeClaim:
            let phase = c.metadata.isDeleting ? "Terminating" : c.phase.rawValue
            var capacity = "", accessModes = ""
            if let volume = c.spec.volumeName, !volume.isEmpty {
                accessModes = AccessMode.abbreviate(c.status?.accessModes)
                capacity = c.status?.capacity?["storage"]?.description ?? "0"
            }
            return TableRow(cells: [.string(c.name), .string(phase), .string(c.spec.volumeName ?? ""), .string(capacity),
                                    .string(accessModes), .string(claimClass(c)), "<unset>", .string(age),
                                    .string(c.spec.volumeMode ?? "<unset>")], conditions: [])
        case let s as StorageClass:
            return TableRow(cells: [.string(s.isDefault ? "\(s.name) (default)" : s.name), .string(s.provisioner),
                                    .string(s.reclaimPolicy ?? "Delete"), .string(s.volumeBindingMode ?? "Immediate"),
                                    .bool(s.allowVolumeExpansion ?? false), .string(age)], conditions: [])
        default:
            return TableRow(cells: [.string(object.name), .string(age)], conditions: [])
        }
    }

    /// translateTimestampSince: "<unknown>" for a zero time, else duration.HumanDuration.
    public static func translateTimestampSince(_ t: Time?, now: Date) -> String {
        guard let t else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(t.date))
    }

    /// metav1.FormatLabelSelector: the selector's string, "<none>" when it selects everything or
    /// nothing, "<error>" when it is invalid.
    static func formatLabelSelector(_ selector: LabelSelector?) -> String {
        guard let selector else { return "<none>" }
        guard let s = try? selector.asSelector() else { return "<error>" }
        let text = s.description
        return text.isEmpty ? "<none>" : text
    }

    /// labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty.
    static func formatLabels(_ labels: [String: String]?) -> String {
        let pairs = (labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return pairs.isEmpty ? "<none>" : pairs.joined(separator: ",")
    }

    static let betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

    /// storageutil.GetPersistentVolumeClass: the beta annotation wins over the field.
    static func persistentVolumeClass(_ v: PersistentVolume) -> String {
        v.metadata.annotation(betaStorageClassAnnotation) ?? v.spec.storageClassName ?? ""
    }

    /// storageutil.GetPersistentVolumeClaimClass.
    static func claimClass(_ c: PersistentVolumeClaim) -> String {
        c.metadata.annotation(betaStorageClassAnnotation) ?? c.spec.storageClassName ?? ""
    }

    static let completedSucceeded: JSONValue = ["type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."]
    static let completedFailed: JSONValue = ["type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."]

    /// printPod. Cairn's pods run no containers and carry no containerStatuses; a container counts as
    /// ready when the pod is Running and Ready (what its kubelet would report), and a scheduled Pending
    /// pod shows `ContainerCreating`, the waiting reason a kubelet reports while it mounts volumes.
    static func pod(_ p: Pod, age: String) -> TableRow {
        let phase = p.phase.rawValue
        var reason = phase
        if let r = p.status?.reason, !r.isEmpty { reason = r }
        if p.status?.conditions?.contains(where: { $0.type == "PodScheduled" && $0.reason == "SchedulingGated" }) == true {
            reason = "SchedulingGated"
        } else if phase == "Pending", let node = p.spec.nodeName, !node.isEmpty, p.status?.reason == nil {
            reason = "ContainerCreating"
        }
        let total = p.spec.containers.count
        let ready = (phase == "Running" && p.isReady) ? total : 0
        let terminal = phase == "Succeeded" || phase == "Failed"
        if p.metadata.isDeleting, p.status?.reason == "NodeLost" {
            reason = "Unknown"
        } else if p.metadata.isDeleting, !terminal {
            reason = "Terminating"
        }
        var conditions: [JSONValue] = []
        if phase == "Succeeded" { conditions = [completedSucceeded] }
        if phase == "Failed" { conditions = [completedFailed] }
        let ip = p.status?.podIP.flatMap { $0.isEmpty ? nil : $0 } ?? "<none>"
        let node = p.spec.nodeName.flatMap { $0.isEmpty ? nil : $0 } ?? "<none>"
        return TableRow(cells: [.string(p.name), .string("\(ready)/\(total)"), .string(reason), "0", .string(age),
                                .string(ip), .string(node), "<none>", "<none>"], conditions: conditions)
    }

    /// printService. Cairn keeps a Service's spec as given, without the defaults kube-apiserver
    /// fills (type ClusterIP, clusterIPs from clusterIP, protocol TCP), so those defaults apply here.
    static func service(_ s: Service, age: String) -> TableRow {
        let spec = s.spec ?? .object([:])
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        let clusterIP = spec["clusterIPs"]?.arrayValue?.first?.stringValue ?? spec["clusterIP"]?.stringValue ?? "<none>"
        let externalIPs = (spec["externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        let externalIP: String
        switch type {
        case "ClusterIP", "NodePort": externalIP = externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
        case "LoadBalancer":
            let ingress = (s.status?["loadBalancer"]?["ingress"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
            let all = ingress + externalIPs
            externalIP = all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName": externalIP = spec["externalName"]?.stringValue ?? ""
        default: externalIP = "<unknown>"
        }
        let ports = (spec["ports"]?.arrayValue ?? []).map { p -> String in
            let port = intValue(p["port"]) ?? 0
            let proto = p["protocol"]?.stringValue ?? "TCP"
            if let nodePort = intValue(p["nodePort"]), nodePort > 0 { return "\(port):\(nodePort)/\(proto)" }
            return "\(port)/\(proto)"
        }.joined(separator: ",")
        var selector: [String: String] = [:]
        for (k, v) in spec["selector"]?.objectValue ?? [:] { if let v = v.stringValue { selector[k] = v } }
        return TableRow(cells: [.string(s.name), .string(type), .string(clusterIP), .string(externalIP),
                                .string(ports.isEmpty ? "<none>" : ports), .string(age), .string(formatLabels(selector))],
                        conditions: [])
    }

    static func intValue(_ v: JSONValue?) -> Int64? {
        switch v {
        case .int(let i)?: i
        case .double(let d)?: Int64(exactly: d)
        default: nil
        }
    }

    /// printNode. Roles come from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels
    /// (sorted here; upstream's set order is unspecified).
    static func node(_ n: CairnCore.Node, age: String, kubeletVersion: String) -> TableRow {
        var status: [String] = []
        if let ready = n.status?.conditions?.last(where: { $0.type == "Ready" }) {
            status.append(ready.status == .true ? "Ready" : "NotReady")
        } else {
            status.append("Unknown")
        }
        if n.spec?.unschedulable == true { status.append("SchedulingDisabled") }
        var roles = Set<String>()
        for (k, v) in n.metadata.labels ?? [:] {
            if k.hasPrefix("node-role.kubernetes.io/") {
                let role = String(k.dropFirst("node-role.kubernetes.io/".count))
                if !role.isEmpty { roles.insert(role) }
            } else if k == "kubernetes.io/role", !v.isEmpty {
                roles.insert(v)
            }
        }
        func address(_ type: String) -> String {
            for a in n.status?.addresses ?? [] where a["type"]?.stringValue == type {
                return a["address"]?.stringValue ?? ""
            }
            return "<none>"
        }
        func info(_ key: String) -> String {
            let v = n.status?.nodeInfo?[key]?.stringValue ?? ""
            return v.isEmpty ? "<unknown>" : v
        }
        let version = n.status?.nodeInfo?["kubeletVersion"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? kubeletVersion
        return TableRow(cells: [.string(n.name), .string(status.joined(separator: ",")),
                                .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")), .string(age),
                                .string(version), .string(address("InternalIP")), .string(address("ExternalIP")),
                                .string(info("osImage")), .string(info("kernelVersion")), .string(info("containerRuntimeVersion"))],
                        conditions: [])
    }

    /// printEvent (core/v1 events; Cairn writes no eventTime or series).
    static func event(_ e: Event, now: Date) -> TableRow {
        let first = translateTimestampSince(e.firstTimestamp, now: now)
        let last = e.lastTimestamp == nil ? first : translateTimestampSince(e.lastTimestamp, now: now)
        var count = Int64(e.count ?? 0)
        if count == 0 { count = 1 }
        let kind = (e.involvedObject.kind ?? "").lowercased()
        let name = e.involvedObject.name ?? ""
        let target = name.isEmpty ? kind : "\(kind)/\(name)"
        let component = e.source?.component.flatMap { $0.isEmpty ? nil : $0 } ?? e.reportingComponent ?? ""
        let host = e.source?.host ?? ""
        let source = host.isEmpty ? component : "\(component), \(host)"
        return TableRow(cells: [.string(last), .string(e.type ?? ""), .string(e.reason ?? ""), .string(target),
                                .string(e.involvedObject.fieldPath ?? ""), .string(source),
                                .string((e.message ?? "").trimmingCharacters(in: .whitespacesAndNewlines)),
                                .string(first), .int(count), .string(e.name)], conditions: [])
    }
}
