import CairnCore
import CairnAPI
import Foundation

/// `cairn describe`: kubectl's layout (aligned "Field:  value" lines, then Events), plus Cairn's binding
/// history for claims, volumes, pods and StatefulSets.
enum DescribePrinter {
    static func describe(_ object: any KubeObject, events: [Event], history: [(String, [HistoryRow])],
                         bindings: [BindingRow], now: Date) -> String {
        var lines: [(String, String)] = []
        func add(_ k: String, _ v: String?) { lines.append((k, v ?? "<none>")) }
        func map(_ m: [String: String]?) -> String {
            guard let m, !m.isEmpty else { return "<none>" }
            return m.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        }
        let meta = object.metadata
        add("Name", meta.name)
        if type(of: object).kind.namespaced { add("Namespace", meta.namespace) }
        switch object {
        case let c as PersistentVolumeClaim:
            let b = bindings.first { $0.namespace == (meta.namespace ?? "default") && $0.claim == c.name }
            add("StorageClass", c.spec.storageClassName ?? "")
            add("Status", c.metadata.isDeleting ? "Terminating (lasts \(Printers.age(meta.deletionTimestamp, now: now)))" : c.phase.rawValue)
            add("Volume", c.spec.volumeName ?? "")
            add("Labels", map(meta.labels))
            add("Annotations", map(meta.annotations))
            add("Finalizers", "[\((meta.finalizers ?? []).joined(separator: " "))]")
            add("Capacity", c.status?.capacity?["storage"]?.description ?? "")
            add("Used", b?.usedBytes.map { "\(humanBytes($0)) (\($0) bytes, from Cairn's filesystem)" } ?? "")
            add("Access Modes", AccessMode.abbreviate(c.status?.accessModes ?? c.spec.accessModes))
            add("VolumeMode", c.spec.volumeMode ?? "Filesystem")
            add("Node", b?.node ?? "")
            add("Path", b?.path ?? "")
            add("Used By", b.map { $0.pods.isEmpty ? "<none>" : $0.pods.map { $0.hostPath.isEmpty ? $0.name : "\($0.name) (\($0.hostPath))" }.joined(separator: "\n") } ?? "<none>")
        case let v as PersistentVolume:
            add("Labels", map(meta.labels))
            add("Annotations", map(meta.annotations))
            add("Finalizers", "[\((meta.finalizers ?? []).joined(separator: " "))]")
            add("StorageClass", v.spec.storageClassName ?? "")
            add("Status", v.metadata.isDeleting ? "Terminating" : v.phase.rawValue)
            add("Claim", v.spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? "")
            add("Reclaim Policy", v.spec.persistentVolumeReclaimPolicy)
            add("Access Modes", AccessMode.abbreviate(v.spec.accessModes))
            add("VolumeMode", v.spec.volumeMode ?? "Filesystem")
            add("Capacity", v.spec.capacity?["storage"]?.description)
            let terms = v.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []
            add("Node Affinity", terms.isEmpty ? "<none>" : "\n  Required Terms:\n" + terms.flatMap { $0.matchExpressions ?? [] }
                .map { "    Term 0:        \($0.key) in [\(($0.values ?? []).joined(separator: ", "))]" }.joined(separator: "\n"))
            add("Message", v.status?.message ?? "")
            add("Source", v.spec.local.map { "\n    Type:  LocalVolume (a persistent volume backed by local storage on a node)\n    Path:  \($0.path)" })
        case let p as Pod:
            add("Node", p.spec.nodeName.map { "\($0)/\(p.status?.hostIP ?? "")" } ?? "<none>")
            add("Start Time", p.status?.startTime?.description)
            add("Labels", map(meta.labels))
            add("Annotations", map(meta.annotations))
            add("Status", p.metadata.isDeleting ? "Terminating" : p.phase.rawValue)
            add("Controlled By", p.controllerRef.map { "\($0.kind)/\($0.name)" })
            add("Containers", "\n" + p.spec.containers.map { c in
                "  \(c.name):\n    Image:  \(c.image ?? "")\n    Mounts:\n" +
                    (c.volumeMounts ?? []).map { "      \($0.mountPath) from \($0.name) (\(($0.readOnly ?? false) ? "ro" : "rw"))" }.joined(separator: "\n")
            }.joined(separator: "\n"))
            add("Conditions", "\n  Type              Status\n" + (p.status?.conditions ?? []).map {
                "  \($0.type.padding(toLength: 18, withPad: " ", startingAt: 0))\($0.status)"
            }.joined(separator: "\n"))
            add("Volumes", "\n" + (p.spec.volumes ?? []).map { v in
                let host = bindings.first { $0.claim == v.persistentVolumeClaim?.claimName && $0.namespace == (meta.namespace ?? "default") }?
                    .pods.first { $0.name == p.name }?.hostPath ?? ""
                return "  \(v.name):\n    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:  \(v.persistentVolumeClaim?.claimName ?? "")\n    ReadOnly:   \(v.persistentVolumeClaim?.readOnly ?? false)\n    HostPath:   \(host)"
            }.joined(separator: "\n"))
            add("Node-Selectors", map(p.spec.nodeSelector))
        case let s as StatefulSet:
            add("CreationTimestamp", meta.creationTimestamp?.description)
            add("Selector", (try? s.spec.selector?.asSelector().description) ?? "")
            add("Labels", map(meta.labels))
            add("Annotations", map(meta.annotations))
            add("Replicas", "\(s.replicas) desired | \(s.status?.replicas ?? 0) total")
            add("Update Strategy", s.spec.updateStrategy?["type"]?.stringValue ?? "RollingUpdate")
            add("Pods Status", "\(s.status?.readyReplicas ?? 0) Running / 0 Waiting / 0 Succeeded / 0 Failed")
            add("Pod Management Policy", s.spec.podManagementPolicy ?? "OrderedReady")
            add("PVC Retention Policy", "whenDeleted: \(s.whenDeleted), whenScaled: \(s.whenScaled)")
            add("Volume Claims", "\n" + (s.spec.volumeClaimTemplates ?? []).map { t in
                "  Name:          \(t.metadata.name ?? "")\n  StorageClass:  \(t.spec.storageClassName ?? "")\n  Capacity:      \(t.spec.requestedStorage?.description ?? "")\n  Access Modes:  [\((t.spec.accessModes ?? []).joined(separator: " "))]"
            }.joined(separator: "\n"))
        default:
            add("Labels", map(meta.labels))
            add("Annotations", map(meta.annotations))
            if let json = try? JSONValue(encoding: object) {
                for key in ["spec", "status", "provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"] {
                    if let v = json[key] {
                        add(key.prefix(1).uppercased() + key.dropFirst(), "\n" + Printers.yaml(v).split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
                    }
                }
            }
        }
        let width = (lines.map(\.0.count).max() ?? 0) + 2
        var out = ""
        for (k, v) in lines {
            let label = (k + ":").padding(toLength: width, withPad: " ", startingAt: 0)
            let parts = v.split(separator: "\n", omittingEmptySubsequences: false)
            out += label + (parts.first.map(String.init) ?? "") + "\n"
            for p in parts.dropFirst() {
                out += (p.hasPrefix(" ") ? "" : String(repeating: " ", count: width)) + p + "\n"
            }
        }
        if !history.isEmpty {
            out += "Binding History:\n"
            for (claim, rows) in history {
                if history.count > 1 || type(of: object).kind != .persistentVolumeClaim { out += "  \(claim):\n" }
                if rows.isEmpty { out += "    <none>\n"; continue }
                let table = Printers.table(["TIME", "ACTION", "VOLUME", "NODE", "POD", "DETAIL"],
                                           rows.map { [$0.at.description, $0.action.rawValue, $0.volume ?? "", $0.node ?? "", $0.pod ?? "", $0.detail ?? ""] })
                out += table.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n") + "\n"
            }
        }
        if events.isEmpty {
            out += "Events:  <none>\n"
        } else {
            out += "Events:\n"
            let rows = events.sorted(by: eventOrder).map { e -> [String] in
                var age = Printers.age(e.lastTimestamp, now: now)
                if let c = e.count, c > 1 { age += " (x\(c) over \(Printers.age(e.firstTimestamp, now: now)))" }
                return [e.type ?? "", e.reason ?? "", age, e.source?.component ?? "", e.message ?? ""]
            }
            let header = ["Type", "Reason", "Age", "From", "Message"]
            let dashes = header.map { String(repeating: "-", count: $0.count) }
            out += Printers.table(header, [dashes] + rows).split(separator: "\n").map { "  \($0)" }.joined(separator: "\n") + "\n"
        }
        return out
    }
}
