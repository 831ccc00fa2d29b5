import CairnCore

/// JSON merge patch (RFC 7386) as kube-apiserver applies it: evanphx/json-patch's `MergePatch`,
/// including its treatment of nulls inside values that replace rather than merge.
public enum JSONMergePatch {
    /// Applies `patch` to `document`. The result is what kube-apiserver would then decode: a
    /// top-level array patch yields the array (whose decode fails as an Invalid patch), a null or
    /// scalar patch is "Invalid JSON Patch" (BadRequest).
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(Status) -> JSONValue {
        switch patch {
        case .object(let p):
            guard case .object(var doc) = document else {
                // Not a document to merge into: the patch, without its nulls, becomes the document.
                return pruneNulls(patch)
            }
            mergeObjects(&doc, p)
            return .object(doc)
        case .array:
            return pruneNulls(patch)
        default:
            throw Status.badRequest("Invalid JSON Patch")
        }
    }

    /// The plain RFC 7386 merge for callers that have two objects in hand (the lead's current
    /// `mergePatch` in ControlPlane.swift does this).
    public static func merge(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        merge(current: target, patch: patch)
    }

    static func merge(current: JSONValue, patch: JSONValue) -> JSONValue {
        guard case .object(var cur) = current else { return pruneNulls(patch) }
        guard case .object(let p) = patch else { return patch }
        mergeObjects(&cur, p)
        return .object(cur)
    }

    static func mergeObjects(_ doc: inout [String: JSONValue], _ patch: [String: JSONValue]) {
        for (key, value) in patch {
            if value == .null {
                doc[key] = nil
            } else if let cur = doc[key], cur != .null {
                doc[key] = merge(current: cur, patch: value)
            } else {
                doc[key] = pruneNulls(value)
            }
        }
    }

    /// Drops null members of objects, at any depth; array elements stay (a null element is kept).
    static func pruneNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o where v != .null { out[k] = pruneNulls(v) }
            return .object(out)
        case .array(let a):
            return .array(a.map { $0 == .null ? .null : pruneNulls($0) })
        default:
            return value
        }
    }
}
