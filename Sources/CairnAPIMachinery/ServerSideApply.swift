import CairnCore

/// How server-side apply sees a field (structured-merge-diff's schema, as kube-apiserver derives it
/// from the OpenAPI of k8s.io/api): structs and maps are granular, lists are atomic, sets or
/// associative (by their map keys).
indirect enum ApplyType: Sendable, Hashable {
    case scalar
    case structType(String)
    case map(ApplyType)
    case list(ApplyType, ListKind)
    /// Opaque JSON (RawExtension): maps granular, lists atomic, as SMD's deduced type.
    case deduced

    enum ListKind: Sendable, Hashable { case atomic, set, associative([String]) }

    init(_ t: SchemaType, _ f: SchemaField?) {
        switch t {
        case .scalar(let s): self = s == "object" ? .deduced : .scalar
        case .object(let n): self = .structType(n)
        case .map(let v): self = .map(ApplyType(v, nil))
        case .list(let e):
            let element = ApplyType(e, nil)
            switch f?.listType {
            case "map": self = .list(element, .associative(f?.mapKeys.isEmpty == false ? f!.mapKeys : [f?.mergeKey ?? "name"]))
            case "set": self = .list(element, .set)
            case "atomic": self = .list(element, .atomic)
            default:
                // schemaconv: without a list type, the patch strategy decides.
                if f?.strategies.contains("merge") == true {
                    if let k = f?.mergeKey { self = .list(element, .associative([k])) } else { self = .list(element, .set) }
                } else {
                    self = .list(element, .atomic)
                }
            }
        }
    }

    func field(_ name: String) -> ApplyType {
        switch self {
        case .structType(let t):
            guard let f = UpstreamSchema.field(name, of: t) else { return .deduced }
            return ApplyType(f.type, f)
        case .map(let v): return v
        case .deduced: return .deduced
        default: return .deduced
        }
    }

    var isGranularMap: Bool {
        switch self {
        case .map, .deduced: true
        default: false
        }
    }
}

/// A manager of fields (an entry of metadata.managedFields, without its time and fields).
public struct FieldManagerID: Sendable, Hashable, Comparable {
    public var manager: String
    /// "Apply" or "Update".
    public var operation: String
    /// For Update only: appliers are one manager whatever version they applied with.
    public var apiVersion: String
    public var subresource: String

    /// printManager: `"kubectl"` for an applier, `"kubectl-client-side-apply" using apps/v1` for an updater.
    public var printed: String {
        var s = goQuote(manager)
        if !subresource.isEmpty { s += " with subresource \(goQuote(subresource))" }
        if operation == "Update" { s += " using \(apiVersion)" }
        return s
    }

    public static func < (a: FieldManagerID, b: FieldManagerID) -> Bool {
        (a.operation, a.manager, a.apiVersion, a.subresource) < (b.operation, b.manager, b.apiVersion, b.subresource)
    }
}

/// Server-side apply and managedFields as kube-apiserver keeps them (k8s.io/apimachinery
/// pkg/util/managedfields over sigs.k8s.io/structured-merge-diff), for Cairn's kinds.
///
/// Objects go in and come out as JSON; the result carries its `metadata.managedFields`.
public enum ServerSideApply {
    /// Fields no manager ever owns (stripmeta.go).
    static let stripped: [FieldPath] = [
        [.field("apiVersion")], [.field("kind")], [.field("metadata")],
        [.field("metadata"), .field("name")], [.field("metadata"), .field("namespace")],
        [.field("metadata"), .field("creationTimestamp")], [.field("metadata"), .field("selfLink")],
        [.field("metadata"), .field("uid")], [.field("metadata"), .field("clusterName")],
        [.field("metadata"), .field("generation")], [.field("metadata"), .field("managedFields")],
        [.field("metadata"), .field("resourceVersion")],
    ]

    /// The manager of a write that names none: the User-Agent up to its first "/" (kubectl sends
    /// `kubectl/v1.32.4 (linux/amd64) ...`, so "kubectl"), as managerOrUserAgent does.
    public static func managerName(fieldManager: String?, userAgent: String?) -> String {
        if let m = fieldManager, !m.isEmpty { return m }
        let ua = userAgent ?? ""
        let prefix = ua.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return prefix.isEmpty ? "unknown" : prefix
    }

    /// ValidatePatchOptions: an apply patch needs a fieldManager; `force` only goes with apply.
    public static func validatePatchOptions(_ type: PatchType, fieldManager: String?, force: Bool) throws(Status) {
        var errors: [FieldError] = []
        if type == .apply {
            if (fieldManager ?? "").isEmpty { errors.append(.required("fieldManager", "is required for apply patch")) }
        } else if force {
            errors.append(.forbidden("force", "may not be specified for non-apply patch"))
        }
        if let m = fieldManager, m.count > 128 {
            errors.append(.invalid("fieldManager", string: m, "must be less than 128 characters long"))
        }
        guard !errors.isEmpty else { return }
        throw Status(code: 422, reason: .invalid,
                     message: "PatchOptions.meta.k8s.io \"\" is invalid: \(aggregateMessage(errors))",
                     details: Status.Details(name: "", group: "meta.k8s.io", kind: "PatchOptions",
                                             causes: errors.map { Status.Cause(reason: $0.type.rawValue, message: $0.body, field: $0.field) }))
    }

    // MARK: the two operations

    /// A server-side apply (PATCH with application/apply-patch+yaml). `live` is nil when the object
    /// does not exist yet (apply creates it). Throws kube-apiserver's 409 when another manager owns a
    /// field this apply changes and `force` is off.
    public static func apply(live: JSONValue?, applied: JSONValue, kind: Kind, manager: String, force: Bool,
                             subresource: String = "", now: Time) throws(Status) -> JSONValue {
        guard case .object(var appliedObject) = applied else { throw Status.badRequest("apply patch must be an object, not \(applied.typeName)") }
        if let mf = appliedObject["metadata"]?["managedFields"], mf != .null {
            throw Status.badRequest("metadata.managedFields must be nil")
        }
        let apiVersion = appliedObject["apiVersion"]?.stringValue ?? kind.apiVersion
        appliedObject["metadata"]?["managedFields"] = nil
        let type = ApplyType.structType(UpstreamSchema.root(kind))
        var managers = try decodeManagers(live?["metadata"]?["managedFields"])
        let liveObject = stripManagedFields(live ?? .object(["apiVersion": .string(apiVersion), "kind": .string(kind.rawValue)]))
        let config = JSONValue.object(appliedObject)

        let id = FieldManagerID(manager: manager, operation: "Apply", apiVersion: "", subresource: subresource)
        var merged = try merge(liveObject, config, type) ?? liveObject
        let lastSet = managers[id]?.set ?? FieldSet()
        var appliedSet = FieldSet()
        try toFieldSet(config, type, [], &appliedSet)
        appliedSet = filter(appliedSet, kind: kind, subresource: subresource)
        managers[id] = (apiVersion, now, appliedSet)

        // Prune what this manager owned before, no longer applies, and nobody else owns.
        var others = FieldSet()
        for (m, entry) in managers where m != id { others = others.union(entry.set) }
        let toRemove = lastSet.subtracting(appliedSet)
        // Parents first: an item removed whole takes its fields with it.
        // A path still applied beneath (or owned by another beneath) stays: SMD removes the last
        // set's items and adds back whatever is still owned.
        for path in toRemove.paths.sorted(by: { $0.count < $1.count })
        where !others.contains(path) && !others.hasPaths(under: path) && !appliedSet.hasPaths(under: path) {
            merged = remove(path, from: merged)
        }

        let compare = try comparison(liveObject, merged, type, kind: kind, subresource: subresource)
        var conflicts: [(FieldManagerID, FieldPath)] = []
        for (m, entry) in managers.sorted(by: { $0.key < $1.key }) where m != id {
            let c = entry.set.intersection(compare.modified.union(compare.added))
            for p in c.paths { conflicts.append((m, p)) }
        }
        if !conflicts.isEmpty && !force {
            // lastAppliedManager: kubectl's first server-side apply of an object it applied client-side
            // takes over the fields of the last-applied configuration instead of conflicting on them.
            let allowed = manager == "kubectl" ? try lastAppliedFields(live, type, kind: kind, subresource: subresource) : nil
            let remaining = conflicts.filter { allowed?.contains($0.1) != true }
            if !remaining.isEmpty { throw conflictError(allowed == nil ? conflicts : remaining) }
        }
        for (m, entry) in managers where m != id {
            let c = entry.set.intersection(compare.modified.union(compare.added))
            let next = entry.set.subtracting(c).subtracting(compare.removed)
            managers[m] = (entry.apiVersion, entry.time, next)
        }
        managers = managers.filter { !$0.value.set.isEmpty }
        return withManagedFields(merged, managers)
    }

    /// Any other write (create, update, JSON/merge/strategic patch, scale): `manager` now owns what it
    /// changed, and other managers lose the fields it changed or removed (kube-apiserver forces updates).
    public static func update(old: JSONValue?, new: JSONValue, kind: Kind, manager: String, subresource: String = "", now: Time) -> JSONValue {
        let type = ApplyType.structType(UpstreamSchema.root(kind))
        var managers = (try? decodeManagers(old?["metadata"]?["managedFields"])) ?? [:]
        let oldObject = stripManagedFields(old ?? .object([:]))
        let newObject = stripManagedFields(new)
        let apiVersion = new["apiVersion"]?.stringValue ?? kind.apiVersion
        guard let compare = try? comparison(oldObject, newObject, type, kind: kind, subresource: subresource) else {
            return withManagedFields(newObject, managers)
        }
        let id = FieldManagerID(manager: manager, operation: "Update", apiVersion: apiVersion, subresource: subresource)
        for (m, entry) in managers where m != id {
            let next = entry.set.subtracting(compare.modified.union(compare.added)).subtracting(compare.removed)
            managers[m] = (entry.apiVersion, entry.time, next)
        }
        let previous = managers[id]?.set ?? FieldSet()
        let set = previous.subtracting(compare.removed).union(compare.modified).union(compare.added)
        let changed = set != previous
        managers[id] = (apiVersion, changed ? now : (managers[id]?.time ?? now), set)
        managers = managers.filter { !$0.value.set.isEmpty }
        return withManagedFields(newObject, managers)
    }

    // MARK: managedFields in and out

    typealias Managers = [FieldManagerID: (apiVersion: String, time: Time?, set: FieldSet)]

    static func decodeManagers(_ json: JSONValue?) throws(Status) -> Managers {
        guard case .array(let entries)? = json else { return [:] }
        var out: Managers = [:]
        for e in entries {
            let operation = e["operation"]?.stringValue ?? "Update"
            let apiVersion = e["apiVersion"]?.stringValue ?? ""
            let id = FieldManagerID(manager: e["manager"]?.stringValue ?? "", operation: operation,
                                    apiVersion: operation == "Apply" ? "" : apiVersion, subresource: e["subresource"]?.stringValue ?? "")
            let set = try FieldSet(fieldsV1: e["fieldsV1"] ?? .object([:]))
            let time = e["time"]?.stringValue.flatMap { try? JSONValue.string($0).decode(Time.self) }
            out[id] = (apiVersion, time, set)
        }
        return out
    }

    static func stripManagedFields(_ v: JSONValue) -> JSONValue {
        var o = v
        if o["metadata"] != nil { o["metadata"]?["managedFields"] = nil }
        return o
    }

    static func withManagedFields(_ object: JSONValue, _ managers: Managers) -> JSONValue {
        // sortEncodedManagedFields: by operation, time, manager, version, subresource.
        let sorted = managers.sorted { a, b in
            if a.key.operation != b.key.operation { return a.key.operation < b.key.operation }
            let ta = a.value.time?.date.timeIntervalSince1970 ?? 0, tb = b.value.time?.date.timeIntervalSince1970 ?? 0
            if ta != tb { return ta < tb }
            if a.key.manager != b.key.manager { return a.key.manager < b.key.manager }
            if a.value.apiVersion != b.value.apiVersion { return a.value.apiVersion < b.value.apiVersion }
            return a.key.subresource < b.key.subresource
        }
        let entries: [JSONValue] = sorted.map { id, entry in
            var e: [String: JSONValue] = [
                "manager": .string(id.manager), "operation": .string(id.operation), "apiVersion": .string(entry.apiVersion),
                "fieldsType": "FieldsV1", "fieldsV1": entry.set.fieldsV1,
            ]
            if let t = entry.time { e["time"] = .string(t.description) }
            if !id.subresource.isEmpty { e["subresource"] = .string(id.subresource) }
            return .object(e)
        }
        var o = object
        if o["metadata"] == nil { o["metadata"] = .object([:]) }
        o["metadata"]?["managedFields"] = entries.isEmpty ? nil : .array(entries)
        return o
    }

    /// Stripped fields leave every set; `status` is not tracked on the main resource and only it is on
    /// the status subresource (the resources' ResetFields).
    static func filter(_ set: FieldSet, kind: Kind, subresource: String) -> FieldSet {
        var out = set
        for p in stripped { out = out.removingMember(p) }
        let hasStatus = ResourceInfo.of(kind).subresources.contains { $0.name == "status" }
        if hasStatus {
            if subresource == "status" {
                var kept = FieldSet()
                if let s = out.children[.field("status")] { kept.children[.field("status")] = s }
                if out.members.contains(.field("status")) { kept.members.insert(.field("status")) }
                // metadata stays tracked on the status subresource (labels and annotations may change there).
                if let m = out.children[.field("metadata")] { kept.children[.field("metadata")] = m }
                out = kept
            } else if subresource.isEmpty {
                out.children[.field("status")] = nil
                out.members.remove(.field("status"))
            }
        }
        return out
    }

    struct Comparison {
        var added = FieldSet(), removed = FieldSet(), modified = FieldSet()
    }

    static func comparison(_ lhs: JSONValue, _ rhs: JSONValue, _ type: ApplyType, kind: Kind, subresource: String) throws(Status) -> Comparison {
        var c = Comparison()
        // kube-apiserver compares Go objects, which carry every non-omitempty field and every
        // non-pointer struct even when empty; so the parents of a new field are not "added".
        let root = UpstreamSchema.root(kind)
        try compare(goShape(lhs, .object(root)), goShape(rhs, .object(root)), type, [], &c)
        c.added = filter(c.added, kind: kind, subresource: subresource)
        c.removed = filter(c.removed, kind: kind, subresource: subresource)
        c.modified = filter(c.modified, kind: kind, subresource: subresource)
        return c
    }

    /// The fields of the `kubectl.kubernetes.io/last-applied-configuration` annotation, nil when the
    /// object has none (or it does not parse).
    static func lastAppliedFields(_ live: JSONValue?, _ type: ApplyType, kind: Kind, subresource: String) throws(Status) -> FieldSet? {
        guard let text = live?["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"]?.stringValue,
              !text.isEmpty, let config = try? JSONText.parse(text), case .object = config else { return nil }
        var set = FieldSet()
        try toFieldSet(config, type, [], &set)
        return filter(set, kind: kind, subresource: subresource)
    }

    static func conflictError(_ conflicts: [(FieldManagerID, FieldPath)]) -> Status {
        let causes = conflicts.map { Status.Cause(reason: "FieldManagerConflict", message: "conflict with \($0.0.printed)", field: $0.1.pathString) }
        let message: String
        if conflicts.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \(conflicts[0].0.printed): \(conflicts[0].1.pathString)"
        } else {
            var lines: [String] = []
            var byManager: [FieldManagerID: [FieldPath]] = [:]
            for (m, p) in conflicts { byManager[m, default: []].append(p) }
            for m in byManager.keys.sorted(by: { $0.printed < $1.printed }) {
                lines.append("conflicts with \(m.printed):")
                for p in byManager[m]! { lines.append("- \(p.pathString)") }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        return Status(code: 409, reason: .conflict, message: message, details: Status.Details(name: nil, group: nil, kind: nil, causes: causes))
    }

    /// The value as encoding/json writes the Go object it decodes to: fields always encoded are present
    /// (empty structs, null lists and maps, zero scalars).
    static func goShape(_ v: JSONValue, _ t: SchemaType) -> JSONValue {
        switch (t, v) {
        case (.object(let name), .object(var o)):
            guard let fields = UpstreamSchema.fields(of: name) else { return v }
            for (fname, f) in fields {
                if let present = o[fname] {
                    o[fname] = goShape(present, f.type)
                } else if f.alwaysEncoded {
                    o[fname] = goShape(zero(f.type), f.type)
                }
            }
            return .object(o)
        case (.list(let e), .array(let a)): return .array(a.map { goShape($0, e) })
        case (.map(let e), .object(let o)): return .object(o.mapValues { goShape($0, e) })
        default: return v
        }
    }

    static func zero(_ t: SchemaType) -> JSONValue {
        switch t {
        case .object: return .object([:])
        case .list, .map: return .null
        case .scalar(let s):
            switch s {
            case "string": return ""
            case "integer", "number", "intOrString": return 0
            case "boolean": return false
            case "quantity": return "0"
            default: return .null
            }
        }
    }

    // MARK: structured merge

    /// The path element of a list item: its keys (associative), its value (set) or its index.
    static func itemElement(_ item: JSONValue, _ kind: ApplyType.ListKind, index: Int) throws(Status) -> PathElement {
        switch kind {
        case .atomic: return .index(index)
        case .set:
            switch item {
            case .object, .array: throw Status.badRequest("set list element \(index) must be a scalar, not \(item.typeName)")
            default: return .value(item)
            }
        case .associative(let keys):
            guard case .object(let o) = item else {
                throw Status.badRequest("associative list element \(index) must be an object, not \(item.typeName)")
            }
            var fields: [PathElement.KeyField] = []
            for k in keys.sorted() {
                if let v = o[k], v != .null { fields.append(.init(name: k, value: v)); continue }
                // The only key with a default among Cairn's kinds: a port's protocol.
                if k == "protocol" { fields.append(.init(name: k, value: "TCP")); continue }
                throw Status.badRequest("associative list with keys has an element that omits key field \(goQuote(k)) (and doesn't have default value)")
            }
            return .key(fields)
        }
    }

    static func toFieldSet(_ v: JSONValue, _ type: ApplyType, _ path: FieldPath, _ set: inout FieldSet) throws(Status) {
        switch (type, v) {
        case (.structType, .object(let o)), (.map, .object(let o)), (.deduced, .object(let o)):
            for k in o.keys.sorted() {
                let child = o[k]!
                let childType = type.field(k)
                let childPath = path + [.field(k)]
                try toFieldSet(child, childType, childPath, &set)
                let declared: Bool
                if case .structType(let t) = type { declared = UpstreamSchema.field(k, of: t) != nil } else { declared = false }
                if child == .null || child == .object([:]) || !declared { set.insert(childPath) }
            }
        case (.list(let element, let kind), .array(let items)):
            if kind == .atomic { set.insert(path); return }
            for (i, item) in items.enumerated() {
                let pe = try itemElement(item, kind, index: i)
                try toFieldSet(item, element, path + [pe], &set)
                set.insert(path + [pe])
            }
        default:
            if !path.isEmpty, !isContainer(v) || !isGranular(type) { set.insert(path) }
        }
    }

    static func isContainer(_ v: JSONValue) -> Bool {
        switch v { case .object, .array: true; default: false }
    }
    static func isGranular(_ t: ApplyType) -> Bool {
        switch t { case .structType, .map, .deduced: true; case .list(_, let k): k != .atomic; default: false }
    }

    /// Merges the applied configuration into the live object (rule: the applied value wins).
    static func merge(_ lhs: JSONValue?, _ rhs: JSONValue?, _ type: ApplyType) throws(Status) -> JSONValue? {
        guard let rhs else { return lhs }
        guard let lhs else { return rhs }
        switch (type, lhs, rhs) {
        case (.structType, .object(let l), .object(let r)), (.map, .object(let l), .object(let r)), (.deduced, .object(let l), .object(let r)):
            if l.isEmpty && r.isEmpty { return rhs }
            var out = l
            for (k, rv) in r {
                let merged = try merge(l[k], rv, type.field(k))
                out[k] = merged
            }
            return .object(out)
        case (.list(let element, let kind), .array(let l), .array(let r)) where kind != .atomic && !(l.isEmpty && r.isEmpty):
            return .array(try mergeList(l, r, element, kind))
        default:
            return rhs
        }
    }

    /// mergingWalker.visitListItems: items by key, in the applied order with live-only items kept
    /// where they were.
    static func mergeList(_ lhs: [JSONValue], _ rhs: [JSONValue], _ element: ApplyType, _ kind: ApplyType.ListKind) throws(Status) -> [JSONValue] {
        var lPE: [PathElement] = [], rPE: [PathElement] = []
        var lByPE: [PathElement: JSONValue] = [:], rByPE: [PathElement: JSONValue] = [:]
        for (i, v) in lhs.enumerated() { let pe = try itemElement(v, kind, index: i); lPE.append(pe); if lByPE[pe] == nil { lByPE[pe] = v } }
        for (i, v) in rhs.enumerated() {
            let pe = try itemElement(v, kind, index: i)
            if rByPE[pe] != nil { throw Status.badRequest("duplicate entries for key \(pe)") }
            rPE.append(pe); rByPE[pe] = v
        }
        var sharedOrder = rPE.filter { lByPE[$0] != nil }[...]
        var nextShared = sharedOrder.popFirst()
        var mergedRHS = Set<PathElement>()
        var out: [JSONValue] = []
        var li = 0, ri = 0
        while li < lPE.count || ri < rPE.count {
            if li < lPE.count && ri < rPE.count {
                let pe = lPE[li]
                if pe == rPE[ri] {
                    mergedRHS.insert(pe)
                    if let m = try merge(lByPE[pe], rByPE[pe], element) { out.append(m) }
                    li += 1; ri += 1
                    nextShared = sharedOrder.popFirst()
                    continue
                }
                if rByPE[pe] != nil, let ns = nextShared, ns != pe { li += 1; continue }
            }
            if li < lPE.count {
                let pe = lPE[li]
                if rByPE[pe] == nil {
                    if let m = try merge(lhs[li], nil, element) { out.append(m) }
                    li += 1
                    continue
                } else if mergedRHS.contains(pe) {
                    li += 1
                }
            }
            if ri < rPE.count {
                let pe = rPE[ri]
                mergedRHS.insert(pe)
                if let m = try merge(lByPE[pe], rByPE[pe], element) { out.append(m) }
                ri += 1
                if let ns = nextShared, ns == pe { nextShared = sharedOrder.popFirst() }
            }
        }
        return out
    }

    /// compareWalker: which fields were added, removed or modified from `lhs` to `rhs`.
    static func compare(_ lhs: JSONValue?, _ rhs: JSONValue?, _ type: ApplyType, _ path: FieldPath, _ c: inout Comparison) throws(Status) {
        var leaf = false
        func doLeaf(_ c: inout Comparison) {
            leaf = true
            guard !path.isEmpty else { return }
            if lhs == nil { c.added.insert(path) }
            else if rhs == nil { c.removed.insert(path) }
            else if !JSONPatch.equal(lhs!, rhs!) { c.modified.insert(path) }
        }
        switch type {
        case .structType, .map, .deduced:
            // A null struct, map or list is an empty one (SMD's deref).
            let l = lhs == .null ? [:] : lhs?.objectValue, r = rhs == .null ? [:] : rhs?.objectValue
            if (lhs != nil && l == nil) || (rhs != nil && r == nil) { doLeaf(&c); break }
            if (l?.isEmpty ?? true) && (r?.isEmpty ?? true) { doLeaf(&c); break }
            for k in Set((l ?? [:]).keys).union((r ?? [:]).keys).sorted() {
                let lv = l?[k], rv = r?[k]
                if lv == nil && rv == nil { continue }
                try compare(lv, rv, type.field(k), path + [.field(k)], &c)
            }
        case .list(let element, let kind):
            let l = lhs == .null ? [] : lhs?.arrayValue, r = rhs == .null ? [] : rhs?.arrayValue
            if (lhs != nil && l == nil) || (rhs != nil && r == nil) || kind == .atomic || ((l?.isEmpty ?? true) && (r?.isEmpty ?? true)) {
                doLeaf(&c); break
            }
            var order: [PathElement] = []
            var lByPE: [PathElement: JSONValue] = [:], rByPE: [PathElement: JSONValue] = [:]
            for (i, v) in (l ?? []).enumerated() { let pe = try itemElement(v, kind, index: i); if lByPE[pe] == nil { lByPE[pe] = v; order.append(pe) } }
            for (i, v) in (r ?? []).enumerated() { let pe = try itemElement(v, kind, index: i); if rByPE[pe] == nil { rByPE[pe] = v; if lByPE[pe] == nil { order.append(pe) } } }
            for pe in order { try compare(lByPE[pe], rByPE[pe], element, path + [pe], &c) }
        case .scalar:
            doLeaf(&c)
        }
        if !leaf && !path.isEmpty {
            if lhs == nil { c.added.insert(path) } else if rhs == nil { c.removed.insert(path) }
        }
    }

    /// The object without the field or item at `path`.
    static func remove(_ path: FieldPath, from v: JSONValue) -> JSONValue {
        guard let first = path.first else { return v }
        let rest = Array(path.dropFirst())
        switch (first, v) {
        case (.field(let name), .object(var o)):
            guard let child = o[name] else { return v }
            if rest.isEmpty { o[name] = nil } else { o[name] = remove(rest, from: child) }
            return .object(o)
        case (_, .array(var a)):
            guard let i = a.indices.first(where: { matches(first, a[$0], index: $0) }) else { return v }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = remove(rest, from: a[i]) }
            return .array(a)
        default:
            return v
        }
    }

    static func matches(_ pe: PathElement, _ item: JSONValue, index: Int) -> Bool {
        switch pe {
        case .index(let i): return i == index
        case .value(let v): return item == v
        case .key(let keys):
            return keys.allSatisfy { k in (item[k.name] ?? (k.name == "protocol" ? "TCP" : .null)) == k.value }
        case .field: return false
        }
    }
}

extension FieldSet {
    /// The set without one member path (its subtree, if any, stays).
    func removingMember(_ path: FieldPath) -> FieldSet {
        guard let first = path.first else { return self }
        var out = self
        if path.count == 1 { out.members.remove(first); return out }
        if let c = children[first] {
            let r = c.removingMember(Array(path.dropFirst()))
            out.children[first] = r.isEmpty ? nil : r
        }
        return out
    }

    /// Whether some path of the set lies strictly beneath `path`.
    func hasPaths(under path: FieldPath) -> Bool {
        guard let first = path.first else { return !isEmpty }
        guard let c = children[first] else { return false }
        return c.hasPaths(under: Array(path.dropFirst()))
    }
}
