import CairnCore

/// `fieldValidation` of create, update and patch: what to do with unknown and duplicate fields.
public enum FieldValidation: String, Sendable, Hashable, CaseIterable {
    /// Reject the request (BadRequest) naming every unknown and duplicate field.
    case strict = "Strict"
    /// Accept, with one `Warning` header per field: kube-apiserver's default since 1.25.
    case warn = "Warn"
    /// Accept silently (unknown fields dropped, the last duplicate kept).
    case ignore = "Ignore"

    /// The query parameter; absent or empty is Warn. `options` names the options kind in the error
    /// ("CreateOptions", "UpdateOptions", "PatchOptions"), as kube-apiserver words it.
    public init(query value: String?, options: String) throws(Status) {
        guard let value, !value.isEmpty else { self = .warn; return }
        guard let v = FieldValidation(rawValue: value) else {
            let error = FieldError.notSupported("fieldValidation", value, supported: FieldValidation.allCases.map(\.rawValue).sorted())
            throw Status(code: 422, reason: .invalid,
                         message: "\(options).meta.k8s.io \"\" is invalid: fieldValidation: \(error.body)",
                         details: Status.Details(name: "", group: "meta.k8s.io", kind: options,
                                                 causes: [Status.Cause(reason: "FieldValueNotSupported", message: error.body, field: "fieldValidation")]))
        }
        self = v
    }
}

/// One strict-decoding complaint, as sigs.k8s.io/json words it: `unknown field "spec.foo"`,
/// `duplicate field "spec.replicas"` (paths from the object's root, list elements as `[i]`).
public struct StrictIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable { case unknown = "unknown field", duplicate = "duplicate field" }
    public var kind: Kind
    public var path: String
    public init(_ kind: Kind, _ path: String) {
        self.kind = kind
        self.path = path
    }
    public var description: String { "\(kind.rawValue) \(goQuote(path))" }
}

/// Finds unknown and duplicate fields the way kube-apiserver's strict JSON decoder does, against
/// the fields Cairn's types read (so what Cairn would drop or mis-read is named, never silently lost).
public enum StrictDecoding {
    /// Every unknown and duplicate field of a request body, in the order they appear (at most 100,
    /// as the decoder keeps). Fields beneath an unknown one are not looked at.
    public static func issues(in body: some Collection<UInt8>, kind: Kind) throws(Status) -> [StrictIssue] {
        let occurrences: [JSONText.KeyOccurrence]
        do { occurrences = try JSONText.keyOccurrences(body) } catch { throw Status.badRequest("invalid JSON: \(error)") }
        return issues(occurrences, root: kind.objectType)
    }

    /// The unknown fields of a document already parsed (a patched object: no duplicates left).
    public static func unknownFields(of object: JSONValue, kind: Kind) -> [StrictIssue] {
        var occurrences: [JSONText.KeyOccurrence] = []
        collect(object, [], &occurrences)
        return issues(occurrences, root: kind.objectType)
    }

    static func collect(_ v: JSONValue, _ path: [String], _ out: inout [JSONText.KeyOccurrence]) {
        switch v {
        case .object(let o):
            for k in o.keys.sorted() {
                out.append(JSONText.KeyOccurrence(path: path + [k], isDuplicate: false))
                collect(o[k]!, path + [k], &out)
            }
        case .array(let a):
            for (i, e) in a.enumerated() { collect(e, path + ["[\(i)]"], &out) }
        default: break
        }
    }

    static func issues(_ occurrences: [JSONText.KeyOccurrence], root: any Decodable.Type) -> [StrictIssue] {
        var out: [StrictIssue] = []
        var unknownPrefixes: [[String]] = []
        var seen = Set<StrictIssue>()
        for occ in occurrences {
            if unknownPrefixes.contains(where: { occ.path.starts(with: $0) }) { continue }
            let path = ObjectDecoding.joinPath(occ.path)
            let issue: StrictIssue
            if !isKnown(occ.path, root) {
                unknownPrefixes.append(occ.path)
                issue = StrictIssue(.unknown, path)
            } else if occ.isDuplicate {
                issue = StrictIssue(.duplicate, path)
            } else {
                continue
            }
            if seen.insert(issue).inserted { out.append(issue) }
            if out.count >= 100 { break }
        }
        return out
    }

    /// Whether Cairn's types read this key path (anything beneath an opaque JSON field counts as read).
    static func isKnown(_ path: [String], _ root: any Decodable.Type) -> Bool {
        var current: TypeShape.ShapeType = .object(TypeBox(type: root))
        for component in path {
            switch current {
            case .object(let box):
                guard let f = TypeShape.of(box.type).fields.first(where: { $0.name == component }) else { return false }
                current = f.type
            case .array(let e):
                guard component.hasPrefix("[") else { return false }
                current = e
            case .map(let v):
                current = v
            case .json:
                return true
            default:
                // A key inside a scalar field: a type error the decoder reports on its own.
                return true
            }
        }
        return true
    }

    /// Create and update with Strict: kube-apiserver's BadRequest from `transformDecodeError`.
    public static func bodyError(kind: Kind, _ issues: [StrictIssue]) -> Status {
        Status.badRequest("\(kind.rawValue) in version \(goQuote(kind.version)) cannot be handled as a \(kind.rawValue): \(strictMessage(issues.map(\.description)))")
    }

    /// A patch whose result has unknown fields (or whose body had duplicates) with Strict: the 422
    /// kube-apiserver answers, the patched object quoted as the invalid value. `value` is the patched
    /// JSON text (JSON and merge patches) or Go's `%+v` of the patch (strategic merge patches).
    public static func patchError(value: String, _ messages: [String]) -> Status {
        let body = "Invalid value: \(goQuote(value)): \(strictMessage(messages))"
        return Status(code: 422, reason: .invalid, message: " \"\" is invalid: patch: \(body)",
                      details: Status.Details(name: "", group: "", kind: "",
                                              causes: [Status.Cause(reason: "FieldValueInvalid", message: body, field: "patch")]))
    }

    /// kube-apiserver's answer when the patched object does not decode into its type (a string where
    /// an integer belongs): 422 Invalid with no kind or name, on the field "patch", whose value is the
    /// patch as Go prints the map (strategic) or the patched document (merge and JSON patch). The
    /// reason after it is Cairn's decoder's, naming the field; upstream's is Go's (`unrecognized type:
    /// int32`, `json: cannot unmarshal string into Go struct field ...`), which names Go types.
    public static func patchDecodeError(value: String, _ errors: [FieldError]) -> Status {
        let reasons = errors.map { "\($0.field): \($0.detail.isEmpty ? $0.body : $0.detail)" }.joined(separator: ", ")
        let body = "Invalid value: \(goQuote(value)): \(reasons)"
        return Status(code: 422, reason: .invalid, message: " \"\" is invalid: patch: \(body)",
                      details: Status.Details(name: "", group: "", kind: "",
                                              causes: [Status.Cause(reason: "FieldValueInvalid", message: body, field: "patch")]))
    }

    /// `runtime.NewStrictDecodingError`'s text.
    public static func strictMessage(_ messages: [String]) -> String {
        "strict decoding error: " + messages.joined(separator: ", ")
    }

    /// With Warn: one `Warning` header value per issue (`299 - "unknown field \"spec.foo\""`); kubectl
    /// prints `Warning: unknown field "spec.foo"`.
    public static func warningHeaders(_ messages: [String]) -> [String] {
        messages.map { "299 - \(goQuote($0))" }
    }

    /// Go's `%+v` of a decoded JSON map (the value strategic-merge-patch strict errors quote).
    public static func goValue(_ v: JSONValue) -> String { goFormat(v) }
}
