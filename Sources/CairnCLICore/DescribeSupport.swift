import CairnCore
import Foundation

/// Cairn's view of one claim's storage (a row of `cairn bindings`), as describe shows it.
public struct ClaimUsage: Sendable, Hashable {
    public struct Mount: Sendable, Hashable {
        public var pod: String
        public var hostPath: String
        public init(pod: String, hostPath: String) {
            self.pod = pod
            self.hostPath = hostPath
        }
    }
    public var namespace: String
    public var claim: String
    public var volume: String?
    public var node: String?
    public var path: String?
    public var usedBytes: Int64?
    public var mounts: [Mount]

    public init(namespace: String, claim: String, volume: String?, node: String?, path: String?,
                usedBytes: Int64?, mounts: [Mount]) {
        self.namespace = namespace
        self.claim = claim
        self.volume = volume
        self.node = node
        self.path = path
        self.usedBytes = usedBytes
        self.mounts = mounts
    }
}

/// One line of a claim's binding history (provisioned, bound, mounted, ...), from Cairn's database.
public struct HistoryEntry: Sendable, Hashable {
    public var at: Time
    public var action: String
    public var volume: String?
    public var node: String?
    public var pod: String?
    public var detail: String?

    public init(at: Time, action: String, volume: String?, node: String?, pod: String?, detail: String?) {
        self.at = at
        self.action = action
        self.volume = volume
        self.node = node
        self.pod = pod
        self.detail = detail
    }
}

/// Everything besides the object that a description shows. The CLI fetches what the kind needs.
public struct DescribeContext: Sendable {
    public var now: Date
    public var timeZone: TimeZone
    /// Events that may concern the object; the describer keeps those that name it.
    public var events: [Event] = []
    /// Pods of the object's namespace (claims, workloads) or of every namespace (nodes).
    public var pods: [Pod] = []
    public var claims: [PersistentVolumeClaim] = []
    public var volumes: [PersistentVolume] = []
    public var storageClasses: [StorageClass] = []
    public var usage: [ClaimUsage] = []
    /// Binding history per claim, in the order to print.
    public var history: [(claim: String, entries: [HistoryEntry])] = []

    public init(now: Date, timeZone: TimeZone = .current) {
        self.now = now
        self.timeZone = timeZone
    }
}

/// The pieces kubectl's describers share (describe.go): multi-line labels, annotations, taints and
/// tolerations, the Events table, times in RFC 1123 with a numeric zone.
extension DescribeWriter {
    /// printLabelsMultilineWithIndent: `Title:\tk=v`, further labels on lines of their own in the column.
    mutating func labels(_ title: String, _ labels: [String: String]?, indent: String = "") {
        write(0, "\(indent)\(title):\t")
        guard let labels, !labels.isEmpty else { line("<none>"); return }
        for (i, key) in labels.keys.sorted().enumerated() {
            if i != 0 { write(0, "\(indent)\t") }
            write(0, "\(key)=\(labels[key]!)\n")
        }
    }

    /// printAnnotationsMultiline: `key: value`; a value longer than 140 characters or of several lines
    /// goes below its key, each line cut at 138.
    mutating func annotations(_ title: String, _ annotations: [String: String]?) {
        write(0, "\(title):\t")
        let keys = (annotations ?? [:]).keys.filter { $0 != "kubectl.kubernetes.io/last-applied-configuration" }.sorted()
        guard let annotations, !keys.isEmpty else { line("<none>"); return }
        for (i, key) in keys.enumerated() {
            if i != 0 { write(0, "\t") }
            var value = annotations[key]!
            if value.hasSuffix("\n") { value.removeLast() }
            if value.utf8.count + key.utf8.count + 2 > 140 || value.contains("\n") {
                write(0, "\(key):\n")
                for s in value.split(separator: "\n", omittingEmptySubsequences: false) {
                    let cut = s.utf8.count > 138 ? String(decoding: Array(s.utf8.prefix(138)), as: UTF8.self) + "..." : String(s)
                    write(0, "\t  \(cut)\n")
                }
            } else {
                write(0, "\(key): \(value)\n")
            }
        }
    }

    /// A list under a title, one item per line in the value column (`Used By`, `Taints`).
    mutating func multiline(_ title: String, _ items: [String], indent: String = "") {
        write(0, "\(indent)\(title):\t")
        if items.isEmpty { line("<none>"); return }
        for (i, item) in items.enumerated() {
            if i != 0 { write(0, "\(indent)\t") }
            write(0, "\(item)\n")
        }
    }

    /// DescribeEvents: `Events:  <none>`, or the table of the object's events, oldest first.
    mutating func events(_ events: [Event], now: Date) {
        if events.isEmpty {
            write(0, "Events:\t<none>\n")
            return
        }
        flush()
        write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
        write(1, "----\t------\t----\t----\t-------\n")
        for e in events.sorted(by: { Self.eventTime($0) < Self.eventTime($1) }) {
            let first = Printers.age(e.firstTimestamp, now: now)
            let interval = (e.count ?? 0) > 1
                ? "\(Printers.age(e.lastTimestamp, now: now)) (x\(e.count!) over \(first))" : first
            let source = e.source?.component.flatMap { $0.isEmpty ? nil : $0 } ?? e.reportingComponent ?? ""
            let message = (e.message ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            write(1, "\(e.type ?? "")\t\(e.reason ?? "")\t\(interval)\t\(source)\t\(message)\n")
        }
    }

    static func eventTime(_ e: Event) -> Date {
        (e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp)?.date ?? .distantPast
    }
}

/// Time.Format(time.RFC1123Z) in the reader's zone: "Tue, 01 Dec 2026 23:10:31 +0000". kubectl prints
/// Go's zero time for a time that was never set.
func rfc1123Z(_ t: Time?, _ zone: TimeZone) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = zone
    f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
    guard let t else { return "Mon, 01 Jan 0001 00:00:00 +0000" }
    return f.string(from: t.date)
}

/// Go's %v of a []string: "[a b]".
func goList(_ items: [String]?) -> String { "[" + (items ?? []).joined(separator: " ") + "]" }

/// metav1.FormatLabelSelector: the selector's requirements, `<none>` when it selects everything.
func formatSelector(_ s: LabelSelector?) -> String {
    guard let s else { return "<none>" }
    guard let selector = try? s.asSelector() else { return "<error>" }
    let text = selector.description
    return text.isEmpty ? "<none>" : text
}

/// A Kubernetes boolean as describe prints it (printBool).
func goBool(_ b: Bool) -> String { b ? "True" : "False" }

/// The events about `object`: kubectl selects them by the involved object's name, namespace, kind and uid.
func eventsAbout(_ object: any KubeObject, _ events: [Event]) -> [Event] {
    let kind = type(of: object).kind.rawValue
    return events.filter { e in
        let ref = e.involvedObject
        if let uid = ref.uid, !uid.isEmpty, !object.uid.isEmpty { return uid == object.uid }
        return ref.name == object.name && (ref.kind ?? kind) == kind && (ref.namespace ?? "") == (object.metadata.namespace ?? "")
    }
}
