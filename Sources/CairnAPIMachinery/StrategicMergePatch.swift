import CairnCore

/// Where a strategic merge patch is in a type graph: a struct (its fields carry patch metadata),
/// a map's values, or nowhere known (opaque JSON: lists replace, maps merge).
public struct PatchSchema: Sendable {
    public indirect enum Node: Sendable, Hashable {
        case type(String)
        case mapOf(Node)
        case scalar
        case unknown

        init(_ t: SchemaType) {
            switch t {
            case .object(let n): self = .type(n)
            case .map(let v): self = .mapOf(Node(v))
            case .list(let e): self = Node(e)
            case .scalar: self = .scalar
            }
        }
    }

    public var table: TypeTable
    public var node: Node

    public init(table: TypeTable, node: Node) {
        self.table = table
        self.node = node
    }

    /// The schema of a served kind, from Kubernetes' own types.
    public static func kind(_ kind: Kind) -> PatchSchema {
        PatchSchema(table: UpstreamSchema.table, node: .type(UpstreamSchema.root(kind)))
    }

    var name: String {
        switch node {
        case .type: "struct"
        case .mapOf: "map"
        case .scalar: "string"
        case .unknown: "interface"
        }
    }

    /// LookupPatchMetadataForStruct / ForSlice: the field's schema and its tags.
    func lookup(_ key: String) throws(StrategicMergePatchError) -> (PatchSchema, [String], String) {
        switch node {
        case .type(let t):
            guard let fields = table.fields(of: t) else { return (PatchSchema(table: table, node: .unknown), [""], "") }
            // encoding/json's field matching: exact name first, else case-insensitively.
            let f = fields.first(where: { $0.name == key })?.field ?? fields.first(where: { $0.name.lowercased() == key.lowercased() })?.field
            guard let f else {
                let goName = String(t.split(separator: ".").last ?? "")
                throw .other("unable to find api field in struct \(goName) for the json field \(goQuote(key))")
            }
            return (PatchSchema(table: table, node: Node(f.type)), f.strategies.isEmpty ? [""] : f.strategies, f.mergeKey ?? "")
        case .mapOf(let v):
            return (PatchSchema(table: table, node: v), [""], "")
        case .scalar, .unknown:
            return (PatchSchema(table: table, node: .unknown), [""], "")
        }
    }
}

/// Why a strategic merge patch failed, with the Status kube-apiserver answers
/// (`interpretStrategicMergePatchError`): the mergepatch sentinel errors are a BadRequest or a 422,
/// anything else reaches the client as a 500 carrying the message.
public struct StrategicMergePatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case badRequest, unprocessable, other }
    public var kind: Kind
    public var message: String
    public var description: String { message }

    static func other(_ m: String) -> StrategicMergePatchError { .init(kind: .other, message: m) }
    static let badJSONDoc = StrategicMergePatchError(kind: .badRequest, message: "invalid JSON document")
    static let noListOfLists = StrategicMergePatchError(kind: .unprocessable, message: "lists of lists are not supported")
    static let badPrimitiveList = StrategicMergePatchError(kind: .badRequest, message: "invalid patch format of primitive list")
    static let badRetainKeys = StrategicMergePatchError(kind: .badRequest, message: "invalid patch format of retainKeys")
    static let badSetElementOrder = StrategicMergePatchError(kind: .badRequest, message: "invalid patch format of setElementOrder list")
    static let contentNotMatchRetainKeys = StrategicMergePatchError(kind: .unprocessable, message: "patch content doesn't match retainKeys list")

    static func noMergeKey(_ m: [String: JSONValue], _ key: String) -> StrategicMergePatchError {
        .other("map: \(goFormat(.object(m))) does not contain declared merge key: \(key)")
    }
    static func badArgType(expected: String, _ actual: JSONValue) -> StrategicMergePatchError {
        .other("expected a \(expected), but received a \(goTypeName(actual))")
    }
    static func badPatchType(_ t: JSONValue, _ m: [String: JSONValue]) -> StrategicMergePatchError {
        .other("unknown patch type: \(goFormat(t)) in map: \(goFormat(.object(m)))")
    }

    public var status: Status {
        switch kind {
        case .badRequest: return .badRequest(message)
        case .unprocessable:
            return Status(code: 422, reason: .invalid, message: "the server rejected our request due to an error in our request",
                          details: Status.Details(name: nil, group: nil, kind: nil))
        case .other: return Status(code: 500, reason: .unknown, message: message)
        }
    }
}

/// Strategic merge patch as kube-apiserver applies it: apimachinery's `strategicpatch.StrategicMergeMapPatch`
/// (MergeParallelList and IgnoreUnmatchedNulls on), with the field metadata of k8s.io/api's struct tags.
///
/// Directives: `$patch: replace|delete|merge` in maps and list elements, `$setElementOrder/<list>`,
/// `$retainKeys`, `$deleteFromPrimitiveList/<list>`; a null deletes. Go iterates maps in random
/// order; this port walks keys sorted, which matters only for patches upstream's own result depends on order.
public enum StrategicMergePatch {
    static let directiveMarker = "$patch"
    static let deleteDirective: JSONValue = "delete"
    static let replaceDirective: JSONValue = "replace"
    static let mergeDirective: JSONValue = "merge"
    static let retainKeysDirective = "$retainKeys"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList"
    static let setElementOrderPrefix = "$setElementOrder"

    /// Applies `patch` to `original` (both objects), for an object of `schema`.
    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: PatchSchema) throws(StrategicMergePatchError) -> JSONValue {
        guard case .object(let o) = original, case .object(let p) = patch else { throw .badJSONDoc }
        return .object(try mergeMap(o, p, schema))
    }

    public static func apply(_ patch: JSONValue, to original: JSONValue, kind: Kind) throws(StrategicMergePatchError) -> JSONValue {
        try apply(patch, to: original, schema: .kind(kind))
    }

    // MARK: maps

    static func mergeMap(_ originalIn: [String: JSONValue], _ patchIn: [String: JSONValue], _ schema: PatchSchema) throws(StrategicMergePatchError) -> [String: JSONValue] {
        var patch = patchIn
        if let directive = patch[directiveMarker] {
            if directive == replaceDirective {
                patch[directiveMarker] = nil
                return patch
            }
            if directive == deleteDirective { return [:] }
            throw .badPatchType(directive, patch)
        }
        var original = originalIn
        try applyRetainKeys(&original, &patch)
        try mergePatchIntoOriginal(&original, &patch, schema)

        for key in patch.keys.sorted() {
            guard let patchV = patch[key] else { continue }
            var k = key
            var isDeleteList = false
            if key.hasPrefix(deleteFromPrimitiveListPrefix) {
                k = try extractKey(key, deleteFromPrimitiveListPrefix)
                isDeleteList = true
            }
            if patchV == .null {
                original[k] = nil
                continue
            }
            guard let current = original[k] else {
                if !isDeleteList {
                    if let v = removeDirectives(discardNulls(patchV)) { original[k] = v } else { original[k] = nil }
                }
                continue
            }
            guard sameGoType(current, patchV) else {
                if !isDeleteList {
                    if let v = removeDirectives(discardNulls(patchV)) { original[k] = v } else { original[k] = nil }
                }
                continue
            }
            switch (current, patchV) {
            case (.object(let co), .object(let po)):
                let (sub, strategies, _) = try schema.lookup(k)
                let (_, strategy) = try retainKeysStrategy(strategies)
                original[k] = strategy == "replace" ? patchV : .object(try mergeMap(co, po, sub))
            case (.array(let ca), .array(let pa)):
                let (sub, strategies, mergeKey) = try schema.lookup(k)
                let (_, strategy) = try retainKeysStrategy(strategies)
                if strategy == "merge" || isDeleteList {
                    original[k] = .array(try mergeSlice(ca, pa, sub, mergeKey, isDeleteList: isDeleteList))
                } else {
                    original[k] = patchV
                }
            default:
                if let v = removeDirectives(patchV) { original[k] = v } else { original[k] = nil }
            }
        }
        return original
    }

    /// `$retainKeys`: keys of the original not listed are cleared; every key the patch sets must be listed.
    static func applyRetainKeys(_ original: inout [String: JSONValue], _ patch: inout [String: JSONValue]) throws(StrategicMergePatchError) {
        guard let retain = patch[retainKeysDirective] else { return }
        patch[retainKeysDirective] = nil
        guard case .array(let list) = retain else { throw .badRetainKeys }
        let keep = Set(list)
        for (k, v) in patch where v != .null && !k.hasPrefix(deleteFromPrimitiveListPrefix) && !k.hasPrefix(setElementOrderPrefix) {
            if !keep.contains(.string(k)) { throw .badRetainKeys }
        }
        for k in original.keys where !keep.contains(.string(k)) { original[k] = nil }
    }

    /// `$setElementOrder/<list>`: merges that list (if the patch has it) and orders the result as the
    /// directive says, then the patch's order, then the live order.
    static func mergePatchIntoOriginal(_ original: inout [String: JSONValue], _ patch: inout [String: JSONValue], _ schema: PatchSchema) throws(StrategicMergePatchError) {
        for key in patch.keys.sorted() where key.hasPrefix(setElementOrderPrefix) {
            guard let orderValue = patch[key] else { continue }
            patch[key] = nil
            guard case .array(let order) = orderValue else { throw .badArgType(expected: "[]interface {}", orderValue) }
            let originalKey = try extractKey(key, setElementOrderPrefix)
            var originalList: [JSONValue] = [], patchList: [JSONValue] = []
            let foundOriginal = original[originalKey] != nil, foundPatch = patch[originalKey] != nil
            if let o = original[originalKey] {
                guard case .array(let a) = o else { throw .badArgType(expected: "[]interface {}", o) }
                originalList = a
            }
            if let p = patch[originalKey] {
                guard case .array(let a) = p else { throw .badArgType(expected: "[]interface {}", p) }
                patchList = a
            }
            let (sub, strategies, mergeKey) = try schema.lookup(originalKey)
            let (_, strategy) = try retainKeysStrategy(strategies)
            try validatePatchWithSetOrderList(patchList, order, mergeKey)

            var merged: [JSONValue]
            switch (foundOriginal, foundPatch) {
            case (true, false): merged = originalList
            case (false, true):
                guard case .array(let a)? = removeDirectives(.array(patchList)) else { continue }
                merged = a
            case (true, true):
                if strategy == "merge" {
                    merged = try mergeSlice(originalList, patchList, sub, mergeKey, isDeleteList: false)
                } else {
                    merged = patchList
                }
            case (false, false): continue
            }
            let (patchItems, serverOnly) = try partition(merged, by: order, mergeKey)
            let kind = try sliceElementKind([originalList, patchList])
            original[originalKey] = .array(try normalizeElementOrder(patchItems, serverOnly, order, originalList, mergeKey, kind))
            patch[originalKey] = nil
        }
    }

    static func validatePatchWithSetOrderList(_ patchList: [JSONValue], _ order: [JSONValue], _ mergeKey: String) throws(StrategicMergePatchError) {
        if order.isEmpty || patchList.isEmpty { return }
        var nonDelete = patchList
        if !mergeKey.isEmpty { nonDelete = try extractToDeleteItems(patchList).keep }
        var pi = 0, si = 0
        while pi < nonDelete.count && si < order.count {
            if case .object(let m) = nonDelete[pi], m[directiveMarker] != nil { pi += 1; continue }
            if try mergeKeyValueEqual(nonDelete[pi], order[si], mergeKey) { pi += 1 }
            si += 1
        }
        if pi < nonDelete.count && si >= order.count {
            throw .other("The order in patch list:\n\(goFormat(.array(patchList)))\n doesn't match \(setElementOrderPrefix) list:\n\(goFormat(.array(order)))\n")
        }
    }

    static func mergeKeyValueEqual(_ l: JSONValue, _ r: JSONValue, _ mergeKey: String) throws(StrategicMergePatchError) -> Bool {
        if mergeKey.isEmpty { return l == r }
        guard case .object(let lm) = l else { throw .badArgType(expected: "map[string]interface {}", l) }
        guard case .object(let rm) = r else { throw .badArgType(expected: "map[string]interface {}", r) }
        guard let lv = lm[mergeKey] else { throw .noMergeKey(lm, mergeKey) }
        guard let rv = rm[mergeKey] else { throw .noMergeKey(rm, mergeKey) }
        return lv == rv
    }

    static func extractKey(_ s: String, _ prefix: String) throws(StrategicMergePatchError) -> String {
        let parts = s.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count > 1, parts[0] == prefix else {
            switch prefix {
            case deleteFromPrimitiveListPrefix: throw .badPrimitiveList
            case setElementOrderPrefix: throw .badSetElementOrder
            default: throw .other("fail to find unknown prefix \(goQuote(prefix)) in \(s)\n")
            }
        }
        return String(parts[1])
    }

    static func retainKeysStrategy(_ strategies: [String]) throws(StrategicMergePatchError) -> (Bool, String) {
        switch strategies.count {
        case 0: return (false, "")
        case 1: return strategies[0] == "retainKeys" ? (true, "") : (false, strategies[0])
        case 2:
            if strategies[0] == "retainKeys" { return (true, strategies[1]) }
            if strategies[1] == "retainKeys" { return (true, strategies[0]) }
            fallthrough
        default:
            throw .other("unexpected patch strategy: [\(strategies.joined(separator: " "))]")
        }
    }

    // MARK: lists

    enum ElementKind { case map, scalar }

    static func mergeSlice(_ originalIn: [JSONValue], _ patchIn: [JSONValue], _ schema: PatchSchema, _ mergeKey: String,
                           isDeleteList: Bool) throws(StrategicMergePatchError) -> [JSONValue] {
        if originalIn.isEmpty && patchIn.isEmpty { return originalIn }
        let kind = try sliceElementKind([originalIn, patchIn])
        var original = originalIn
        var patch = patchIn
        var merged: [JSONValue]
        if kind != .map {
            if isDeleteList { return original.filter { !patch.contains($0) } }
            merged = deduplicateScalars(original + patch)
        } else {
            if mergeKey.isEmpty { throw .other("cannot merge lists without merge key for \(schema.name)") }
            (original, patch) = try mergeSliceWithSpecialElements(original, patch, mergeKey)
            merged = try mergeSliceWithoutSpecialElements(original, patch, mergeKey, schema)
        }
        let (patchItems, serverOnly) = try partition(merged, by: patch, mergeKey)
        return try normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind)
    }

    static func mergeSliceWithSpecialElements(_ originalIn: [JSONValue], _ patch: [JSONValue], _ mergeKey: String) throws(StrategicMergePatchError) -> ([JSONValue], [JSONValue]) {
        var original = originalIn
        var plain: [JSONValue] = []
        var replace = false
        for v in patch {
            guard case .object(let m) = v else { continue }
            guard let directive = m[directiveMarker] else { plain.append(v); continue }
            if directive == deleteDirective {
                guard let value = m[mergeKey] else { throw .noMergeKey(m, mergeKey) }
                while let found = try findMap(original, mergeKey, value) { original.remove(at: found.1) }
            } else if directive == replaceDirective {
                replace = true
            } else if directive == mergeDirective {
                throw .other("merging lists cannot yet be specified in the patch")
            } else {
                throw .badPatchType(directive, m)
            }
        }
        return replace ? (plain, []) : (original, plain)
    }

    static func mergeSliceWithoutSpecialElements(_ originalIn: [JSONValue], _ patch: [JSONValue], _ mergeKey: String,
                                                 _ schema: PatchSchema) throws(StrategicMergePatchError) -> [JSONValue] {
        var original = originalIn
        for v in patch {
            guard case .object(let m) = v else { continue }
            guard let value = m[mergeKey] else { throw .noMergeKey(m, mergeKey) }
            if let found = try findMap(original, mergeKey, value) {
                original[found.1] = .object(try mergeMap(found.0, m, schema))
            } else {
                original.append(v)
            }
        }
        return original
    }

    static func findMap(_ list: [JSONValue], _ key: String, _ value: JSONValue) throws(StrategicMergePatchError) -> ([String: JSONValue], Int)? {
        for (i, e) in list.enumerated() {
            guard case .object(let m) = e else { throw .other("value for key \(i) is not a map") }
            if let v = m[key], v == value { return (m, i) }
        }
        return nil
    }

    /// Items of `merged` that the patch (or the order directive) names, and the server-only rest.
    static func partition(_ merged: [JSONValue], by list: [JSONValue], _ mergeKey: String) throws(StrategicMergePatchError) -> ([JSONValue], [JSONValue]) {
        var inPatch: [JSONValue] = [], serverOnly: [JSONValue] = []
        if mergeKey.isEmpty {
            for v in merged { if list.contains(v) { inPatch.append(v) } else { serverOnly.append(v) } }
            return (inPatch, serverOnly)
        }
        for v in merged {
            guard case .object(let m) = v else { throw .badArgType(expected: "map[string]interface {}", v) }
            guard let value = m[mergeKey] else { throw .noMergeKey(m, mergeKey) }
            if try findMap(list, mergeKey, value) != nil { inPatch.append(v) } else { serverOnly.append(v) }
        }
        return (inPatch, serverOnly)
    }

    static func sliceElementKind(_ lists: [[JSONValue]]) throws(StrategicMergePatchError) -> ElementKind {
        var first: JSONValue?
        for list in lists {
            for v in list {
                if let f = first {
                    if !sameGoType(f, v) {
                        throw .other("list element types are not identical: \(goFormat(.array(lists.map { .array($0) })))")
                    }
                } else {
                    if case .array = v { throw .noListOfLists }
                    first = v
                }
            }
        }
        guard let first else { throw .other("no elements in any of the given slices") }
        if case .object = first { return .map }
        return .scalar
    }

    static func normalizeElementOrder(_ patch: [JSONValue], _ serverOnly: [JSONValue], _ patchOrder: [JSONValue], _ serverOrder: [JSONValue],
                                      _ mergeKey: String, _ kind: ElementKind) throws(StrategicMergePatchError) -> [JSONValue] {
        let p = try normalizeSliceOrder(patch, patchOrder, mergeKey, kind)
        let s = try normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind)
        return mergeSortedSlice(s, p, serverOrder, mergeKey, kind)
    }

    static func index(_ list: [JSONValue], _ item: JSONValue, _ mergeKey: String, _ kind: ElementKind) -> Int {
        func key(_ v: JSONValue) -> JSONValue? {
            guard kind == .map else { return v }
            if case .object(let m) = v { return m[mergeKey] }
            return nil
        }
        let target = key(item)
        return list.firstIndex { key($0) == target } ?? -1
    }

    static func normalizeSliceOrder(_ toSortIn: [JSONValue], _ order: [JSONValue], _ mergeKey: String, _ kind: ElementKind) throws(StrategicMergePatchError) -> [JSONValue] {
        var toSort = toSortIn
        var toDelete: [JSONValue] = []
        if kind == .map {
            for list in [toSort, order] {
                for item in list {
                    guard case .object(let m) = item else { throw .badArgType(expected: "map[string]interface {}", item) }
                    if m[mergeKey] == nil { throw .noMergeKey(m, mergeKey) }
                }
            }
            (toSort, toDelete) = try extractToDeleteItems(toSort)
        }
        // sort.SliceStable with upstream's comparator: items both found in `order` by their position,
        // any pair with a missing one reported as "less" (a quirk kept: it leaves such items in place
        // relative to each other only as a stable sort of that comparator does).
        toSort = stableSort(toSort) { a, b in
            let ia = index(order, a, mergeKey, kind)
            if ia >= 0 {
                let ib = index(order, b, mergeKey, kind)
                if ib >= 0 { return ia < ib }
            }
            return true
        }
        return toSort + toDelete
    }

    /// Go's sort.SliceStable (insertion sort for short runs, then symMerge): ported so a comparator
    /// that is not a strict weak order gives the same order as upstream.
    static func stableSort(_ input: [JSONValue], _ less: @escaping (JSONValue, JSONValue) -> Bool) -> [JSONValue] {
        var data = input
        let n = data.count
        func insertionSort(_ a: Int, _ b: Int) {
            var i = a + 1
            while i < b {
                var j = i
                while j > a && less(data[j], data[j - 1]) { data.swapAt(j, j - 1); j -= 1 }
                i += 1
            }
        }
        func swapRange(_ a: Int, _ b: Int, _ n: Int) { for i in 0..<n { data.swapAt(a + i, b + i) } }
        func rotate(_ a: Int, _ m: Int, _ b: Int) {
            var i = m - a, j = b - m
            while i != j {
                if i > j { swapRange(m - i, m, j); i -= j } else { swapRange(m - i, m + j - i, i); j -= i }
            }
            swapRange(m - i, m, i)
        }
        func symMerge(_ a: Int, _ m: Int, _ b: Int) {
            if m - a == 1 {
                var i = m, j = b
                while i < j {
                    let h = Int(UInt(i + j) >> 1)
                    if less(data[h], data[a]) { i = h + 1 } else { j = h }
                }
                var k = a
                while k < i - 1 { data.swapAt(k, k + 1); k += 1 }
                return
            }
            if b - m == 1 {
                var i = a, j = m
                while i < j {
                    let h = Int(UInt(i + j) >> 1)
                    if !less(data[m], data[h]) { i = h + 1 } else { j = h }
                }
                var k = m
                while k > i { data.swapAt(k, k - 1); k -= 1 }
                return
            }
            let mid = Int(UInt(a + b) >> 1)
            let nn = mid + m
            var start: Int, r: Int
            if m > mid { start = nn - b; r = mid } else { start = a; r = m }
            let p = nn - 1
            while start < r {
                let c = Int(UInt(start + r) >> 1)
                if !less(data[p - c], data[c]) { start = c + 1 } else { r = c }
            }
            let end = nn - start
            if start < m && m < end { rotate(start, m, end) }
            if a < start && start < mid { symMerge(a, start, mid) }
            if mid < end && end < b { symMerge(mid, end, b) }
        }
        var blockSize = 20
        var a = 0, b = blockSize
        while b <= n { insertionSort(a, b); a = b; b += blockSize }
        insertionSort(a, n)
        while blockSize < n {
            a = 0; b = 2 * blockSize
            while b <= n { symMerge(a, a + blockSize, b); a = b; b += 2 * blockSize }
            let m = a + blockSize
            if m < n { symMerge(a, m, n) }
            blockSize *= 2
        }
        return data
    }

    /// Inserts the server-only items (`left`) among the patch items (`right`) by their live order.
    static func mergeSortedSlice(_ left: [JSONValue], _ right: [JSONValue], _ serverOrder: [JSONValue], _ mergeKey: String, _ kind: ElementKind) -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(left.count + right.count)
        var i = 0, j = 0
        for _ in 0..<(left.count + right.count) {
            if i >= left.count && j < right.count { out.append(right[j]); j += 1 }
            else if j >= right.count && i < left.count { out.append(left[i]); i += 1 }
            else {
                let li = index(serverOrder, left[i], mergeKey, kind), ri = index(serverOrder, right[j], mergeKey, kind)
                if li >= 0 && ri >= 0 && li < ri { out.append(left[i]); i += 1 } else { out.append(right[j]); j += 1 }
            }
        }
        return out
    }

    static func extractToDeleteItems(_ list: [JSONValue]) throws(StrategicMergePatchError) -> (keep: [JSONValue], delete: [JSONValue]) {
        var keep: [JSONValue] = [], delete: [JSONValue] = []
        for v in list {
            guard case .object(let m) = v else { throw .badArgType(expected: "map[string]interface {}", v) }
            if m[directiveMarker] == deleteDirective { delete.append(v) } else { keep.append(v) }
        }
        return (keep, delete)
    }

    /// Upstream's in-place deduplication, which moves the last element into each duplicate's place.
    static func deduplicateScalars(_ input: [JSONValue]) -> [JSONValue] {
        var s = input
        var length = s.count - 1
        var i = 0
        while i < length {
            var j = i + 1
            while j <= length {
                if s[i] == s[j] {
                    s[j] = s[length]
                    s.removeLast(s.count - length)
                    length -= 1
                    j -= 1
                }
                j += 1
            }
            i += 1
        }
        return s
    }

    // MARK: directives and nulls

    /// Drops directive-bearing maps (and list elements); nil when the value itself is a directive.
    static func removeDirectives(_ v: JSONValue) -> JSONValue? {
        switch v {
        case .object(let m):
            if m[directiveMarker] != nil { return nil }
            var out: [String: JSONValue] = [:]
            for (k, e) in m { if let kept = removeDirectives(e) { out[k] = kept } }
            return .object(out)
        case .array(let a):
            return .array(a.compactMap(removeDirectives))
        default:
            return v
        }
    }

    static func discardNulls(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let m):
            var out: [String: JSONValue] = [:]
            for (k, e) in m where e != .null { out[k] = discardNulls(e) }
            return .object(out)
        case .array(let a): return .array(a.map(discardNulls))
        default: return v
        }
    }

    /// reflect.TypeOf equality for decoded JSON, where integers stay int64 and other numbers float64.
    static func sameGoType(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object, .object), (.array, .array), (.string, .string), (.int, .int), (.double, .double), (.bool, .bool), (.null, .null): true
        default: false
        }
    }
}

/// Go's `%v` of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted.
func goFormat(_ v: JSONValue) -> String {
    switch v {
    case .null: return "<nil>"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d):
        if d == d.rounded(), abs(d) < 1e21 { return String(Int64(d)) }
        return "\(d)"
    case .string(let s): return s
    case .array(let a): return "[" + a.map(goFormat).joined(separator: " ") + "]"
    case .object(let o): return "map[" + o.keys.sorted().map { "\($0):\(goFormat(o[$0]!))" }.joined(separator: " ") + "]"
    }
}

func goTypeName(_ v: JSONValue) -> String {
    switch v {
    case .null: "<nil>"
    case .bool: "bool"
    case .int: "int64"
    case .double: "float64"
    case .string: "string"
    case .array: "[]interface {}"
    case .object: "map[string]interface {}"
    }
}

func goQuote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
