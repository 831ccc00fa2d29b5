import CairnCore
import Foundation

/// `cairn describe`: kubectl's describers field for field (k8s.io/kubectl/pkg/describe), laid out by
/// the same tab writer so columns align as kubectl aligns them, then what Cairn adds (a claim's
/// directory and usage, a node's storage and volumes, the binding history), then the Events.
/// Lines kubectl prints from data Cairn does not have (container statuses, a kubelet's system info,
/// CPU and memory) are left out rather than printed empty.
public enum Describer {
    public static func describe(_ object: any KubeObject, _ c: DescribeContext) -> String {
        var w = DescribeWriter()
        switch object {
        case let o as Pod: pod(o, c, &w)
        case let o as PersistentVolumeClaim: claim(o, c, &w)
        case let o as PersistentVolume: volume(o, c, &w)
        case let o as StorageClass: storageClass(o, c, &w)
        case let o as CairnCore.Node: node(o, c, &w)
        case let o as ReplicaSet: replicaSet(o, c, &w)
        case let o as StatefulSet: statefulSet(o, c, &w)
        case let o as Service: service(o, c, &w)
        case let o as Namespace:
            // kubectl shows no events for a namespace.
            namespace(o, c, &w)
            return w.finish()
        case let o as Event: event(o, c, &w)
        default:
            w.write(0, "Name:\t\(object.name)\n")
        }
        history(c.history, single: object is PersistentVolumeClaim, &w)
        var events = eventsAbout(object, c.events)
        if let n = object as? CairnCore.Node {
            // Node events name the node by uid (controllers) or by name (kubelet); kubectl merges both.
            events += c.events.filter { $0.involvedObject.uid == n.name && n.uid != n.name }
        }
        w.events(events, now: c.now)
        return w.finish()
    }

    /// An Event has no describer of its own in kubectl; this is the generic one's field list.
    static func event(_ e: Event, _ c: DescribeContext, _ w: inout DescribeWriter) {
        w.write(0, "Name:\t\(e.name)\n")
        w.write(0, "Namespace:\t\(e.metadata.namespace ?? "")\n")
        w.labels("Labels", e.metadata.labels)
        w.annotations("Annotations", e.metadata.annotations)
        w.write(0, "Type:\t\(e.type ?? "")\n")
        w.write(0, "Reason:\t\(e.reason ?? "")\n")
        w.write(0, "Message:\t\(e.message ?? "")\n")
        w.write(0, "Count:\t\(e.count ?? 1)\n")
        w.write(0, "First Timestamp:\t\(rfc1123Z(e.firstTimestamp, c.timeZone))\n")
        w.write(0, "Last Timestamp:\t\(rfc1123Z(e.lastTimestamp, c.timeZone))\n")
        let ref = e.involvedObject
        w.write(0, "Involved Object:\n")
        w.write(1, "Kind:\t\(ref.kind ?? "")\n")
        w.write(1, "Name:\t\(ref.name ?? "")\n")
        if let ns = ref.namespace { w.write(1, "Namespace:\t\(ns)\n") }
        w.write(0, "Source:\n")
        w.write(1, "Component:\t\(e.source?.component ?? "")\n")
    }

    /// Cairn's binding history of the claims the object concerns, one table per claim.
    static func history(_ history: [(claim: String, entries: [HistoryEntry])], single: Bool, _ w: inout DescribeWriter) {
        guard !history.isEmpty else { return }
        w.flush()
        w.write(0, "Binding History:\n")
        for (claim, entries) in history {
            w.flush()
            let level = single ? 1 : 2
            if !single { w.write(1, "\(claim):\n") }
            if entries.isEmpty { w.write(level, "<none>\n"); continue }
            w.write(level, "Time\tAction\tVolume\tNode\tPod\tDetail\n")
            w.write(level, "----\t------\t------\t----\t---\t------\n")
            for e in entries {
                w.write(level, "\(e.at)\t\(e.action)\t\(e.volume ?? "")\t\(e.node ?? "")\t\(e.pod ?? "")\t\(e.detail ?? "")\n")
            }
        }
        w.flush()
    }
}
