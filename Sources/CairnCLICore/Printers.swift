import CairnAPI
import CairnCore
import Foundation
import Yams

/// kubectl's printers: tables with its default columns, YAML, JSON and names.
public enum Printers {
    /// A table as kubectl prints one: columns padded by three spaces, at least six wide.
    public static func table(_ header: [String], _ rows: [[String]], headers: Bool = true) -> String {
        var w = TabWriter.table
        for r in (headers ? [header] : []) + rows { w.write(r.joined(separator: "\t") + "\n") }
        return w.finish()
    }

    public static func age(_ t: Time?, now: Date) -> String {
        guard let t else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(t.date))
    }

    /// The header and one row per object for `cairn get`, as kubectl prints the kind.
    public static func rows(_ objects: [any KubeObject], kind: Kind, wide: Bool, now: Date) -> ([String], [[String]]) {
        switch kind {
        case .persistentVolumeClaim:
            var h = ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE"]
            if wide { h.append("VOLUMEMODE") }
            return (h, objects.compactMap { $0 as? PersistentVolumeClaim }.map { c in
                let status = c.metadata.isDeleting ? "Terminating" : c.phase.rawValue
                var r = [c.name, status, c.spec.volumeName ?? "", c.status?.capacity?["storage"]?.description ?? "",
                         AccessMode.abbreviate(c.status?.accessModes), c.spec.storageClassName ?? "<unset>", age(c.metadata.creationTimestamp, now: now)]
                if wide { r.append(c.spec.volumeMode ?? "Filesystem") }
                return r
            })
        case .persistentVolume:
            var h = ["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "REASON", "AGE"]
            if wide { h.append("VOLUMEMODE") }
            return (h, objects.compactMap { $0 as? PersistentVolume }.map { v in
                let claim = v.spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? ""
                let status = v.metadata.isDeleting ? "Terminating" : v.phase.rawValue
                var r = [v.name, v.spec.capacity?["storage"]?.description ?? "", AccessMode.abbreviate(v.spec.accessModes),
                         v.spec.persistentVolumeReclaimPolicy ?? "", status, claim, v.spec.storageClassName ?? "",
                         v.status?.reason ?? "", age(v.metadata.creationTimestamp, now: now)]
                if wide { r.append(v.spec.volumeMode ?? "Filesystem") }
                return r
            })
        case .pod:
            var h = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
            if wide { h += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] }
            return (h, objects.compactMap { $0 as? Pod }.map { p in
                let total = p.spec.containers.count
                let ready = p.isReady ? total : 0
                var status = p.phase.rawValue
                if p.metadata.isDeleting { status = "Terminating" }
                else if p.phase == .pending, p.spec.nodeName != nil { status = "ContainerCreating" }
                var r = [p.name, "\(ready)/\(total)", status, "0", age(p.metadata.creationTimestamp, now: now)]
                if wide { r += [p.status?.podIP ?? "<none>", p.spec.nodeName ?? "<none>", "<none>", "<none>"] }
                return r
            })
        case .node:
            var h = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
            if wide { h += ["DATA ROOT", "ALLOCATABLE STORAGE"] }
            return (h, objects.compactMap { $0 as? CairnCore.Node }.map { n in
                let roles = nodeRoles(n)
                var r = [n.name, nodeStatus(n), roles.isEmpty ? "<none>" : roles.joined(separator: ","),
                         age(n.metadata.creationTimestamp, now: now), "cairn-\(CairnVersion.version)"]
                if wide { r += [n.metadata.annotation(CairnCore.Node.dataRootAnnotation) ?? "", n.allocatableStorage?.description ?? ""] }
                return r
            })
        case .storageClass:
            return (["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
                    objects.compactMap { $0 as? StorageClass }.map { s in
                        [s.isDefault ? "\(s.name) (default)" : s.name, s.provisioner, s.effectiveReclaimPolicy, s.effectiveBindingMode,
                         "\(s.allowVolumeExpansion ?? false)", age(s.metadata.creationTimestamp, now: now)]
                    })
        case .event:
            return (["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
                    objects.compactMap { $0 as? Event }.map { e in
                        let obj = "\((e.involvedObject.kind ?? "").lowercased())/\(e.involvedObject.name ?? "")"
                        var seen = age(e.lastTimestamp, now: now)
                        if let c = e.count, c > 1 { seen += " (x\(c) over \(age(e.firstTimestamp, now: now)))" }
                        return [seen, e.type ?? "", e.reason ?? "", obj, e.message ?? ""]
                    })
        case .namespace:
            return (["NAME", "STATUS", "AGE"], objects.compactMap { $0 as? Namespace }.map { n in
                [n.name, n.status?.phase?.rawValue ?? "Active", age(n.metadata.creationTimestamp, now: now)]
            })
        case .statefulSet:
            var h = ["NAME", "READY", "AGE"]
            if wide { h += ["CONTAINERS", "IMAGES"] }
            return (h, objects.compactMap { $0 as? StatefulSet }.map { s in
                var r = [s.name, "\(s.status?.readyReplicas ?? 0)/\(s.replicas)", age(s.metadata.creationTimestamp, now: now)]
                if wide {
                    r += [s.spec.template.spec.containers.map(\.name).joined(separator: ","),
                          s.spec.template.spec.containers.map { $0.image ?? "" }.joined(separator: ",")]
                }
                return r
            })
        case .replicaSet:
            var h = ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
            if wide { h += ["CONTAINERS", "IMAGES", "SELECTOR"] }
            return (h, objects.compactMap { $0 as? ReplicaSet }.map { s in
                var r = [s.name, "\(s.replicas)", "\(s.status?.replicas ?? 0)", "\(s.status?.readyReplicas ?? 0)", age(s.metadata.creationTimestamp, now: now)]
                if wide {
                    let cs = s.spec.template?.spec.containers ?? []
                    r += [cs.map(\.name).joined(separator: ","), cs.map { $0.image ?? "" }.joined(separator: ","),
                          (try? s.spec.selector?.asSelector().description) ?? ""]
                }
                return r
            })
        case .service:
            return (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], objects.compactMap { $0 as? Service }.map { s in
                let spec = s.spec
                let type = spec?["type"]?.stringValue ?? "ClusterIP"
                let ip = spec?["clusterIP"]?.stringValue ?? "<none>"
                let ports = (spec?["ports"]?.arrayValue ?? []).map { p -> String in
                    let port: String
                    if case .int(let n)? = p["port"] { port = "\(n)" } else { port = "?" }
                    return "\(port)/\(p["protocol"]?.stringValue ?? "TCP")"
                }.joined(separator: ",")
                return [s.name, type, ip, "<none>", ports.isEmpty ? "<none>" : ports, age(s.metadata.creationTimestamp, now: now)]
            })
        }
    }

    /// kubectl's node STATUS: the Ready condition as `Ready`/`NotReady` (`Unknown` without one), then
    /// `SchedulingDisabled` for a cordoned node.
    public static func nodeStatus(_ n: CairnCore.Node) -> String {
        var status: [String] = []
        if let ready = n.status?.conditions?.first(where: { $0.type == "Ready" }) {
            status.append(ready.status == .true ? "Ready" : "NotReady")
        } else {
            status.append("Unknown")
        }
        if n.spec?.unschedulable == true { status.append("SchedulingDisabled") }
        return status.joined(separator: ",")
    }

    /// findNodeRoles: `node-role.kubernetes.io/ROLE` labels and the `kubernetes.io/role` label, sorted.
    public static func nodeRoles(_ n: CairnCore.Node) -> [String] {
        var roles = Set<String>()
        for (k, v) in n.metadata.labels ?? [:] {
            if k.hasPrefix("node-role.kubernetes.io/") {
                let role = String(k.dropFirst("node-role.kubernetes.io/".count))
                if !role.isEmpty { roles.insert(role) }
            } else if k == "kubernetes.io/role", !v.isEmpty {
                roles.insert(v)
            }
        }
        return roles.sorted()
    }

    /// labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when there are none.
    public static func formatLabels(_ labels: [String: String]?) -> String {
        guard let labels, !labels.isEmpty else { return "<none>" }
        return labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ",")
    }

    // MARK: YAML

    public static func yaml(_ value: JSONValue) -> String {
        (try? Yams.serialize(node: node(value), sortKeys: false)) ?? ""
    }

    static func node(_ v: JSONValue) -> Yams.Node {
        switch v {
        case .null: return Yams.Node("null", Tag(.null))
        case .bool(let b): return Yams.Node(b ? "true" : "false", Tag(.bool))
        case .int(let i): return Yams.Node("\(i)", Tag(.int))
        case .double(let d): return Yams.Node("\(d)", Tag(.float))
        case .string(let s):
            // Quote strings that would otherwise read back as another type (e.g. "true", "1", "")
            let plain = Yams.Node(s)
            let resolved = Resolver.default.resolveTag(of: plain)
            return Yams.Node(s, Tag(.str), resolved == .str ? .any : .doubleQuoted)
        case .array(let a): return Yams.Node(a.map(node))
        case .object(let o):
            // kubectl prints YAML from the JSON object: every map's keys in sorted order.
            return Yams.Node(o.keys.sorted().map { (Yams.Node($0), node(o[$0]!)) })
        }
    }
}

/// Oldest last-seen first; events of the same second in the order they were first recorded.
public func eventOrder(_ a: Event, _ b: Event) -> Bool {
    let ka = (a.lastTimestamp ?? Time(.distantPast), a.firstTimestamp ?? Time(.distantPast), a.metadata.creationTimestamp ?? Time(.distantPast), a.name)
    let kb = (b.lastTimestamp ?? Time(.distantPast), b.firstTimestamp ?? Time(.distantPast), b.metadata.creationTimestamp ?? Time(.distantPast), b.name)
    if ka.0 != kb.0 { return ka.0 < kb.0 }
    if ka.1 != kb.1 { return ka.1 < kb.1 }
    if ka.2 != kb.2 { return ka.2 < kb.2 }
    return ka.3 < kb.3
}
