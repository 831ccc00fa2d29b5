import CairnCore

/// `kubectl get --sort-by=JSONPATH` (pkg/cmd/get/sorter.go): objects ordered by the first value the
/// path finds in each; objects where it finds nothing come first; numbers compare as numbers, strings
/// that both parse as quantities as quantities ("900Mi" < "1Gi"), other strings byte by byte. Ties keep
/// the server's order.
public enum SortBy {
    /// The indices of `objects` in sorted order.
    public static func order(_ objects: [JSONValue], by field: String) throws(JSONPathError) -> [Int] {
        guard objects.count > 1 else { return Array(objects.indices) }
        let expression = (try? CustomColumns.relaxed(field)) ?? field
        let path: JSONPath
        do { path = try JSONPath(expression) } catch { throw JSONPathError("sorting error: \(error)") }
        var keys: [JSONValue?] = []
        for o in objects { keys.append(try path.findResults(o).first?.first) }
        guard keys.contains(where: { $0 != nil }) else {
            throw JSONPathError("couldn't find any field with path \"\(expression)\" in the list of objects")
        }
        var failure: JSONPathError?
        let sorted = objects.indices.sorted { a, b in
            guard failure == nil else { return a < b }
            do {
                if try less(keys[a], keys[b], expression) { return true }
                if try less(keys[b], keys[a], expression) { return false }
            } catch let e as JSONPathError { failure = e } catch { failure = JSONPathError("\(error)") }
            return a < b
        }
        if let failure { throw failure }
        return sorted
    }

    static func less(_ a: JSONValue?, _ b: JSONValue?, _ field: String) throws(JSONPathError) -> Bool {
        guard let a else { return b != nil }
        guard let b else { return false }
        switch (a, b) {
        case (.null, .null): return false
        case (.null, _): return true
        case (_, .null): return false
        case (.int(let x), .int(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.string(let x), .string(let y)):
            if let qx = try? Quantity(parsing: x), let qy = try? Quantity(parsing: y) { return qx < qy }
            return x.utf8.lexicographicallyPrecedes(y.utf8)
        case (.int, _), (.double, _), (.string, _):
            throw JSONPathError("cannot sort by \(field): it holds a \(GoFormat.typeName(a)) in one object and a \(GoFormat.typeName(b)) in another")
        default:
            throw JSONPathError("cannot sort by \(field): its values are \(GoFormat.typeName(a)); only numbers, strings and quantities sort")
        }
    }
}
