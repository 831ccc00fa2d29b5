import Foundation

/// fields.Selector as the API server takes it in `?fieldSelector=`: `key=value`, `key==value` and
/// `key!=value` terms joined by commas, over the fields each kind supports (its
/// GetAttrs/AddFieldLabelConversionFunc), read from the object's JSON.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Term: Sendable, Hashable {
        public var field: String
        public var value: String
        public var negated: Bool
    }
    public var terms: [Term]

    public static let everything = FieldSelector(terms: [])
    public var isEverything: Bool { terms.isEmpty }

    public var description: String {
        terms.map { "\($0.field)\($0.negated ? "!=" : "=")\($0.value)" }.joined(separator: ",")
    }

    /// fields.ParseSelector, then the kind's field label check ("field label not supported: x").
    public static func parse(_ text: String, kind: Kind) throws(SelectorError) -> FieldSelector {
        var terms: [Term] = []
        for part in splitTerms(text) where !part.isEmpty {
            let (field, value, negated): (String, String, Bool)
            if let r = part.range(of: "!=") {
                (field, value, negated) = (String(part[..<r.lowerBound]), String(part[r.upperBound...]), true)
            } else if let r = part.range(of: "==") {
                (field, value, negated) = (String(part[..<r.lowerBound]), String(part[r.upperBound...]), false)
            } else if let r = part.range(of: "=") {
                (field, value, negated) = (String(part[..<r.lowerBound]), String(part[r.upperBound...]), false)
            } else {
                throw SelectorError("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            let name = field.trimmingCharacters(in: .whitespaces)
            guard supported(kind).contains(name) else { throw SelectorError("field label not supported: \(name)") }
            terms.append(Term(field: name, value: unescape(value), negated: negated))
        }
        return FieldSelector(terms: terms)
    }

    /// Whether the object (as JSON) has every term's value.
    public func matches(_ object: JSONValue) -> Bool {
        terms.allSatisfy { t in (Self.value(of: t.field, in: object) == t.value) != t.negated }
    }

    /// A field's value as the API server's field set renders it (a missing string is "", a boolean
    /// "true"/"false").
    static func value(of field: String, in object: JSONValue) -> String {
        var node: JSONValue? = object
        for part in field.split(separator: ".") { node = node?[String(part)] }
        switch node {
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "true" : "false"
        case .int(let i)?: return String(i)
        case .double(let d)?: return d == d.rounded() ? String(Int64(d)) : String(d)
        default: return ""
        }
    }

    /// The fields each kind's registry supports beside metadata.name and metadata.namespace.
    public static func supported(_ kind: Kind) -> Set<String> {
        var fields: Set<String> = ["metadata.name"]
        if kind.namespaced { fields.insert("metadata.namespace") }
        switch kind {
        case .pod:
            fields.formUnion(["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                              "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"])
        case .event:
            fields.formUnion(["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                              "reason", "reportingComponent", "source", "type"])
        case .node: fields.insert("spec.unschedulable")
        case .namespace: fields.insert("status.phase")
        case .replicaSet: fields.insert("status.replicas")
        case .persistentVolumeClaim, .persistentVolume, .storageClass, .statefulSet, .service: break
        }
        return fields
    }

    /// Terms are split at commas not escaped with a backslash.
    static func splitTerms(_ text: String) -> [String] {
        var parts: [String] = [], current = "", escaped = false
        for c in text {
            if escaped { current.append("\\"); current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "," { parts.append(current); current = ""; continue }
            current.append(c)
        }
        parts.append(current)
        return parts
    }

    static func unescape(_ value: String) -> String {
        var out = "", escaped = false
        for c in value {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}

/// A list's or a watch's filter: a label selector over metadata.labels and a field selector.
public struct ObjectFilter: Sendable, Hashable {
    public var labels: Selector
    public var fields: FieldSelector

    public init(labels: Selector = .everything, fields: FieldSelector = .everything) {
        self.labels = labels
        self.fields = fields
    }

    /// From the request's `labelSelector` and `fieldSelector`, with kube-apiserver's 400 texts.
    public init(kind: Kind, labelSelector: String?, fieldSelector: String?) throws(Status) {
        do {
            labels = try labelSelector.map { $0.isEmpty ? .everything : try Selector.parse($0) } ?? .everything
        } catch {
            // labels.Parse's errors carry their own "unable to parse requirement: " prefix.
            let text = "\(error)"
            throw Status.badRequest(text.hasPrefix("unable to parse requirement: ") ? text : "unable to parse requirement: \(text)")
        }
        do {
            fields = try fieldSelector.map { try FieldSelector.parse($0, kind: kind) } ?? .everything
        } catch {
            throw Status.badRequest("\(error)")
        }
    }

    public var isEverything: Bool { labels == .everything && fields.isEverything }

    public func matches(_ object: JSONValue) -> Bool {
        if labels != .everything {
            let l = object["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            if !labels.matches(l) { return false }
        }
        return fields.matches(object)
    }
}
