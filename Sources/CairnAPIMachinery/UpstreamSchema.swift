import CairnCore

/// The shape of a field in Kubernetes' own types (k8s.io/api, k8s.io/apimachinery meta/v1).
public indirect enum SchemaType: Sendable, Hashable {
    /// A struct, by qualified name ("core.v1.PodSpec").
    case object(String)
    case list(SchemaType)
    /// A map with string keys (labels, ResourceList).
    case map(SchemaType)
    /// A leaf: string, integer, number, boolean, quantity, time, intOrString, bytes, object (opaque JSON).
    case scalar(String)
}

/// One field of an upstream struct with the struct tags and markers that patching and apply read:
/// `patchStrategy`/`patchMergeKey` (strategic merge patch), `+listType`/`+listMapKey` (server-side apply).
public struct SchemaField: Sendable, Hashable {
    public var type: SchemaType
    /// patchStrategy split at commas ("merge", "retainKeys", "replace"); empty when the tag is absent.
    public var strategies: [String]
    public var mergeKey: String?
    /// "atomic", "set" or "map"; nil when unmarked (granular for maps and structs, atomic for lists).
    public var listType: String?
    public var mapKeys: [String]
    /// encoding/json writes this field even when it is empty (a non-pointer struct, or a field without
    /// omitempty): what a Go object round-tripped through kube-apiserver carries.
    public var alwaysEncoded: Bool = false
}

/// Kubernetes' type graph for the kinds Cairn serves, with every list's patch strategy, merge key and
/// list type as k8s.io/api's struct tags give them, including the parts Cairn keeps as opaque JSON
/// (a container's env and ports, tolerations, a Service's spec), so patches and apply treat them as a
/// real cluster does.
///
/// The table below was generated from k8s.io/api and k8s.io/apimachinery (types.go of core/v1,
/// apps/v1, storage/v1, autoscaling/v1 and meta/v1) by reading the Go struct tags; a line per type,
/// then a line per field: `json-name type [always] [strategy=...] [key=...] [list=...] [keys=a,b]`, where a type
/// is `o:Struct`, `l:<type>`, `m:<type>` or `s:leaf`.
public enum UpstreamSchema {
    /// The root type of each served kind.
    public static func root(_ kind: Kind) -> String {
        switch kind {
        case .storageClass: "storage.v1.StorageClass"
        case .statefulSet, .replicaSet: "apps.v1.\(kind.rawValue)"
        default: "core.v1.\(kind.rawValue)"
        }
    }

    /// The fields of a struct, in declaration order; nil for a name not in the table.
    public static func fields(of type: String) -> [(name: String, field: SchemaField)]? {
        table.fields(of: type)
    }

    public static func field(_ name: String, of type: String) -> SchemaField? {
        table.field(name, of: type)
    }

    /// Kubernetes' types, parsed once.
    public static let table = TypeTable(text: UpstreamSchemaTable.text)
}

/// A type graph in UpstreamSchema's text format (tests describe their own types the same way).
public final class TypeTable: Sendable {
    let ordered: [String: [(name: String, field: SchemaField)]]
    let byName: [String: [String: SchemaField]]

    public var typeNames: [String] { ordered.keys.sorted() }

    public func fields(of type: String) -> [(name: String, field: SchemaField)]? { ordered[type] }
    public func field(_ name: String, of type: String) -> SchemaField? { byName[type]?[name] }

    public init(text: String) {
        var ordered: [String: [(name: String, field: SchemaField)]] = [:]
        var byName: [String: [String: SchemaField]] = [:]
        var current: String?
        for line in text.split(separator: "\n") {
            if !line.hasPrefix(" ") {
                current = String(line)
                ordered[String(line)] = []
                byName[String(line)] = [:]
                continue
            }
            guard let type = current else { continue }
            let words = line.split(separator: " ")
            guard words.count >= 2, let t = TypeTable.parseType(words[1][...]) else { continue }
            var f = SchemaField(type: t, strategies: [], mergeKey: nil, listType: nil, mapKeys: [])
            for w in words.dropFirst(2) {
                if w == "always" { f.alwaysEncoded = true; continue }
                let kv = w.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { continue }
                switch kv[0] {
                case "strategy": f.strategies = kv[1].split(separator: ",").map(String.init)
                case "key": f.mergeKey = kv[1]
                case "list": f.listType = kv[1]
                case "keys": f.mapKeys = kv[1].split(separator: ",").map(String.init)
                default: break
                }
            }
            let name = String(words[0])
            ordered[type]?.append((name, f))
            byName[type]?[name] = f
        }
        self.ordered = ordered
        self.byName = byName
    }

    static func parseType(_ s: Substring) -> SchemaType? {
        if s.hasPrefix("o:") { return .object(String(s.dropFirst(2))) }
        if s.hasPrefix("l:") { return parseType(s.dropFirst(2)).map { .list($0) } }
        if s.hasPrefix("m:") { return parseType(s.dropFirst(2)).map { .map($0) } }
        if s.hasPrefix("s:") { return .scalar(String(s.dropFirst(2))) }
        return nil
    }
}
