import CairnCore
import Foundation

/// `kubectl describe pod` and the pod templates of workloads (describePod, DescribePodTemplate,
/// describeContainers, describeVolumes). Cairn keeps no container statuses (it runs no images), so
/// the per-container State, Ready and Restart Count lines kubectl prints from them are absent, as
/// kubectl omits them for a container without a status.
extension Describer {
    static func pod(_ p: Pod, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(p.name)\n")
        w.write(0, "Namespace:\t\(p.metadata.namespace ?? "")\n")
        if let pc = p.spec.priorityClassName, !pc.isEmpty { w.write(0, "Priority Class Name:\t\(pc)\n") }
        if let sa = p.spec.serviceAccountName, !sa.isEmpty { w.write(0, "Service Account:\t\(sa)\n") }
        if let node = p.spec.nodeName, !node.isEmpty {
            w.write(0, "Node:\t\(node)/\(p.status?.hostIP ?? "")\n")
        } else {
            w.write(0, "Node:\t<none>\n")
        }
        if let start = p.status?.startTime { w.write(0, "Start Time:\t\(rfc1123Z(start, c.timeZone))\n") }
        w.labels("Labels", p.metadata.labels)
        w.annotations("Annotations", p.metadata.annotations)
        if let deleted = p.metadata.deletionTimestamp, p.phase != .failed, p.phase != .succeeded {
            w.write(0, "Status:\tTerminating (lasts \(Printers.age(deleted, now: c.now)))\n")
            w.write(0, "Termination Grace Period:\t\(p.metadata.deletionGracePeriodSeconds ?? 0)s\n")
        } else {
            w.write(0, "Status:\t\(p.status?.phase?.rawValue ?? "")\n")
        }
        if let reason = p.status?.reason, !reason.isEmpty { w.write(0, "Reason:\t\(reason)\n") }
        if let message = p.status?.message, !message.isEmpty { w.write(0, "Message:\t\(message)\n") }
        w.write(0, "IP:\t\(p.status?.podIP ?? "")\n")
        if let ip = p.status?.podIP, !ip.isEmpty {
            w.write(0, "IPs:\n")
            w.write(1, "IP:\t\(ip)\n")
        } else {
            w.write(0, "IPs:\t<none>\n")
        }
        if let ref = p.controllerRef { w.write(0, "Controlled By:\t\(ref.kind)/\(ref.name)\n") }
        if let inits = p.spec.initContainers, !inits.isEmpty { containers("Init Containers", inits, space: "", &w) }
        containers("Containers", p.spec.containers, space: "", &w)
        if let conditions = p.status?.conditions, !conditions.isEmpty {
            w.write(0, "Conditions:\n  Type\tStatus\n")
            for cond in conditions { w.write(1, "\(cond.type) \t\(cond.status) \n") }
        }
        volumes(p.spec.volumes, space: "", &w)
        w.write(0, "QoS Class:\t\(qosClass(p.spec.containers + (p.spec.initContainers ?? [])))\n")
        w.labels("Node-Selectors", p.spec.nodeSelector)
        tolerations("Tolerations", p.spec.tolerations, indent: "", &w)
    }

    /// DescribePodTemplate, for ReplicaSets and StatefulSets.
    static func podTemplate(_ t: PodTemplateSpec?, _ w: inout DescribeWriter) {
        w.write(0, "Pod Template:\n")
        guard let t else { w.write(1, "<unset>"); return }
        w.labels("  Labels", t.metadata?.labels)
        if let a = t.metadata?.annotations, !a.isEmpty { w.annotations("  Annotations", a) }
        if let sa = t.spec.serviceAccountName, !sa.isEmpty { w.write(1, "Service Account:\t\(sa)\n") }
        if let inits = t.spec.initContainers, !inits.isEmpty { containers("Init Containers", inits, space: "  ", &w) }
        containers("Containers", t.spec.containers, space: "  ", &w)
        volumes(t.spec.volumes, space: "  ", &w)
        if let pc = t.spec.priorityClassName, !pc.isEmpty { w.write(1, "Priority Class Name:\t\(pc)\n") }
        w.labels("  Node-Selectors", t.spec.nodeSelector)
        tolerations("  Tolerations", t.spec.tolerations, indent: "", &w)
    }

    static func containers(_ label: String, _ containers: [Container], space: String, _ w: inout DescribeWriter) {
        w.write(0, "\(space)\(label):\(containers.isEmpty ? " <none>" : "")\n")
        let nameIndent = space.isEmpty ? "" : " "
        for c in containers {
            w.write(1, "\(nameIndent)\(c.name):\n")
            w.write(2, "Image:\t\(c.image ?? "")\n")
            let ports = (c.ports?.arrayValue ?? []).map { p in
                "\(intString(p["containerPort"]))/\(p["protocol"]?.stringValue ?? "TCP")"
            }
            let hostPorts = (c.ports?.arrayValue ?? []).map { p in
                "\(p["hostPort"].map(intString) ?? "0")/\(p["protocol"]?.stringValue ?? "TCP")"
            }
            if ports.count > 1 { w.write(2, "Ports:\t\(ports.joined(separator: ", "))\n") } else { w.write(2, "Port:\t\(ports.first ?? "<none>")\n") }
            if hostPorts.count > 1 { w.write(2, "Host Ports:\t\(hostPorts.joined(separator: ", "))\n") } else { w.write(2, "Host Port:\t\(hostPorts.first ?? "<none>")\n") }
            if let command = c.command, !command.isEmpty {
                w.write(2, "Command:\n")
                for part in command { for s in part.split(separator: "\n", omittingEmptySubsequences: false) { w.write(3, "\(s)\n") } }
            }
            if let args = c.args, !args.isEmpty {
                w.write(2, "Args:\n")
                for part in args { for s in part.split(separator: "\n", omittingEmptySubsequences: false) { w.write(3, "\(s)\n") } }
            }
            resources(c.resources, level: 2, &w)
            for (label, probe) in [("Liveness", c.livenessProbe), ("Readiness", c.readinessProbe), ("Startup", c.startupProbe)] {
                if let probe { w.write(2, "\(label):\t\(describeProbe(probe))\n") }
            }
            environment(c, &w)
            let mounts = (c.volumeMounts ?? []).sorted { $0.mountPath < $1.mountPath }
            w.write(2, "Mounts:\(mounts.isEmpty ? "\t<none>" : "")\n")
            for m in mounts {
                var flags = [(m.readOnly ?? false) ? "ro" : "rw"]
                if let sub = m.subPath, !sub.isEmpty { flags.append("path=\"\(sub)\"") }
                w.write(3, "\(m.mountPath) from \(m.name) (\(flags.joined(separator: ",")))\n")
            }
        }
    }

    static func resources(_ r: JSONValue?, level: Int, _ w: inout DescribeWriter) {
        for section in ["limits", "requests"] {
            guard let list = r?[section]?.objectValue, !list.isEmpty else { continue }
            w.write(level, "\(section == "limits" ? "Limits" : "Requests"):\n")
            for name in list.keys.sorted() {
                let value = list[name]!
                let text = value.stringValue.flatMap { try? Quantity(parsing: $0).description } ?? GoFormat.sprint(value)
                w.write(level + 1, "\(name):\t\(text)\n")
            }
        }
    }

    static func environment(_ c: Container, _ w: inout DescribeWriter) {
        if let from = c.envFrom?.arrayValue, !from.isEmpty {
            w.write(2, "Environment Variables from:\n")
            for e in from {
                let (kind, ref) = e["configMapRef"].map { ("ConfigMap", $0) } ?? ("Secret", e["secretRef"] ?? .null)
                let optional = ref["optional"] == .bool(true)
                let prefix = e["prefix"]?.stringValue ?? ""
                w.write(3, "\(ref["name"]?.stringValue ?? "")\t\(kind)\(prefix.isEmpty ? "" : " with prefix '\(prefix)'")\tOptional: \(optional)\n")
            }
        }
        let env = c.env?.arrayValue ?? []
        w.write(2, "Environment:\(env.isEmpty ? "\t<none>" : "")\n")
        for e in env {
            let name = e["name"]?.stringValue ?? ""
            guard let from = e["valueFrom"] else {
                for (i, s) in (e["value"]?.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    w.write(3, i == 0 ? "\(name):\t\(s)\n" : "\t\(s)\n")
                }
                continue
            }
            if let f = from["fieldRef"] {
                w.write(3, "\(name):\t (\(f["apiVersion"]?.stringValue ?? "v1"):\(f["fieldPath"]?.stringValue ?? ""))\n")
            } else if let r = from["resourceFieldRef"] {
                w.write(3, "\(name):\t (\(r["resource"]?.stringValue ?? ""))\n")
            } else if let s = from["secretKeyRef"] {
                w.write(3, "\(name):\t<set to the key '\(s["key"]?.stringValue ?? "")' in secret '\(s["name"]?.stringValue ?? "")'>\tOptional: \(s["optional"] == .bool(true))\n")
            } else if let m = from["configMapKeyRef"] {
                w.write(3, "\(name):\t<set to the key '\(m["key"]?.stringValue ?? "")' of config map '\(m["name"]?.stringValue ?? "")'>\tOptional: \(m["optional"] == .bool(true))\n")
            }
        }
    }

    /// DescribeProbe, with the API server's defaults for the fields a manifest leaves out.
    static func describeProbe(_ p: JSONValue) -> String {
        func n(_ key: String, _ d: Int64) -> Int64 { if case .int(let v)? = p[key] { return v } else { return d } }
        let attrs = "delay=\(n("initialDelaySeconds", 0))s timeout=\(n("timeoutSeconds", 1))s period=\(n("periodSeconds", 10))s #success=\(n("successThreshold", 1)) #failure=\(n("failureThreshold", 3))"
        if let exec = p["exec"] {
            return "exec [\((exec["command"]?.arrayValue ?? []).map(GoFormat.sprint).joined(separator: " "))] \(attrs)"
        }
        if let h = p["httpGet"] {
            let scheme = (h["scheme"]?.stringValue ?? "HTTP").lowercased()
            let host = h["host"]?.stringValue ?? ""
            let port = h["port"].map(intString) ?? ""
            return "http-get \(scheme)://\(host):\(port)\(h["path"]?.stringValue ?? "") \(attrs)"
        }
        if let t = p["tcpSocket"] {
            return "tcp-socket \(t["host"]?.stringValue ?? ""):\(t["port"].map(intString) ?? "") \(attrs)"
        }
        if let g = p["grpc"] {
            return "grpc <pod>:\(g["port"].map(intString) ?? "") \(g["service"]?.stringValue ?? "") \(attrs)"
        }
        return "unknown \(attrs)"
    }

    static func intString(_ v: JSONValue?) -> String {
        guard let v else { return "" }
        return GoFormat.sprint(v)
    }

    static func volumes(_ volumes: [Volume]?, space: String, _ w: inout DescribeWriter) {
        guard let volumes, !volumes.isEmpty else {
            w.write(0, "\(space)Volumes:\t<none>\n")
            return
        }
        w.write(0, "\(space)Volumes:\n")
        for v in volumes {
            w.write(1, "\(space.isEmpty ? "" : " ")\(v.name):\n")
            if let pvc = v.persistentVolumeClaim {
                w.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t\(pvc.claimName)\n    ReadOnly:\t\(pvc.readOnly ?? false)\n")
            } else {
                w.write(1, "<unknown>\n")
            }
        }
    }

    static func tolerations(_ title: String, _ list: JSONValue?, indent: String, _ w: inout DescribeWriter) {
        let items = (list?.arrayValue ?? []).sorted { ($0["key"]?.stringValue ?? "") < ($1["key"]?.stringValue ?? "") }
        w.multiline(title, items.map { t in
            let key = t["key"]?.stringValue ?? "", value = t["value"]?.stringValue ?? "", effect = t["effect"]?.stringValue ?? ""
            var s = key
            if !value.isEmpty { s += "=\(value)" }
            if !effect.isEmpty { s += ":\(effect)" }
            if t["operator"]?.stringValue == "Exists" && value.isEmpty { s += (key.isEmpty && effect.isEmpty) ? "op=Exists" : " op=Exists" }
            if case .int(let secs)? = t["tolerationSeconds"] { s += " for \(secs)s" }
            return s
        }, indent: indent)
    }

    /// qos.GetPodQOS for the resources Cairn keeps: BestEffort without requests or limits, Guaranteed
    /// when every container limits cpu and memory and requests (if given) equal the limits.
    static func qosClass(_ containers: [Container]) -> String {
        var any = false, guaranteed = true
        for c in containers {
            let limits = c.resources?["limits"]?.objectValue ?? [:]
            let requests = c.resources?["requests"]?.objectValue ?? [:]
            for (k, _) in limits.merging(requests, uniquingKeysWith: { a, _ in a }) where k == "cpu" || k == "memory" { any = true }
            for k in ["cpu", "memory"] {
                guard let l = limits[k]?.stringValue.flatMap({ try? Quantity(parsing: $0) }) else { guaranteed = false; continue }
                if let r = requests[k]?.stringValue.flatMap({ try? Quantity(parsing: $0) }), r != l { guaranteed = false }
            }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
