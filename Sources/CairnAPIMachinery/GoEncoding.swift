import CairnCore

/// What encoding/json leaves out when kube-apiserver writes an object back: a field tagged
/// `omitempty` whose value is empty. An object that went through a real API server never carries
/// `"env": []` or `"labels": {}`; a patch that deletes a list's last item (`$patch: delete`) or a
/// client that sends an empty list leaves nothing behind. Cairn keeps some fields as opaque JSON, so
/// without this an empty list would survive the round trip that upstream's Go structs drop.
public enum GoEncoding {
    /// `value` as kube-apiserver would store it: empty lists and maps, and nulls, removed from the
    /// fields encoding/json omits when empty (every field not marked `always` in `UpstreamSchema`).
    /// Scalars are kept: a pointer field (`replicas: 0`) keeps its zero value, and the table does not
    /// say which scalars are pointers.
    public static func omittingEmpty(_ value: JSONValue, kind: Kind) -> JSONValue {
        omittingEmpty(value, .object(UpstreamSchema.root(kind)), table: UpstreamSchema.table)
    }

    public static func omittingEmpty(_ value: JSONValue, _ type: SchemaType, table: TypeTable) -> JSONValue {
        switch (type, value) {
        case (.object(let name), .object(var members)):
            guard let fields = table.fields(of: name) else { return value }
            for (fieldName, field) in fields {
                guard let present = members[fieldName] else { continue }
                let shaped = omittingEmpty(present, field.type, table: table)
                if !field.alwaysEncoded && isEmpty(shaped, field.type) {
                    members[fieldName] = nil
                } else {
                    members[fieldName] = shaped
                }
            }
            return .object(members)
        case (.list(let element), .array(let items)):
            return .array(items.map { omittingEmpty($0, element, table: table) })
        case (.map(let element), .object(let members)):
            return .object(members.mapValues { omittingEmpty($0, element, table: table) })
        default:
            return value
        }
    }

    /// Empty as `omitempty` sees it, for what the table can tell: a nil pointer, slice or map (null),
    /// an empty slice or map. A struct is never empty to encoding/json.
    static func isEmpty(_ value: JSONValue, _ type: SchemaType) -> Bool {
        switch (type, value) {
        case (_, .null): return true
        case (.list, .array(let a)): return a.isEmpty
        case (.map, .object(let o)): return o.isEmpty
        default: return false
        }
    }
}
