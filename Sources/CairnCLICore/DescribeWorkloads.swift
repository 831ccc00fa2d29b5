import CairnCore
import Foundation

/// `kubectl describe` for ReplicaSets, StatefulSets, Services and Namespaces (describeReplicaSet,
/// describeStatefulSet, describeService, describeNamespace).
extension Describer {
    /// getPodStatusForController: the phases of the pods the controller owns.
    static func podPhases(of uid: String, selector: LabelSelector?, _ pods: [Pod]) -> String {
        let matching = (try? selector?.asSelector()) ?? nil
        var running = 0, waiting = 0, succeeded = 0, failed = 0
        for p in pods where p.controllerRef?.uid == uid && (matching?.matches(p.metadata.labels ?? [:]) ?? false) {
            switch p.phase {
            case .running: running += 1
            case .pending: waiting += 1
            case .succeeded: succeeded += 1
            case .failed: failed += 1
            default: break
            }
        }
        return "\(running) Running / \(waiting) Waiting / \(succeeded) Succeeded / \(failed) Failed"
    }

    static func replicaSet(_ rs: ReplicaSet, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(rs.name)\n")
        w.write(0, "Namespace:\t\(rs.metadata.namespace ?? "")\n")
        w.write(0, "Selector:\t\(formatSelector(rs.spec.selector))\n")
        w.labels("Labels", rs.metadata.labels)
        w.annotations("Annotations", rs.metadata.annotations)
        if let ref = rs.controllerRef { w.write(0, "Controlled By:\t\(ref.kind)/\(ref.name)\n") }
        w.write(0, "Replicas:\t\(rs.status?.replicas ?? 0) current / \(rs.replicas) desired\n")
        w.write(0, "Pods Status:\t")
        w.write(0, "\(podPhases(of: rs.uid, selector: rs.spec.selector, c.pods))\n")
        podTemplate(rs.spec.template, &w)
    }

    static func statefulSet(_ s: StatefulSet, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(s.name)\n")
        w.write(0, "Namespace:\t\(s.metadata.namespace ?? "")\n")
        w.write(0, "CreationTimestamp:\t\(rfc1123Z(s.metadata.creationTimestamp, c.timeZone))\n")
        // describeStatefulSet prints the parsed selector itself: nothing for one that selects everything.
        w.write(0, "Selector:\t\((try? s.spec.selector?.asSelector().description) ?? "")\n")
        w.labels("Labels", s.metadata.labels)
        w.annotations("Annotations", s.metadata.annotations)
        w.write(0, "Replicas:\t\(s.replicas) desired | \(s.status?.replicas ?? 0) total\n")
        // The API server defaults the strategy to RollingUpdate with partition 0.
        let strategy = s.spec.updateStrategy?["type"]?.stringValue ?? "RollingUpdate"
        w.write(0, "Update Strategy:\t\(strategy)\n")
        if strategy == "RollingUpdate" {
            let rolling = s.spec.updateStrategy?["rollingUpdate"]
            w.write(1, "Partition:\t\(rolling?["partition"].map(GoFormat.sprint) ?? "0")\n")
            if let max = rolling?["maxUnavailable"] { w.write(1, "MaxUnavailable:\t\(GoFormat.sprint(max))\n") }
        }
        w.write(0, "Pods Status:\t\(podPhases(of: s.uid, selector: s.spec.selector, c.pods))\n")
        podTemplate(s.spec.template, &w)
        let templates = s.spec.volumeClaimTemplates ?? []
        if templates.isEmpty {
            w.write(0, "Volume Claims:\t<none>\n")
        } else {
            w.write(0, "Volume Claims:\n")
            for t in templates {
                w.write(1, "Name:\t\(t.metadata.name ?? "")\n")
                w.write(1, "StorageClass:\t\(t.spec.storageClassName ?? "")\n")
                w.labels("Labels", t.metadata.labels, indent: "  ")
                w.labels("Annotations", t.metadata.annotations, indent: "  ")
                w.write(1, "Capacity:\t\(t.spec.requestedStorage?.description ?? "<default>")\n")
                w.write(1, "Access Modes:\t\(goList(t.spec.accessModes))\n")
            }
        }
        // Not in kubectl 1.32's layout, but what Cairn is for: what happens to the claims.
        w.flush()
        w.write(0, "Claim Retention:\twhenDeleted=\(s.whenDeleted), whenScaled=\(s.whenScaled)\n")
    }

    static func service(_ s: Service, _ c: DescribeContext, _ w: inout DescribeWriter) {
        let spec = s.spec ?? .object([:])
        func str(_ key: String) -> String { spec[key]?.stringValue ?? "" }
        func strings(_ key: String) -> [String] { (spec[key]?.arrayValue ?? []).compactMap(\.stringValue) }
        w.write(0, "Name:\t\(s.name)\n")
        w.write(0, "Namespace:\t\(s.metadata.namespace ?? "")\n")
        w.labels("Labels", s.metadata.labels)
        w.annotations("Annotations", s.metadata.annotations)
        let selector = (spec["selector"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        w.write(0, "Selector:\t\(Printers.formatLabels(selector))\n")
        // The API server's defaults for what a manifest leaves out; Cairn allocates no addresses.
        w.write(0, "Type:\t\(spec["type"]?.stringValue ?? "ClusterIP")\n")
        if let policy = spec["ipFamilyPolicy"]?.stringValue { w.write(0, "IP Family Policy:\t\(policy)\n") }
        let families = strings("ipFamilies")
        w.write(0, "IP Families:\t\(families.isEmpty ? "<none>" : families.joined(separator: ","))\n")
        w.write(0, "IP:\t\(str("clusterIP"))\n")
        let ips = strings("clusterIPs").isEmpty ? (str("clusterIP").isEmpty ? [] : [str("clusterIP")]) : strings("clusterIPs")
        w.write(0, "IPs:\t\(ips.isEmpty ? "<none>" : ips.joined(separator: ","))\n")
        if !strings("externalIPs").isEmpty { w.write(0, "External IPs:\t\(strings("externalIPs").joined(separator: ","))\n") }
        if !str("loadBalancerIP").isEmpty { w.write(0, "Desired LoadBalancer IP:\t\(str("loadBalancerIP"))\n") }
        if !str("externalName").isEmpty { w.write(0, "External Name:\t\(str("externalName"))\n") }
        for p in spec["ports"]?.arrayValue ?? [] {
            let name = p["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "<unset>"
            let proto = p["protocol"]?.stringValue ?? "TCP"
            let port = p["port"].map(GoFormat.sprint) ?? ""
            w.write(0, "Port:\t\(name)\t\(port)/\(proto)\n")
            w.write(0, "TargetPort:\t\(p["targetPort"].map(GoFormat.sprint) ?? port)/\(proto)\n")
            if let nodePort = p["nodePort"], nodePort != .int(0) { w.write(0, "NodePort:\t\(name)\t\(GoFormat.sprint(nodePort))/\(proto)\n") }
            w.write(0, "Endpoints:\t<none>\n")
        }
        w.write(0, "Session Affinity:\t\(spec["sessionAffinity"]?.stringValue ?? "None")\n")
        if !str("externalTrafficPolicy").isEmpty { w.write(0, "External Traffic Policy:\t\(str("externalTrafficPolicy"))\n") }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if let policy = spec["internalTrafficPolicy"]?.stringValue ?? (type == "ExternalName" ? nil : "Cluster") {
            w.write(0, "Internal Traffic Policy:\t\(policy)\n")
        }
    }

    static func namespace(_ ns: Namespace, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(ns.name)\n")
        w.labels("Labels", ns.metadata.labels)
        w.annotations("Annotations", ns.metadata.annotations)
        w.write(0, "Status:\t\(ns.status?.phase?.rawValue ?? "Active")\n")
        // Cairn has no ResourceQuota or LimitRange kinds: a namespace has none of either.
        w.write(0, "\n")
        w.write(0, "No resource quota.\n")
        w.write(0, "\n")
        w.write(0, "No LimitRange resource.\n")
    }
}
