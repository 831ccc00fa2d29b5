import CairnCore

/// One step of a field path, as structured-merge-diff's fieldpath.PathElement: a struct or map
/// member, an associative list item by its keys, a set item by its value, or a list index.
public enum PathElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    case field(String)
    /// Key fields of an associative list item, sorted by name.
    case key([KeyField])
    case value(JSONValue)
    case index(Int)

    public struct KeyField: Sendable, Hashable {
        public var name: String
        public var value: JSONValue
    }

    var rank: Int {
        switch self {
        case .field: 0
        case .key: 1
        case .value: 2
        case .index: 3
        }
    }

    public static func < (a: PathElement, b: PathElement) -> Bool {
        if a.rank != b.rank { return a.rank < b.rank }
        switch (a, b) {
        case (.field(let x), .field(let y)): return x < y
        case (.key(let x), .key(let y)):
            for (l, r) in zip(x, y) {
                if l.name != r.name { return l.name < r.name }
                if l.value != r.value { return l.value.jsonText() < r.value.jsonText() }
            }
            return x.count < y.count
        case (.value(let x), .value(let y)): return x.jsonText() < y.jsonText()
        case (.index(let x), .index(let y)): return x < y
        default: return false
        }
    }

    /// fieldpath's String(): `.spec`, `[name="nginx"]`, `[="a"]`, `[0]`.
    public var description: String {
        switch self {
        case .field(let n): ".\(n)"
        case .key(let k): "[" + k.map { "\($0.name)=\($0.value.jsonText())" }.joined(separator: ",") + "]"
        case .value(let v): "[=\(v.jsonText())]"
        case .index(let i): "[\(i)]"
        }
    }

    /// The FieldsV1 key: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:0`.
    public var fieldsV1Key: String {
        switch self {
        case .field(let n): "f:\(n)"
        case .key(let k): "k:" + JSONValue.object(Dictionary(uniqueKeysWithValues: k.map { ($0.name, $0.value) })).jsonText()
        case .value(let v): "v:" + v.jsonText()
        case .index(let i): "i:\(i)"
        }
    }

    init?(fieldsV1Key s: String) {
        if s.hasPrefix("f:") { self = .field(String(s.dropFirst(2))); return }
        if s.hasPrefix("i:"), let i = Int(s.dropFirst(2)) { self = .index(i); return }
        if s.hasPrefix("v:"), let v = try? JSONValue.parse(String(s.dropFirst(2))) { self = .value(v); return }
        if s.hasPrefix("k:"), case .object(let o)? = try? JSONValue.parse(String(s.dropFirst(2))) {
            self = .key(o.keys.sorted().map { KeyField(name: $0, value: o[$0]!) })
            return
        }
        return nil
    }
}

public typealias FieldPath = [PathElement]

extension Array where Element == PathElement {
    /// `.spec.template.spec.containers[name="app"].image`
    public var pathString: String { map(\.description).joined() }
}

/// A set of field paths as a trie (fieldpath.Set): `members` are paths ending here, `children`
/// the subtrees below.
public struct FieldSet: Sendable, Hashable {
    public var members: Set<PathElement> = []
    public var children: [PathElement: FieldSet] = [:]

    public init() {}

    public var isEmpty: Bool { members.isEmpty && children.values.allSatisfy(\.isEmpty) }

    public mutating func insert(_ path: FieldPath) {
        guard let first = path.first else { return }
        if path.count == 1 { members.insert(first); return }
        children[first, default: FieldSet()].insert(Array(path.dropFirst()))
    }

    public func contains(_ path: FieldPath) -> Bool {
        guard let first = path.first else { return false }
        if path.count == 1 { return members.contains(first) }
        return children[first]?.contains(Array(path.dropFirst())) ?? false
    }

    public func union(_ other: FieldSet) -> FieldSet {
        var out = self
        out.members.formUnion(other.members)
        for (k, v) in other.children { out.children[k] = (out.children[k] ?? FieldSet()).union(v) }
        return out
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var out = FieldSet()
        out.members = members.intersection(other.members)
        for (k, v) in children {
            if let o = other.children[k] {
                let i = v.intersection(o)
                if !i.isEmpty { out.children[k] = i }
            }
        }
        return out
    }

    public func subtracting(_ other: FieldSet) -> FieldSet {
        var out = FieldSet()
        out.members = members.subtracting(other.members)
        for (k, v) in children {
            let d = other.children[k].map { v.subtracting($0) } ?? v
            if !d.isEmpty { out.children[k] = d }
        }
        return out
    }

    /// Every path, sorted as fieldpath.Set iterates them (a member before the paths beneath it).
    public var paths: [FieldPath] {
        var out: [FieldPath] = []
        for e in Set(members).union(children.keys).sorted() {
            if members.contains(e) { out.append([e]) }
            if let c = children[e] { out += c.paths.map { [e] + $0 } }
        }
        return out
    }

    /// FieldsV1 JSON: `{"f:spec":{"f:replicas":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`.
    public var fieldsV1: JSONValue {
        var o: [String: JSONValue] = [:]
        for m in members where children[m] == nil { o[m.fieldsV1Key] = .object([:]) }
        for (k, c) in children where !c.isEmpty {
            var sub = c.fieldsV1.objectValue ?? [:]
            if members.contains(k) { sub["."] = .object([:]) }
            o[k.fieldsV1Key] = .object(sub)
        }
        return .object(o)
    }

    public init(fieldsV1 json: JSONValue) throws(Status) {
        self.init()
        guard case .object(let o) = json else { throw Status.badRequest("FieldsV1 must be an object, not \(json.typeName)") }
        for (k, v) in o where k != "." {
            guard let e = PathElement(fieldsV1Key: k) else { throw Status.badRequest("invalid FieldsV1 key \(goQuote(k))") }
            guard case .object(let sub) = v else { throw Status.badRequest("FieldsV1 member \(goQuote(k)) must be an object") }
            if sub.isEmpty || sub["."] != nil { members.insert(e) }
            let child = try FieldSet(fieldsV1: v)
            if !child.isEmpty { children[e] = child }
        }
    }
}
