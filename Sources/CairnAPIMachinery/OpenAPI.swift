import CairnCore

/// OpenAPI v3 as kube-apiserver serves it: `/openapi/v3` (an index of group versions) and one document
/// per group version, with the paths kubectl checks for `fieldValidation` support and the schemas
/// `kubectl explain` walks.
///
/// Schemas are generated: the fields of each of Cairn's types come from the type's own `init(from:)`
/// (`TypeShape`), named and described as Kubernetes names and describes them (UpstreamSchema and the
/// upstream descriptions), with the list extensions kubectl's patching reads
/// (x-kubernetes-patch-merge-key/-strategy, x-kubernetes-list-type/-map-keys). Parts Cairn keeps as
/// opaque JSON (a container's env, a Service's spec) are described by Kubernetes' own schema of
/// them, so kubectl computes the same patches for them as against a real cluster.
public enum OpenAPI {
    /// The document's path under /openapi/v3: "api/v1", "apis/apps/v1".
    public static func path(_ gv: GroupVersion) -> String { gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)" }

    /// GET /openapi/v3.
    public static func index() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for gv in GroupVersion.all {
            paths[path(gv)] = ["serverRelativeURL": .string("/openapi/v3/\(path(gv))?hash=\(documents[gv]!.hash)")]
        }
        return ["paths": .object(paths)]
    }

    /// GET /openapi/v3/{path}: the document, its text, and the hash the index names it by (a client
    /// may cache a document as long as its hash stays the same).
    public static func document(_ gv: GroupVersion) -> (json: JSONValue, text: String, hash: String) { documents[gv]! }

    /// The group version an /openapi/v3/... path names, or nil.
    public static func groupVersion(forPath p: String) -> GroupVersion? {
        let trimmed = p.hasPrefix("/openapi/v3/") ? String(p.dropFirst("/openapi/v3/".count)) : p
        return GroupVersion.all.first { path($0) == trimmed }
    }

    static let documents: [GroupVersion: (json: JSONValue, text: String, hash: String)] = {
        var out: [GroupVersion: (JSONValue, String, String)] = [:]
        for gv in GroupVersion.all {
            var builder = OpenAPIBuilder(gv)
            let doc = builder.build()
            let text = doc.jsonText()
            out[gv] = (doc, text, fnv1a(text))
        }
        return out
    }()

    /// A stable content hash (FNV-1a 64 bits, upper-case hex, as long as kube-apiserver's).
    static func fnv1a(_ s: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h ^= UInt64(b); h = h &* 0x100000001b3 }
        let hex = String(h, radix: 16, uppercase: true)
        let part = String(repeating: "0", count: 16 - hex.count) + hex
        return part + part.reversed()
    }

    /// The component name of an upstream type: "io.k8s.api.apps.v1.StatefulSet".
    public static func componentName(_ upstream: String) -> String {
        if upstream.hasPrefix("meta.v1.") { return "io.k8s.apimachinery.pkg.apis.meta.v1." + upstream.dropFirst("meta.v1.".count) }
        return "io.k8s.api." + upstream
    }

    static let quantityName = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    static let timeName = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    static let intOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

    static let docs: [String: [String: String]] = {
        guard case .object(let types)? = try? JSONValue.parse(UpstreamDocsTable.json) else { return [:] }
        var out: [String: [String: String]] = [:]
        for (t, fields) in types {
            var d: [String: String] = [:]
            for (f, v) in fields.objectValue ?? [:] { d[f] = v.stringValue }
            out[t] = d
        }
        return out
    }()
}

/// Builds one group version's document.
struct OpenAPIBuilder {
    let gv: GroupVersion
    var components: [String: JSONValue] = [:]
    /// Upstream types some opaque-JSON field needs described from Kubernetes' schema.
    var upstreamNeeded: [String] = []
    /// Component names made from Cairn's types, with the Swift type each came from.
    var fromCairn: [String: ObjectIdentifier] = [:]

    init(_ gv: GroupVersion) { self.gv = gv }

    static let rootKinds: [String: Kind] = Dictionary(uniqueKeysWithValues: Kind.allCases.map { (UpstreamSchema.root($0), $0) })

    mutating func build() -> JSONValue {
        for kind in gv.kinds { cairnComponent(kind.objectType, upstream: UpstreamSchema.root(kind)) }
        var i = 0
        while i < upstreamNeeded.count { upstreamComponent(upstreamNeeded[i]); i += 1 }
        addLeafComponents()
        components["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] = [
            "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", "type": "object"]
        var paths: [String: JSONValue] = [:]
        for kind in gv.kinds { addPaths(kind, &paths) }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": "v1.32.0"],
            "paths": .object(paths),
            "components": ["schemas": .object(components)],
        ]
    }

    // MARK: schemas from Cairn's types

    func description(_ upstream: String?, _ field: String) -> String? {
        guard let upstream else { return nil }
        return OpenAPI.docs[upstream]?[field]
    }

    static func gvk(_ kind: Kind) -> JSONValue {
        ["group": .string(kind.group), "kind": .string(kind.rawValue), "version": .string(kind.version)]
    }

    /// The component for a Cairn struct; returns its name.
    @discardableResult
    mutating func cairnComponent(_ type: any Decodable.Type, upstream: String?) -> String {
        let name = upstream.map(OpenAPI.componentName) ?? "io.cairn.v1.\(String(describing: type))"
        let id = ObjectIdentifier(type)
        if let existing = fromCairn[name], existing == id { return name }
        let merging = fromCairn[name] != nil
        fromCairn[name] = id
        if !merging { components[name] = [:] }
        let shape = TypeShape.of(type)
        var properties = components[name]?["properties"]?.objectValue ?? [:]
        var required = (components[name]?["required"]?.arrayValue ?? []).compactMap(\.stringValue)
        for f in shape.fields {
            let up = upstream.flatMap { UpstreamSchema.field(f.name, of: $0) }
            var schema = fieldSchema(f.type, upstream: up?.type)
            if case .object(var o) = schema {
                if let d = description(upstream, f.name) { o["description"] = .string(d) }
                if let up, schema["type"] == "array" {
                    if !up.strategies.isEmpty { o["x-kubernetes-patch-strategy"] = .string(up.strategies.joined(separator: ",")) }
                    if let k = up.mergeKey { o["x-kubernetes-patch-merge-key"] = .string(k) }
                    if let l = up.listType { o["x-kubernetes-list-type"] = .string(l) }
                    if !up.mapKeys.isEmpty { o["x-kubernetes-list-map-keys"] = .array(up.mapKeys.map { .string($0) }) }
                }
                schema = .object(o)
            }
            properties[f.name] = schema
            if f.required && !required.contains(f.name) { required.append(f.name) }
        }
        var component: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if let d = description(upstream, "") { component["description"] = .string(d) }
        if !required.isEmpty { component["required"] = .array(required.map { .string($0) }) }
        if let upstream, let kind = Self.rootKinds[upstream] { component["x-kubernetes-group-version-kind"] = [Self.gvk(kind)] }
        components[name] = .object(component)
        return name
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// A property's schema: leaves inline or by reference, structs by `allOf: [$ref]` as upstream writes them.
    mutating func fieldSchema(_ t: TypeShape.ShapeType, upstream: SchemaType?, inCollection: Bool = false) -> JSONValue {
        switch t {
        case .string:
            if case .scalar("intOrString")? = upstream { return wrap(OpenAPI.intOrStringName, inCollection) }
            return ["type": "string"]
        case .integer(let format): return ["type": "integer", "format": .string(format)]
        case .number: return ["type": "number", "format": "double"]
        case .boolean: return ["type": "boolean"]
        case .quantity: return wrap(OpenAPI.quantityName, inCollection)
        case .time: return wrap(OpenAPI.timeName, inCollection)
        case .json:
            if let upstream { return upstreamSchema(upstream, inCollection: inCollection) }
            return ["x-kubernetes-preserve-unknown-fields": true]
        case .array(let e):
            var element: SchemaType? = nil
            if case .list(let u)? = upstream { element = u }
            return ["type": "array", "items": fieldSchema(e, upstream: element, inCollection: true)]
        case .map(let v):
            var value: SchemaType? = nil
            if case .map(let u)? = upstream { value = u }
            return ["type": "object", "additionalProperties": fieldSchema(v, upstream: value, inCollection: true)]
        case .object(let box):
            var upName: String? = nil
            if case .object(let n)? = upstream { upName = n }
            let name = cairnComponent(box.type, upstream: upName)
            return wrap(name, inCollection)
        }
    }

    func wrap(_ name: String, _ inCollection: Bool) -> JSONValue {
        inCollection ? Self.ref(name) : ["allOf": [Self.ref(name)]]
    }

    // MARK: schemas from Kubernetes' types (for opaque JSON)

    mutating func upstreamSchema(_ t: SchemaType, inCollection: Bool) -> JSONValue {
        switch t {
        case .scalar(let s):
            switch s {
            case "string", "bytes": return ["type": "string"]
            case "integer": return ["type": "integer", "format": "int64"]
            case "number": return ["type": "number", "format": "double"]
            case "boolean": return ["type": "boolean"]
            case "quantity": return wrap(OpenAPI.quantityName, inCollection)
            case "time": return wrap(OpenAPI.timeName, inCollection)
            case "intOrString": return wrap(OpenAPI.intOrStringName, inCollection)
            default: return ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            }
        case .list(let e): return ["type": "array", "items": upstreamSchema(e, inCollection: true)]
        case .map(let v): return ["type": "object", "additionalProperties": upstreamSchema(v, inCollection: true)]
        case .object(let n):
            let name = OpenAPI.componentName(n)
            if fromCairn[name] == nil && !upstreamNeeded.contains(n) { upstreamNeeded.append(n) }
            return wrap(name, inCollection)
        }
    }

    mutating func upstreamComponent(_ upstream: String) {
        let name = OpenAPI.componentName(upstream)
        guard fromCairn[name] == nil, components[name] == nil, let fields = UpstreamSchema.fields(of: upstream) else { return }
        components[name] = [:]
        var properties: [String: JSONValue] = [:]
        for (fieldName, f) in fields {
            guard case .object(var o) = upstreamSchema(f.type, inCollection: false) else { continue }
            if let d = description(upstream, fieldName) { o["description"] = .string(d) }
            if case .list = f.type {
                if !f.strategies.isEmpty { o["x-kubernetes-patch-strategy"] = .string(f.strategies.joined(separator: ",")) }
                if let k = f.mergeKey { o["x-kubernetes-patch-merge-key"] = .string(k) }
                if let l = f.listType { o["x-kubernetes-list-type"] = .string(l) }
                if !f.mapKeys.isEmpty { o["x-kubernetes-list-map-keys"] = .array(f.mapKeys.map { .string($0) }) }
            }
            properties[fieldName] = .object(o)
        }
        var component: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if let d = description(upstream, "") { component["description"] = .string(d) }
        components[name] = .object(component)
    }

    mutating func addLeafComponents() {
        components[OpenAPI.quantityName] = [
            "description": "Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the \"\" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | <digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits> <sign>            ::= \"+\" | \"-\" <signedNumber>    ::= <number> | <sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | \"\" | k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn't choose the capitalization.)\n\n<decimalExponent> ::= \"e\" <signedNumber> | \"E\" <signedNumber> ```",
            "oneOf": [["type": "string"], ["type": "number"]],
        ]
        components[OpenAPI.timeName] = [
            "description": "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
            "type": "string", "format": "date-time",
        ]
        components[OpenAPI.intOrStringName] = [
            "description": "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
            "format": "int-or-string", "oneOf": [["type": "integer"], ["type": "string"]],
        ]
    }

    // MARK: paths

    static func queryParameter(_ name: String, _ description: String, type: String = "string") -> JSONValue {
        ["name": .string(name), "in": "query", "description": .string(description), "schema": ["type": .string(type), "uniqueItems": true]]
    }

    static let dryRun = queryParameter("dryRun", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed")
    static let fieldManager = queryParameter("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.")
    static let fieldValidation = queryParameter("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.")
    static let force = queryParameter("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.", type: "boolean")

    func operation(_ kind: Kind, action: String, verb: String, namespaced: Bool, body: String?, parameters: [JSONValue], response: String) -> JSONValue {
        let groupWord = kind.group.isEmpty ? "Core" : kind.group.split(separator: ".").first!.capitalized
        let opID = "\(verb)\(groupWord)\(kind.version.capitalized)\(namespaced ? "Namespaced" : "")\(kind.rawValue)"
        var op: [String: JSONValue] = [
            "operationId": .string(opID),
            "parameters": .array(parameters),
            "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": Self.ref(response)]]]],
            "x-kubernetes-action": .string(action),
            "x-kubernetes-group-version-kind": Self.gvk(kind),
        ]
        if let body {
            if body == "patch" {
                var content: [String: JSONValue] = [:]
                for t in PatchType.allCases { content[t.rawValue] = ["schema": Self.ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch")] }
                op["requestBody"] = ["content": .object(content), "required": true]
            } else {
                op["requestBody"] = ["content": ["*/*": ["schema": Self.ref(body)]], "required": true]
            }
        }
        return .object(op)
    }

    func addPaths(_ kind: Kind, _ paths: inout [String: JSONValue]) {
        let base = kind.group.isEmpty ? "/api/\(kind.version)" : "/apis/\(kind.group)/\(kind.version)"
        let collection = kind.namespaced ? "\(base)/namespaces/{namespace}/\(kind.resource)" : "\(base)/\(kind.resource)"
        let item = "\(collection)/{name}"
        let object = OpenAPI.componentName(UpstreamSchema.root(kind))
        let ns = kind.namespaced
        let pathParams: [JSONValue] = (ns ? [["name": "namespace", "in": "path", "required": true, "description": "object name and auth scope, such as for teams and projects", "schema": ["type": "string", "uniqueItems": true]]] : [])
            + [["name": "pretty", "in": "query", "description": "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).", "schema": ["type": "string", "uniqueItems": true]]]
        paths[collection] = [
            "get": operation(kind, action: "list", verb: "list", namespaced: ns, body: nil, parameters: [], response: object),
            "post": operation(kind, action: "post", verb: "create", namespaced: ns, body: object, parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation], response: object),
            "parameters": .array(pathParams),
        ]
        let nameParam: JSONValue = ["name": "name", "in": "path", "required": true, "description": .string("name of the \(kind.rawValue)"), "schema": ["type": "string", "uniqueItems": true]]
        paths[item] = [
            "get": operation(kind, action: "get", verb: "read", namespaced: ns, body: nil, parameters: [], response: object),
            "put": operation(kind, action: "put", verb: "replace", namespaced: ns, body: object, parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation], response: object),
            "patch": operation(kind, action: "patch", verb: "patch", namespaced: ns, body: "patch", parameters: [Self.dryRun, Self.fieldManager, Self.fieldValidation, Self.force], response: object),
            "delete": operation(kind, action: "delete", verb: "delete", namespaced: ns, body: nil, parameters: [Self.dryRun], response: object),
            "parameters": .array([nameParam] + pathParams),
        ]
    }
}
