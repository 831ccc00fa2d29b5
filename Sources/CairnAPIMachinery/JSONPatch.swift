import CairnCore

/// Why a JSON patch did not apply: evanphx/json-patch's message (kept for logs and tests) and the
/// Status kube-apiserver answers, which for a failed operation is a bare 422 without that message.
public struct JSONPatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var status: Status
    public var description: String { message }

    static func operationFailed(_ message: String) -> JSONPatchError {
        JSONPatchError(message: message, status: Status(code: 422, reason: .invalid,
                                                        message: "the server rejected our request due to an error in our request",
                                                        details: Status.Details(name: nil, group: nil, kind: nil)))
    }
    static func badRequest(_ message: String) -> JSONPatchError {
        JSONPatchError(message: message, status: .badRequest(message))
    }
}

/// JSON patch (RFC 6902) as kube-apiserver applies it: gopkg.in/evanphx/json-patch.v4, operation by
/// operation, with its quirks kept (negative array indices count from the end; `replace` of a missing
/// object member adds it; a path without a leading "/" names a top-level member).
public struct JSONPatch: Sendable, Hashable {
    /// One operation as sent; members are kept raw, as the library reads them lazily.
    public struct Operation: Sendable, Hashable {
        public var members: [String: JSONValue]
        public var op: String { members["op"]?.stringValue ?? "unknown" }
    }

    public var operations: [Operation]

    /// DecodePatch: the body must be an array of objects. Too many operations is the 413
    /// kube-apiserver answers.
    public init(_ json: JSONValue) throws(JSONPatchError) {
        guard case .array(let items) = json else {
            throw .badRequest("json: cannot unmarshal \(JSONPatch.goTypeName(json)) into Go value of type jsonpatch.Patch")
        }
        var ops: [Operation] = []
        for item in items {
            guard case .object(let o) = item else {
                if item == .null { ops.append(Operation(members: [:])); continue }
                throw .badRequest("json: cannot unmarshal \(JSONPatch.goTypeName(item)) into Go value of type jsonpatch.Operation")
            }
            ops.append(Operation(members: o))
        }
        if ops.count > maximumJSONPatchOperations {
            throw JSONPatchError(message: "too many operations",
                                 status: .tooLarge("The allowed maximum operations in a JSON patch is \(maximumJSONPatchOperations), got \(ops.count)"))
        }
        operations = ops
    }

    static func goTypeName(_ v: JSONValue) -> String {
        switch v {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .int, .double: "number"
        case .bool: "bool"
        case .null: "null"
        }
    }

    /// Applies every operation in order; the first that fails stops the patch and nothing of it applies.
    public func apply(to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var doc = document
        for op in operations {
            switch op.op {
            case "add": try add(&doc, op)
            case "remove": try remove(&doc, op)
            case "replace": try replace(&doc, op)
            case "move": try move(&doc, op)
            case "test": try test(doc, op)
            case "copy": try copy(&doc, op)
            default: throw .operationFailed("Unexpected kind: \(op.op)")
            }
        }
        return doc
    }

    /// The strict-decoding complaints about the operations themselves (fieldValidation Strict or
    /// Warn): members other than op, path, from and value.
    public var strictErrors: [String] {
        var out: [String] = []
        for (i, op) in operations.enumerated() {
            for key in op.members.keys.sorted() where !["op", "path", "from", "value"].contains(key) {
                out.append("json patch unknown field \"[\(i)].\(key)\"")
            }
        }
        return out
    }

    // MARK: operations

    static func path(_ op: Operation, _ member: String) -> String? { op.members[member]?.stringValue }

    func add(_ doc: inout JSONValue, _ op: Operation) throws(JSONPatchError) {
        guard let path = JSONPatch.path(op, "path") else { throw .operationFailed("add operation failed to decode path: missing value") }
        let value = op.members["value"] ?? .null
        let found = try JSONPatch.withContainer(&doc, path) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { try JSONPatch.containerAdd(&c, key, value) } catch { throw .operationFailed("error in add for path: '\(path)': \(error.message)") }
        }
        if !found { throw .operationFailed("add operation does not apply: doc is missing path: \"\(path)\": missing value") }
    }

    func remove(_ doc: inout JSONValue, _ op: Operation) throws(JSONPatchError) {
        guard let path = JSONPatch.path(op, "path") else { throw .operationFailed("remove operation failed to decode path: missing value") }
        let found = try JSONPatch.withContainer(&doc, path) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { try JSONPatch.containerRemove(&c, key) } catch { throw .operationFailed("error in remove for path: '\(path)': \(error.message)") }
        }
        if !found { throw .operationFailed("remove operation does not apply: doc is missing path: \"\(path)\": missing value") }
    }

    func replace(_ doc: inout JSONValue, _ op: Operation) throws(JSONPatchError) {
        guard let path = JSONPatch.path(op, "path") else { throw .operationFailed("replace operation failed to decode path: missing value") }
        let value = op.members["value"] ?? .null
        if path.isEmpty {
            // json-patch.v4 wraps a nil error here (errors.Wrapf(nil, ...) is nil), so a scalar
            // replacing the whole document is silently ignored.
            switch value {
            case .object, .array: doc = value
            default: break
            }
            return
        }
        let found = try JSONPatch.withContainer(&doc, path) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { _ = try JSONPatch.containerGet(c, key) } catch {
                throw .operationFailed("replace operation does not apply: doc is missing key: \(path): missing value")
            }
            do throws(ContainerError) { try JSONPatch.containerSet(&c, key, value) } catch { throw .operationFailed("error in remove for path: '\(path)': \(error.message)") }
        }
        if !found { throw .operationFailed("replace operation does not apply: doc is missing path: \(path): missing value") }
    }

    func move(_ doc: inout JSONValue, _ op: Operation) throws(JSONPatchError) {
        guard let from = JSONPatch.path(op, "from") else { throw .operationFailed("move operation failed to decode from: operation, missing from field: missing value") }
        var moved: JSONValue = .null
        let foundFrom = try JSONPatch.withContainer(&doc, from) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { moved = try JSONPatch.containerGet(c, key) ?? .null } catch { throw .operationFailed("error in move for path: '\(key)': \(error.message)") }
            do throws(ContainerError) { try JSONPatch.containerRemove(&c, key) } catch { throw .operationFailed("error in move for path: '\(key)': \(error.message)") }
        }
        if !foundFrom { throw .operationFailed("move operation does not apply: doc is missing from path: \(from): missing value") }
        guard let path = JSONPatch.path(op, "path") else { throw .operationFailed("move operation failed to decode path: operation missing path field: missing value") }
        let value = moved
        let found = try JSONPatch.withContainer(&doc, path) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { try JSONPatch.containerAdd(&c, key, value) } catch { throw .operationFailed("error in move for path: '\(path)': \(error.message)") }
        }
        if !found { throw .operationFailed("move operation does not apply: doc is missing destination path: \(path): missing value") }
    }

    func test(_ doc: JSONValue, _ op: Operation) throws(JSONPatchError) {
        guard let path = JSONPatch.path(op, "path") else { throw .operationFailed("test operation failed to decode path: operation missing path field: missing value") }
        let expected = op.members["value"] ?? .null
        if path.isEmpty {
            if JSONPatch.equal(doc, expected) { return }
            throw .operationFailed("testing value \(path) failed: test failed")
        }
        var scratch = doc
        var actual: JSONValue? = nil
        let found = try JSONPatch.withContainer(&scratch, path) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { actual = try JSONPatch.containerGet(c, key) } catch { throw .operationFailed("error in test for path: '\(path)': \(error.message)") }
        }
        if !found { throw .operationFailed("test operation does not apply: is missing path: \(path): missing value") }
        let have = actual ?? .null
        if have == .null || expected == .null {
            if have == .null && expected == .null { return }
            throw .operationFailed("testing value \(path) failed: test failed")
        }
        if !JSONPatch.equal(have, expected) { throw .operationFailed("testing value \(path) failed: test failed") }
    }

    func copy(_ doc: inout JSONValue, _ op: Operation) throws(JSONPatchError) {
        guard let from = JSONPatch.path(op, "from") else { throw .operationFailed("copy operation failed to decode from: operation, missing from field: missing value") }
        var copied: JSONValue = .null
        let foundFrom = try JSONPatch.withContainer(&doc, from) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { copied = try JSONPatch.containerGet(c, key) ?? .null } catch { throw .operationFailed("error in copy for from: '\(from)': \(error.message)") }
        }
        if !foundFrom { throw .operationFailed("copy operation does not apply: doc is missing from path: \(from): missing value") }
        guard let path = JSONPatch.path(op, "path") else { throw .operationFailed("copy operation failed to decode path: missing value") }
        let value = copied
        let found = try JSONPatch.withContainer(&doc, path) { (c: inout JSONValue, key: String) throws(JSONPatchError) in
            do throws(ContainerError) { try JSONPatch.containerAdd(&c, key, value) } catch { throw .operationFailed("error while adding value during copy: \(error.message)") }
        }
        if !found { throw .operationFailed("copy operation does not apply: doc is missing destination path: \(path): missing value") }
    }

    // MARK: containers

    struct ContainerError: Error { var message: String }

    /// RFC 6901 unescaping: "~1" is "/", "~0" is "~".
    static func decodeKey(_ s: Substring) -> String {
        s.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
    }

    /// findObject: walks to the object or array that holds the path's last segment and runs `body`
    /// on it in place; false when a segment on the way is missing, null or not a container.
    static func withContainer(_ doc: inout JSONValue, _ path: String,
                              _ body: (inout JSONValue, String) throws(JSONPatchError) -> Void) throws(JSONPatchError) -> Bool {
        let split = path.split(separator: "/", omittingEmptySubsequences: false)
        guard split.count >= 2 else { return false }
        let parts = split[1..<(split.count - 1)].map(decodeKey)
        let key = decodeKey(split[split.count - 1])
        switch doc { case .object, .array: break; default: return false }
        return try descendContainer(&doc, parts[...], key, body)
    }

    static func descendContainer(_ node: inout JSONValue, _ parts: ArraySlice<String>, _ key: String,
                                 _ body: (inout JSONValue, String) throws(JSONPatchError) -> Void) throws(JSONPatchError) -> Bool {
        guard let part = parts.first else {
            try body(&node, key)
            return true
        }
        switch node {
        case .object(var o):
            guard var child = o[part] else { return false }
            switch child { case .object, .array: break; default: return false }
            let ok = try descendContainer(&child, parts.dropFirst(), key, body)
            o[part] = child
            node = .object(o)
            return ok
        case .array(var a):
            guard let i = try? arrayIndex(part, count: a.count, forInsert: false) else { return false }
            var child = a[i]
            switch child { case .object, .array: break; default: return false }
            let ok = try descendContainer(&child, parts.dropFirst(), key, body)
            a[i] = child
            node = .array(a)
            return ok
        default:
            return false
        }
    }

    /// An array index as the library reads it: strconv.Atoi, negatives counted from the end.
    static func arrayIndex(_ key: String, count: Int, forInsert: Bool) throws(ContainerError) -> Int {
        guard let parsed = Int(key) else {
            throw ContainerError(message: "strconv.Atoi: parsing \(goQuote(key)): invalid syntax")
        }
        var idx = parsed
        let size = forInsert ? count + 1 : count
        if idx >= size { throw ContainerError(message: "Unable to access invalid index: \(idx): invalid index referenced") }
        if idx < 0 {
            if idx < -size { throw ContainerError(message: "Unable to access invalid index: \(idx): invalid index referenced") }
            idx += size
        }
        return idx
    }

    static func goQuote(_ s: String) -> String { "\"\(s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }

    static func containerGet(_ c: JSONValue, _ key: String) throws(ContainerError) -> JSONValue? {
        switch c {
        case .object(let o): return o[key]
        case .array(let a): return a[try arrayIndex(key, count: a.count, forInsert: false)]
        default: throw ContainerError(message: "invalid state detected")
        }
    }

    static func containerSet(_ c: inout JSONValue, _ key: String, _ value: JSONValue) throws(ContainerError) {
        switch c {
        case .object(var o): o[key] = value; c = .object(o)
        case .array(var a):
            let i = try arrayIndex(key, count: a.count, forInsert: false)
            a[i] = value
            c = .array(a)
        default: throw ContainerError(message: "invalid state detected")
        }
    }

    static func containerAdd(_ c: inout JSONValue, _ key: String, _ value: JSONValue) throws(ContainerError) {
        switch c {
        case .object(var o): o[key] = value; c = .object(o)
        case .array(var a):
            if key == "-" { a.append(value); c = .array(a); return }
            guard Int(key) != nil else {
                throw ContainerError(message: "value was not a proper array index: '\(key)': strconv.Atoi: parsing \(goQuote(key)): invalid syntax")
            }
            let i = try arrayIndex(key, count: a.count, forInsert: true)
            a.insert(value, at: i)
            c = .array(a)
        default: throw ContainerError(message: "invalid state detected")
        }
    }

    static func containerRemove(_ c: inout JSONValue, _ key: String) throws(ContainerError) {
        switch c {
        case .object(var o):
            guard o[key] != nil else { throw ContainerError(message: "Unable to remove nonexistent key: \(key): missing value") }
            o[key] = nil
            c = .object(o)
        case .array(var a):
            let i = try arrayIndex(key, count: a.count, forInsert: false)
            a.remove(at: i)
            c = .array(a)
        default: throw ContainerError(message: "invalid state detected")
        }
    }

    /// Structural equality as the library compares (numbers by value: 1 equals 1.0).
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        default: return a == b
        }
    }
}
