import CairnCore
import Foundation

/// `kubectl describe` for claims, volumes, classes and nodes (describePersistentVolumeClaim,
/// describePersistentVolume, describeStorageClass, describeNode), with Cairn's storage facts after
/// kubectl's fields: where a claim's directory is and how much it holds, and for a node its data
/// root, free storage and the volumes on it.
extension Describer {
    static func claim(_ pvc: PersistentVolumeClaim, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(pvc.name)\n")
        w.write(0, "Namespace:\t\(pvc.metadata.namespace ?? "")\n")
        w.write(0, "StorageClass:\t\(pvc.spec.storageClassName ?? "")\n")
        if let deleted = pvc.metadata.deletionTimestamp {
            w.write(0, "Status:\tTerminating (lasts \(Printers.age(deleted, now: c.now)))\n")
        } else {
            w.write(0, "Status:\t\(pvc.status?.phase?.rawValue ?? "")\n")
        }
        w.write(0, "Volume:\t\(pvc.spec.volumeName ?? "")\n")
        w.labels("Labels", pvc.metadata.labels)
        w.annotations("Annotations", pvc.metadata.annotations)
        w.write(0, "Finalizers:\t\(goList(pvc.metadata.finalizers))\n")
        let bound = !(pvc.spec.volumeName ?? "").isEmpty
        w.write(0, "Capacity:\t\(bound ? pvc.status?.capacity?["storage"]?.description ?? "0" : "")\n")
        w.write(0, "Access Modes:\t\(bound ? AccessMode.abbreviate(pvc.status?.accessModes) : "")\n")
        if let mode = pvc.spec.volumeMode { w.write(0, "VolumeMode:\t\(mode)\n") }
        if let source = pvc.spec.dataSource {
            w.write(0, "DataSource:\n")
            if let group = source["apiGroup"]?.stringValue { w.write(1, "APIGroup:\t\(group)\n") }
            w.write(1, "Kind:\t\(source["kind"]?.stringValue ?? "")\n")
            w.write(1, "Name:\t\(source["name"]?.stringValue ?? "")\n")
        }
        let users = c.pods.filter { p in
            p.metadata.namespace == pvc.metadata.namespace && p.spec.claimVolumes.contains { $0.claim == pvc.name }
        }.map(\.name).sorted()
        w.multiline("Used By", users)
        if let conditions = pvc.status?.conditions, !conditions.isEmpty {
            w.write(0, "Conditions:\n")
            w.write(1, "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n")
            w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
            for cond in conditions {
                w.write(1, "\(cond.type) \t\(cond.status.rawValue) \t\(rfc1123Z(cond.lastProbeTime, c.timeZone)) \t\(rfc1123Z(cond.lastTransitionTime, c.timeZone)) \t\(cond.reason ?? "") \t\(cond.message ?? "")\n")
            }
        }
        if let u = c.usage.first(where: { $0.namespace == (pvc.metadata.namespace ?? "default") && $0.claim == pvc.name }) {
            usage(u, &w)
        }
    }

    /// Cairn's lines for a claim's storage: node, directory, usage and the pods' mounts.
    static func usage(_ u: ClaimUsage, _ w: inout DescribeWriter) {
        w.write(0, "Node:\t\(u.node ?? "<none>")\n")
        w.write(0, "Directory:\t\(u.path ?? "<none>")\n")
        w.write(0, "Used:\t\(u.usedBytes.map { "\(humanBytes($0)) (\($0) bytes, as Cairn's filesystem counts them)" } ?? "<unknown>")\n")
        w.multiline("Mounted At", u.mounts.map { "\($0.hostPath) (pod \($0.pod))" })
    }

    static func volume(_ pv: PersistentVolume, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(pv.name)\n")
        w.labels("Labels", pv.metadata.labels)
        w.annotations("Annotations", pv.metadata.annotations)
        w.write(0, "Finalizers:\t\(goList(pv.metadata.finalizers))\n")
        w.write(0, "StorageClass:\t\(pv.spec.storageClassName ?? "")\n")
        if let deleted = pv.metadata.deletionTimestamp {
            w.write(0, "Status:\tTerminating (lasts \(Printers.age(deleted, now: c.now)))\n")
        } else {
            w.write(0, "Status:\t\(pv.status?.phase?.rawValue ?? "")\n")
        }
        w.write(0, "Claim:\t\(pv.spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? "")\n")
        w.write(0, "Reclaim Policy:\t\(pv.spec.persistentVolumeReclaimPolicy ?? "")\n")
        w.write(0, "Access Modes:\t\(AccessMode.abbreviate(pv.spec.accessModes))\n")
        if let mode = pv.spec.volumeMode { w.write(0, "VolumeMode:\t\(mode)\n") }
        w.write(0, "Capacity:\t\(pv.spec.capacity?["storage"]?.description ?? "0")\n")
        w.write(0, "Node Affinity:\t")
        if let required = pv.spec.nodeAffinity?.required {
            w.line("")
            w.write(1, "Required Terms:\t")
            if required.nodeSelectorTerms.isEmpty {
                w.line("<none>")
            } else {
                w.line("")
                for (i, term) in required.nodeSelectorTerms.enumerated() {
                    w.write(2, "Term \(i):\t")
                    let exprs = term.matchExpressions ?? []
                    if exprs.isEmpty { w.line("<none>"); continue }
                    for (j, e) in exprs.enumerated() {
                        if j != 0 { w.write(2, "\t") }
                        var s = "\(e.key) \(e.operator.lowercased())"
                        if let v = e.values, !v.isEmpty { s += " [\(v.joined(separator: ", "))]" }
                        w.write(0, "\(s)\n")
                    }
                }
            }
        } else {
            w.line("<none>")
        }
        w.write(0, "Message:\t\(pv.status?.message ?? "")\n")
        w.write(0, "Source:\n")
        if let local = pv.spec.local {
            w.write(2, "Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n    Path:\t\(local.path)\n")
        } else {
            w.write(1, "<unknown>\n")
        }
        if let ref = pv.spec.claimRef,
           let u = c.usage.first(where: { $0.namespace == (ref.namespace ?? "") && $0.claim == ref.name && $0.volume == pv.name }) {
            // Cairn's line aligns on its own, leaving kubectl's blocks as kubectl lays them out.
            w.flush()
            w.write(0, "Used:\t\(u.usedBytes.map { "\(humanBytes($0)) (\($0) bytes, as Cairn's filesystem counts them)" } ?? "<unknown>")\n")
        }
    }

    static func storageClass(_ sc: StorageClass, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(sc.name)\n")
        w.write(0, "IsDefaultClass:\t\(sc.isDefault ? "Yes" : "No")\n")
        w.write(0, "Annotations:\t\(Printers.formatLabels(sc.metadata.annotations))\n")
        w.write(0, "Provisioner:\t\(sc.provisioner)\n")
        w.write(0, "Parameters:\t\(Printers.formatLabels(sc.parameters))\n")
        w.write(0, "AllowVolumeExpansion:\t\(sc.allowVolumeExpansion.map(goBool) ?? "<unset>")\n")
        if let options = sc.mountOptions, !options.isEmpty {
            w.write(0, "MountOptions:\n")
            for o in options { w.write(1, "\(o)\n") }
        } else {
            w.write(0, "MountOptions:\t<none>\n")
        }
        // The API server defaults both; Cairn stores a class as applied.
        w.write(0, "ReclaimPolicy:\t\(sc.effectiveReclaimPolicy)\n")
        w.write(0, "VolumeBindingMode:\t\(sc.effectiveBindingMode)\n")
        if let topologies = sc.allowedTopologies {
            w.write(0, "AllowedTopologies:\t")
            let terms = topologies.arrayValue ?? []
            if terms.isEmpty {
                w.line("<none>")
            } else {
                w.line("")
                for (i, term) in terms.enumerated() {
                    w.write(1, "Term \(i):\t")
                    let exprs = term["matchLabelExpressions"]?.arrayValue ?? []
                    if exprs.isEmpty { w.line("<none>"); continue }
                    for (j, e) in exprs.enumerated() {
                        if j != 0 { w.write(1, "\t") }
                        let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue)
                        w.write(0, "\(e["key"]?.stringValue ?? "") in\(values.isEmpty ? "" : " [\(values.joined(separator: ", "))]")\n")
                    }
                }
            }
        }
    }

    static func node(_ n: CairnCore.Node, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(n.name)\n")
        let roles = Printers.nodeRoles(n)
        w.write(0, "Roles:\t\(roles.isEmpty ? "<none>" : roles.joined(separator: ","))\n")
        w.labels("Labels", n.metadata.labels)
        w.annotations("Annotations", n.metadata.annotations)
        w.write(0, "CreationTimestamp:\t\(rfc1123Z(n.metadata.creationTimestamp, c.timeZone))\n")
        let taints = (n.spec?.taints ?? []).sorted { ($0.effect.rawValue, $0.key) < ($1.effect.rawValue, $1.key) }
        w.multiline("Taints", taints.map { t in
            let value = t.value ?? ""
            return value.isEmpty ? "\(t.key):\(t.effect.rawValue)" : "\(t.key)=\(value):\(t.effect.rawValue)"
        })
        w.write(0, "Unschedulable:\t\(n.spec?.unschedulable ?? false)\n")
        if let conditions = n.status?.conditions, !conditions.isEmpty {
            w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
            w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
            for cond in conditions {
                w.write(1, "\(cond.type) \t\(cond.status) \t\(rfc1123Z(cond.lastHeartbeatTime, c.timeZone)) \t\(rfc1123Z(cond.lastTransitionTime, c.timeZone)) \t\(cond.reason ?? "") \t\(cond.message ?? "")\n")
            }
        }
        w.write(0, "Addresses:\n")
        for a in n.status?.addresses ?? [] {
            w.write(1, "\(a["type"]?.stringValue ?? ""):\t\(a["address"]?.stringValue ?? "")\n")
        }
        for (title, list) in [("Capacity", n.status?.capacity), ("Allocatable", n.status?.allocatable)] {
            guard let list, !list.isEmpty else { continue }
            w.write(0, "\(title):\n")
            for name in list.keys.sorted() { w.write(0, "  \(name):\t\(list[name]!.description)\n") }
        }
        // kubectl's System Info and CPU/memory columns come from a kubelet; Cairn's nodes have neither.
        let pods = c.pods.filter { $0.spec.nodeName == n.name && !$0.phase.isTerminal }
        w.write(0, "Non-terminated Pods:\t(\(pods.count) in total)\n")
        w.write(1, "Namespace\tName\t\tAge\n")
        w.write(1, "---------\t----\t\t---\n")
        for p in pods {
            w.write(1, "\(p.metadata.namespace ?? "")\t\(p.name)\t\t\(Printers.age(p.metadata.creationTimestamp, now: c.now))\n")
        }
        let storage = NodeStorage(node: n, volumes: c.volumes, claims: c.claims, classes: c.storageClasses)
        w.flush()
        w.write(0, "Storage:\n")
        w.write(1, "Data Root:\t\(n.metadata.annotation(CairnCore.Node.dataRootAnnotation) ?? "<none>")\n")
        w.write(1, "Allocatable:\t\(figure(storage.allocatable))\n")
        let live = storage.volumes.filter { !$0.metadata.isDeleting }.count
        w.write(1, "Provisioned:\t\(figure(storage.provisioned)) in \(live) volume\(live == 1 ? "" : "s")\n")
        if !storage.reservations.isEmpty {
            w.write(1, "Reserved:\t\(figure(storage.reserved)) for \(storage.reservations.count) claim\(storage.reservations.count == 1 ? "" : "s") waiting for a volume\n")
        }
        w.write(1, "Free:\t\(figure(storage.free))\n")
        w.write(0, "Volumes:\(storage.volumes.isEmpty ? "\t<none>" : "")\n")
        if !storage.volumes.isEmpty {
            w.write(1, "Name\tClaim\tCapacity\tStatus\tAge\n")
            w.write(1, "----\t-----\t--------\t------\t---\n")
            for v in storage.volumes {
                let claim = v.spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? "<none>"
                let status = v.metadata.isDeleting ? "Terminating" : (v.status?.phase?.rawValue ?? "")
                w.write(1, "\(v.name)\t\(claim)\t\(v.spec.capacity?["storage"]?.description ?? "")\t\(status)\t\(Printers.age(v.metadata.creationTimestamp, now: c.now))\n")
            }
        }
        w.flush()
    }

    /// A storage figure for people: the quantity as Kubernetes prints it when that is short ("20Gi",
    /// "2G"), else in binary units to a tenth with the exact bytes ("18.1Gi (19474836480 bytes)").
    static func figure(_ q: Quantity) -> String {
        let text = q.description
        if text.prefix(while: { $0.isNumber || $0 == "-" }).count <= 4 { return text }
        guard let bytes = q.bytes else { return text }
        return "\(humanBytes(bytes, tenths: true)) (\(bytes) bytes)"
    }
}

/// A node's storage as Cairn's provisioner counts it (StorageLedger in CairnControl): allocatable
/// ephemeral-storage, minus the capacity of every volume on the node that is not being deleted
/// (Released and Failed ones keep their data), minus the requests of claims whose node is chosen and
/// whose volume is not created yet.
public struct NodeStorage: Sendable {
    public var allocatable: Quantity
    public var volumes: [PersistentVolume]
    public var provisioned: Quantity
    public var reservations: [PersistentVolumeClaim]
    public var reserved: Quantity
    public var free: Quantity { allocatable - provisioned - reserved }

    public static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

    public init(node: CairnCore.Node, volumes: [PersistentVolume], claims: [PersistentVolumeClaim], classes: [StorageClass]) {
        allocatable = node.allocatableStorage ?? .zero
        let hostname = node.metadata.labels?[CairnCore.Node.hostnameLabel] ?? node.name
        self.volumes = volumes.filter { Self.hostname(of: $0) == hostname }.sorted { $0.name < $1.name }
        provisioned = self.volumes.filter { !$0.metadata.isDeleting }
            .reduce(Quantity.zero) { $0 + ($1.spec.capacity?["storage"] ?? .zero) }
        let claimsWithVolumes = Set(volumes.compactMap(\.spec.claimRef?.uid))
        let cairnClasses = Set(classes.filter { $0.provisioner == Validation.provisionerName }.map(\.name))
        reservations = claims.filter { c in
            !c.metadata.isDeleting && (c.spec.volumeName ?? "").isEmpty
                && c.metadata.annotation(Self.selectedNodeAnnotation) == node.name
                && cairnClasses.contains(c.spec.storageClassName ?? "")
                && !claimsWithVolumes.contains(c.uid) && c.spec.requestedStorage?.bytes != nil
        }.sorted { $0.name < $1.name }
        reserved = reservations.reduce(Quantity.zero) { $0 + ($1.spec.requestedStorage ?? .zero) }
    }

    /// The node a local volume lives on: the hostname its required node affinity names.
    static func hostname(of pv: PersistentVolume) -> String? {
        for term in pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? [] {
            for e in term.matchExpressions ?? [] where e.key == CairnCore.Node.hostnameLabel && e.operator == "In" {
                if let v = e.values, v.count == 1 { return v[0] }
            }
        }
        return nil
    }
}
