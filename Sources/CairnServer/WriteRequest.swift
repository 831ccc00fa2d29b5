import CairnAPIMachinery
import CairnCore
import Foundation

/// The options of a create, update or patch (CreateOptions, UpdateOptions, PatchOptions), read from
/// the query as kube-apiserver reads them.
public struct WriteOptions: Sendable {
    public enum Verb: String, Sendable { case create = "CreateOptions", update = "UpdateOptions", patch = "PatchOptions" }

    public var dryRun: Bool
    /// Strict, Warn (kube-apiserver's default when the client does not say) or Ignore. kubectl
    /// apply, create and replace send Strict unless --validate says otherwise; patch, label, annotate
    /// and edit send nothing, so an unknown field there is dropped with a warning, as on a cluster.
    public var fieldValidation: FieldValidation
    /// Who the write's fields belong to (managedFields): `fieldManager`, else the User-Agent's
    /// program name, as kube-apiserver picks it.
    public var manager: String

    public init(dryRun: Bool = false, fieldValidation: FieldValidation = .warn, manager: String = "unknown") {
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
        self.manager = manager
    }

    public init(_ request: APIRequest, verb: Verb) throws(Status) {
        var errors: [FieldError] = []
        dryRun = false
        if let d = request.query["dryRun"], !d.isEmpty {
            if d == "All" { dryRun = true } else { errors.append(.notSupported("dryRun", d, supported: ["All"])) }
        }
        fieldValidation = try FieldValidation(query: request.query["fieldValidation"], options: verb.rawValue)
        if let m = request.query["fieldManager"], m.count > 128 {
            errors.append(.invalid("fieldManager", string: m, "must be less than 128 characters long"))
        }
        if !errors.isEmpty {
            throw Status(code: 422, reason: .invalid, message: "\(verb.rawValue).meta.k8s.io \"\" is invalid: \(aggregateMessage(errors))",
                         details: Status.Details(name: "", group: "meta.k8s.io", kind: verb.rawValue,
                                                 causes: errors.map { Status.Cause(reason: $0.type.rawValue, message: $0.body, field: $0.field) }))
        }
        manager = ServerSideApply.managerName(fieldManager: request.query["fieldManager"], userAgent: request.userAgent)
    }

    /// A boolean query parameter (`force=true`), with kube-apiserver's 400 for anything but a boolean.
    static func boolean(_ value: String?, _ name: String) throws(Status) -> Bool {
        switch value {
        case nil, "", "false", "0", "False", "FALSE": return false
        case "true", "1", "True", "TRUE": return true
        case let v?: throw Status.badRequest("invalid value for \(name) \"\(v)\": it must be true or false")
        }
    }
}

/// A create or update body, read under its `fieldValidation`: Strict refuses unknown and duplicate
/// fields (kube-apiserver's BadRequest); Warn and Ignore drop unknown fields (Warn says so in a
/// Warning header per field, which kubectl prints as `Warning: unknown field "spec.colour"`).
struct WriteBody {
    var json: JSONValue
    var warnings: [String]

    static func read(_ bytes: Data, kind: Kind, validation: FieldValidation) throws(Status) -> WriteBody {
        if bytes.isEmpty { throw Status.badRequest("the request body is empty; send a JSON object") }
        var json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw Status.badRequest("the request body is not valid JSON: \(error)")
        }
        guard case .object = json else {
            throw Status.badRequest("the request body is a JSON \(json.typeName), not an object: send a \(kind.rawValue)")
        }
        let issues = try StrictDecoding.issues(in: bytes, kind: kind)
        if issues.isEmpty { return WriteBody(json: json, warnings: []) }
        if validation == .strict { throw StrictDecoding.bodyError(kind: kind, issues) }
        json = dropUnknown(json, issues)
        return WriteBody(json: json, warnings: validation == .warn ? StrictDecoding.warningHeaders(issues.map(\.description)) : [])
    }

    /// `object` without the fields `issues` names as unknown (duplicates are already resolved by the
    /// parser, which keeps the last, as Go's decoder does).
    static func dropUnknown(_ object: JSONValue, _ issues: [StrictIssue]) -> JSONValue {
        var out = object
        for issue in issues where issue.kind == .unknown {
            if let pruned = out.removing(components(issue.path)) { out = pruned }
        }
        return out
    }

    /// "spec.template.spec.containers[0].colour" as ["spec", ..., "containers", "[0]", "colour"].
    static func components(_ path: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in path {
            switch ch {
            case ".":
                if !current.isEmpty { out.append(current) }
                current = ""
            case "[":
                if !current.isEmpty { out.append(current) }
                current = "["
            case "]":
                out.append(current + "]")
                current = ""
            default:
                current.append(ch)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}

/// What the cascade of a delete does to the object's dependents (metav1.DeletionPropagation).
public enum PropagationPolicy: String, Sendable, CaseIterable {
    /// The object goes first; the garbage collector then deletes its dependents.
    case background = "Background"
    /// The object waits, with the `foregroundDeletion` finalizer, until its dependents are gone.
    case foreground = "Foreground"
    /// The object's dependents are released (their ownerReferences to it removed), through the
    /// `orphan` finalizer.
    case orphan = "Orphan"
}

/// DELETE's options (DeleteOptions in the body, or the same names in the query, as kubectl may send).
public struct DeleteRequest: Sendable {
    public var propagation: PropagationPolicy?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public var dryRun: Bool
    public var gracePeriodSeconds: Int64?

    public init(propagation: PropagationPolicy? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil,
                dryRun: Bool = false, gracePeriodSeconds: Int64? = nil) {
        self.propagation = propagation
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.dryRun = dryRun
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    init(_ request: APIRequest) throws(Status) {
        var body: JSONValue = .object([:])
        if !request.body.isEmpty {
            guard let parsed = try? JSONValue.parse(request.body), case .object = parsed else {
                throw Status.badRequest("the request body is not a DeleteOptions JSON object")
            }
            body = parsed
        }
        try self.init(body: body, query: request.query)
    }

    init(body: JSONValue, query: [String: String]) throws(Status) {
        var errors: [FieldError] = []
        let policy = body["propagationPolicy"]?.stringValue ?? query["propagationPolicy"]
        if let policy, !policy.isEmpty {
            if let p = PropagationPolicy(rawValue: policy) {
                propagation = p
            } else {
                errors.append(.notSupported("propagationPolicy", policy, supported: PropagationPolicy.allCases.map(\.rawValue)))
            }
        }
        if case .bool(let orphan)? = body["orphanDependents"] {
            if propagation != nil {
                errors.append(.invalid("propagationPolicy", string: policy ?? "", "orphanDependents and deletionPropagation cannot be both set"))
            }
            propagation = orphan ? .orphan : .background
        }
        preconditionUID = body["preconditions"]?["uid"]?.stringValue
        preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
        dryRun = false
        let dry = body["dryRun"]?.arrayValue?.compactMap(\.stringValue) ?? query["dryRun"].map { [$0] } ?? []
        for d in dry where !d.isEmpty {
            if d == "All" { dryRun = true } else { errors.append(.notSupported("dryRun", d, supported: ["All"])) }
        }
        if case .int(let g)? = body["gracePeriodSeconds"] {
            gracePeriodSeconds = g
        } else if let g = query["gracePeriodSeconds"], let n = Int64(g) {
            gracePeriodSeconds = n
        }
        if let g = gracePeriodSeconds, g < 0 {
            errors.append(.invalid("gracePeriodSeconds", "\(g)", "must be greater than or equal to 0"))
        }
        if !errors.isEmpty {
            throw Status(code: 422, reason: .invalid, message: "DeleteOptions.meta.k8s.io \"\" is invalid: \(aggregateMessage(errors))",
                         details: Status.Details(name: "", group: "meta.k8s.io", kind: "DeleteOptions",
                                                 causes: errors.map { Status.Cause(reason: $0.type.rawValue, message: $0.body, field: $0.field) }))
        }
    }
}

/// A policy/v1 Eviction posted to pods/NAME/eviction.
public struct EvictionRequest: Sendable {
    public var delete: DeleteRequest

    init(body: Data, path: APIPath) throws(Status) {
        guard !body.isEmpty, let json = try? JSONValue.parse(body), case .object = json else {
            throw Status.badRequest("the request body is not an Eviction JSON object (policy/v1)")
        }
        if let kind = json["kind"]?.stringValue, kind != "Eviction" {
            throw Status.badRequest("the body is a \(kind), but pods/eviction takes an Eviction (policy/v1)")
        }
        if let name = json["metadata"]?["name"]?.stringValue, name != path.name {
            throw Status.badRequest("name in URL does not match name in Eviction object")
        }
        if let ns = json["metadata"]?["namespace"]?.stringValue, !ns.isEmpty, ns != path.namespace {
            throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        delete = try DeleteRequest(body: json["deleteOptions"] ?? .object([:]), query: [:])
    }
}
