import CairnCore

/// OpenAPI v2 (Swagger 2.0) as kube-apiserver serves it at /openapi/v2, derived from Cairn's v3
/// documents (OpenAPI.swift) so both describe the same types. kubectl 1.27 and 1.28 read it, as
/// protobuf (GnosticProtobuf.swift), to decide that the server validates fields itself (the PATCH
/// operations' `fieldValidation` parameter), to compute client-side apply's strategic merge patches
/// (the patch extensions on each field) and for `kubectl explain`.
///
/// The conversion is kube-openapi's in reverse: `#/components/schemas/X` becomes `#/definitions/X`;
/// a reference wrapped in `allOf` to carry a description becomes the bare `$ref` (v2 has no siblings
/// beside `$ref`, and kube-apiserver's v2 carries none); `oneOf` of primitives (Quantity,
/// IntOrString) becomes `type: string` (with its format), as kube-apiserver's v2 writes them; request
/// bodies become `in: body` parameters and parameter schemas are inlined.
public enum OpenAPIV2 {
    /// The one v2 document, every served group version in it.
    public static let document: JSONValue = build()

    static func build() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var definitions: [String: JSONValue] = [:]
        for gv in GroupVersion.all {
            let v3 = OpenAPI.document(gv).json
            for (name, schema) in v3["components"]?["schemas"]?.objectValue ?? [:] where definitions[name] == nil {
                definitions[name] = convertSchema(schema)
            }
            for (path, item) in v3["paths"]?.objectValue ?? [:] {
                paths[path] = convertPathItem(item)
            }
        }
        return [
            "swagger": "2.0",
            "info": ["title": "Kubernetes", "version": .string(Discovery.version()["gitVersion"]?.stringValue ?? "v1.32.0")],
            "paths": .object(paths),
            "definitions": .object(definitions),
        ]
    }

    static let refPrefixV3 = "#/components/schemas/"

    static func convertSchema(_ schema: JSONValue) -> JSONValue {
        guard case .object(var s) = schema else { return schema }
        if let ref = s["$ref"]?.stringValue {
            return ["$ref": .string(ref.replacingPrefix(refPrefixV3, with: "#/definitions/"))]
        }
        if case .array(let all)? = s["allOf"], all.count == 1, let ref = all[0]["$ref"]?.stringValue {
            return ["$ref": .string(ref.replacingPrefix(refPrefixV3, with: "#/definitions/"))]
        }
        if s["oneOf"] != nil || s["anyOf"] != nil {
            s["oneOf"] = nil
            s["anyOf"] = nil
            s["type"] = "string"
        }
        s["nullable"] = nil
        if case .object(let props)? = s["properties"] { s["properties"] = .object(props.mapValues(convertSchema)) }
        if let items = s["items"] { s["items"] = convertSchema(items) }
        if case .object? = s["additionalProperties"], let ap = s["additionalProperties"] { s["additionalProperties"] = convertSchema(ap) }
        return .object(s)
    }

    static func convertPathItem(_ item: JSONValue) -> JSONValue {
        guard case .object(let i) = item else { return item }
        var out: [String: JSONValue] = [:]
        for (key, value) in i {
            switch key {
            case "parameters":
                out[key] = .array((value.arrayValue ?? []).map(convertParameter))
            case "get", "put", "post", "delete", "options", "head", "patch":
                out[key] = convertOperation(value)
            default:
                out[key] = value
            }
        }
        return .object(out)
    }

    static func convertOperation(_ op: JSONValue) -> JSONValue {
        guard case .object(let o) = op else { return op }
        var out: [String: JSONValue] = [:]
        var parameters = (o["parameters"]?.arrayValue ?? []).map(convertParameter)
        var consumes: [String] = []
        var produces = Set<String>()
        for (key, value) in o {
            switch key {
            case "parameters", "requestBody": break
            case "responses":
                var responses: [String: JSONValue] = [:]
                for (code, response) in value.objectValue ?? [:] {
                    var r: [String: JSONValue] = ["description": response["description"] ?? ""]
                    if let content = response["content"]?.objectValue {
                        produces.formUnion(content.keys)
                        if let schema = content.values.first?["schema"] { r["schema"] = convertSchema(schema) }
                    }
                    responses[code] = .object(r)
                }
                out[key] = .object(responses)
            default:
                out[key] = value
            }
        }
        if let body = o["requestBody"], let content = body["content"]?.objectValue {
            consumes = content.keys.sorted()
            parameters.append([
                "name": "body", "in": "body", "required": body["required"] ?? true,
                "schema": convertSchema(content.values.first?["schema"] ?? .object([:])),
            ])
        }
        out["parameters"] = .array(parameters)
        if !consumes.isEmpty { out["consumes"] = .array(consumes.map { .string($0) }) }
        if !produces.isEmpty { out["produces"] = .array(produces.sorted().map { .string($0) }) }
        return .object(out)
    }

    /// v3 `{name, in, schema: {type, uniqueItems}}` as v2's `{name, in, type, uniqueItems}`.
    static func convertParameter(_ p: JSONValue) -> JSONValue {
        guard case .object(var o) = p else { return p }
        if case .object(let schema)? = o["schema"] {
            o["schema"] = nil
            for (k, v) in schema { o[k] = v }
        }
        return .object(o)
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with other: String) -> String {
        hasPrefix(prefix) ? other + dropFirst(prefix.count) : self
    }
}
