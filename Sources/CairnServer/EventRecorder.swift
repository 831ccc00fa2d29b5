import CairnControl
import CairnCore
import Foundation

/// client-go's event correlator, the part Cairn needs: the same event (same object, reason and
/// message) is one Event whose count goes up.
struct EventAggregator {
    private var byKey: [String: NamespacedName] = [:]
    /// The last name suffix given out.
    var lastSuffix: UInt64 = 0

    static func key(_ uid: String?, _ reason: String, _ message: String) -> String { "\(uid ?? "")|\(reason)|\(message)" }
    static func key(_ e: Event) -> String { key(e.involvedObject.uid, e.reason ?? "", e.message ?? "") }

    func existing(_ key: String) -> NamespacedName? { byKey[key] }
    mutating func remember(_ e: Event) { byKey[Self.key(e)] = NamespacedName(e) }
    mutating func forget(_ e: Event) {
        let k = Self.key(e)
        if byKey[k] == NamespacedName(e) { byKey[k] = nil }
    }
}

extension ControlPlane {
    /// Records an Event from `source` (the controller that acted, or the provisioner), or bumps the
    /// count of the same one.
    public func recordEvent(_ ref: ObjectReference, type: EventType, reason: String, message: String, source: String) {
        let now = clock.now()
        let key = EventAggregator.key(ref.uid, reason, message)
        if let existing = events.existing(key), var e = index.events[existing] {
            e.count = (e.count ?? 1) + 1
            e.lastTimestamp = now
            _ = try? write(e, requireVersion: false)
            return
        }
        let ns = ref.namespace ?? "default"
        // client-go names an event <object>.<unix nanos in hex>; Time keeps whole seconds, so the
        // nanoseconds come from the wall clock, and never repeat.
        let nanos = max(UInt64(Date().timeIntervalSince1970 * 1_000_000_000), events.lastSuffix + 1)
        events.lastSuffix = nanos
        let suffix = String(nanos, radix: 16)
        var e = Event(metadata: ObjectMeta(name: "\(ref.name ?? "object").\(suffix)", namespace: ns), involvedObject: ref)
        e.reason = reason
        e.message = message
        e.type = type.rawValue
        e.count = 1
        e.firstTimestamp = now
        e.lastTimestamp = now
        e.source = EventSource(component: source)
        e.reportingComponent = source
        if let stored = try? insert(e), let typed = try? decodeStored(stored) as? Event {
            events.remember(typed)
        }
    }

    /// Events expire, as with the API server's event TTL.
    func pruneEvents(olderThan seconds: TimeInterval) {
        let cutoff = clock.now().date.addingTimeInterval(-seconds)
        for e in index.events.values where (e.lastTimestamp?.date ?? .distantPast) < cutoff {
            _ = try? remove(e)
        }
    }
}
