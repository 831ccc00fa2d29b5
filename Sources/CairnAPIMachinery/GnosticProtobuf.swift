import CairnCore

/// A Swagger 2.0 document in the protobuf form kube-apiserver serves for
/// `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`: the message
/// `openapi.v2.Document` of gnostic's OpenAPIv2.proto, written from its field numbers (proto3: a
/// scalar at its zero value is left out, messages and repeated fields in order).
///
/// Vendor extensions (`x-kubernetes-group-version-kind`, `x-kubernetes-patch-merge-key`, ...) are
/// `NamedAny` whose `Any.yaml` holds the value's text; JSON is YAML, so that text is the JSON.
public enum GnosticProtobuf {
    public static let mediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

    /// The encoded `Document`.
    public static func document(_ swagger: JSONValue) -> [UInt8] {
        var m = ProtoWriter()
        m.string(1, swagger["swagger"]?.stringValue)
        if let info = swagger["info"] {
            var i = ProtoWriter()
            i.string(1, info["title"]?.stringValue)
            i.string(2, info["version"]?.stringValue)
            i.string(3, info["description"]?.stringValue)
            m.message(2, i)
        }
        if case .object(let paths)? = swagger["paths"] {
            var p = ProtoWriter()
            for name in paths.keys.sorted() {
                var named = ProtoWriter()
                named.string(1, name)
                named.message(2, pathItem(paths[name]!))
                p.message(2, named)
            }
            m.message(8, p)
        }
        if case .object(let defs)? = swagger["definitions"] {
            var d = ProtoWriter()
            for name in defs.keys.sorted() { d.message(1, namedSchema(name, defs[name]!)) }
            m.message(9, d)
        }
        return m.bytes
    }

    static let operationFields: [(String, Int)] = [("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("options", 6), ("head", 7), ("patch", 8)]

    static func pathItem(_ item: JSONValue) -> ProtoWriter {
        var m = ProtoWriter()
        m.string(1, item["$ref"]?.stringValue)
        for (name, field) in operationFields {
            if let op = item[name] { m.message(field, operation(op)) }
        }
        for p in item["parameters"]?.arrayValue ?? [] { m.message(9, parametersItem(p)) }
        vendorExtensions(item, 10, &m)
        return m
    }

    static func operation(_ op: JSONValue) -> ProtoWriter {
        var m = ProtoWriter()
        m.strings(1, op["tags"])
        m.string(2, op["summary"]?.stringValue)
        m.string(3, op["description"]?.stringValue)
        m.string(5, op["operationId"]?.stringValue)
        m.strings(6, op["produces"])
        m.strings(7, op["consumes"])
        for p in op["parameters"]?.arrayValue ?? [] { m.message(8, parametersItem(p)) }
        if case .object(let responses)? = op["responses"] {
            var r = ProtoWriter()
            for code in responses.keys.sorted() {
                let response = responses[code]!
                var resp = ProtoWriter()
                resp.string(1, response["description"]?.stringValue)
                if let schema = response["schema"] {
                    var item = ProtoWriter()
                    item.message(1, self.schema(schema))
                    resp.message(2, item)
                }
                var value = ProtoWriter()
                value.message(1, resp)
                var named = ProtoWriter()
                named.string(1, code)
                named.message(2, value)
                r.message(1, named)
            }
            m.message(9, r)
        }
        m.strings(10, op["schemes"])
        m.bool(11, op["deprecated"])
        vendorExtensions(op, 13, &m)
        return m
    }

    /// `ParametersItem { Parameter { BodyParameter | NonBodyParameter { header | formData | query | path } } }`.
    static func parametersItem(_ p: JSONValue) -> ProtoWriter {
        var parameter = ProtoWriter()
        let location = p["in"]?.stringValue ?? ""
        if location == "body" {
            var body = ProtoWriter()
            body.string(1, p["description"]?.stringValue)
            body.string(2, p["name"]?.stringValue)
            body.string(3, location)
            body.bool(4, p["required"])
            if let s = p["schema"] { body.message(5, schema(s)) }
            vendorExtensions(p, 6, &body)
            parameter.message(1, body)
        } else {
            // The sub-schemas share their first fields; where type and the rest start differs.
            var sub = ProtoWriter()
            sub.bool(1, p["required"])
            sub.string(2, location)
            sub.string(3, p["description"]?.stringValue)
            sub.string(4, p["name"]?.stringValue)
            let oneofField: Int
            switch location {
            case "query", "formData":
                sub.bool(5, p["allowEmptyValue"])
                sub.string(6, p["type"]?.stringValue)
                sub.string(7, p["format"]?.stringValue)
                sub.bool(20, p["uniqueItems"])
                vendorExtensions(p, 23, &sub)
                oneofField = location == "query" ? 3 : 2
            default:
                sub.string(5, p["type"]?.stringValue)
                sub.string(6, p["format"]?.stringValue)
                sub.bool(19, p["uniqueItems"])
                vendorExtensions(p, 22, &sub)
                oneofField = location == "header" ? 1 : 4
            }
            var nonBody = ProtoWriter()
            nonBody.message(oneofField, sub)
            parameter.message(2, nonBody)
        }
        var item = ProtoWriter()
        item.message(1, parameter)
        return item
    }

    static func namedSchema(_ name: String, _ s: JSONValue) -> ProtoWriter {
        var named = ProtoWriter()
        named.string(1, name)
        named.message(2, schema(s))
        return named
    }

    static func schema(_ s: JSONValue) -> ProtoWriter {
        var m = ProtoWriter()
        m.string(1, s["$ref"]?.stringValue)
        m.string(2, s["format"]?.stringValue)
        m.string(3, s["title"]?.stringValue)
        m.string(4, s["description"]?.stringValue)
        if let d = s["default"] { m.message(5, any(d)) }
        m.bool(16, s["uniqueItems"])
        m.strings(19, s["required"])
        for e in s["enum"]?.arrayValue ?? [] { m.message(20, any(e)) }
        switch s["additionalProperties"] {
        case .object?:
            var ap = ProtoWriter()
            ap.message(1, schema(s["additionalProperties"]!))
            m.message(21, ap)
        case .bool(let b)?:
            var ap = ProtoWriter()
            ap.boolAlways(2, b)
            m.message(21, ap)
        default: break
        }
        if let t = s["type"] {
            var type = ProtoWriter()
            switch t {
            case .string(let one): type.string(1, one)
            case .array(let many): for case .string(let one) in many { type.string(1, one) }
            default: break
            }
            m.message(22, type)
        }
        if let items = s["items"] {
            var list = ProtoWriter()
            switch items {
            case .array(let schemas): for i in schemas { list.message(1, schema(i)) }
            default: list.message(1, schema(items))
            }
            m.message(23, list)
        }
        for a in s["allOf"]?.arrayValue ?? [] { m.message(24, schema(a)) }
        if case .object(let props)? = s["properties"] {
            var p = ProtoWriter()
            for name in props.keys.sorted() { p.message(1, namedSchema(name, props[name]!)) }
            m.message(25, p)
        }
        m.bool(27, s["readOnly"])
        vendorExtensions(s, 31, &m)
        return m
    }

    /// `Any { yaml }`: the value's text.
    static func any(_ v: JSONValue) -> ProtoWriter {
        var m = ProtoWriter()
        m.stringAlways(2, v.jsonText())
        return m
    }

    /// Every `x-` key, sorted, as `NamedAny` at `field`.
    static func vendorExtensions(_ object: JSONValue, _ field: Int, _ m: inout ProtoWriter) {
        guard case .object(let o) = object else { return }
        for key in o.keys.sorted() where key.hasPrefix("x-") {
            var named = ProtoWriter()
            named.string(1, key)
            named.message(2, any(o[key]!))
            m.message(field, named)
        }
    }
}

/// Protocol buffers' wire format, the few types gnostic's messages use.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// A string, left out when empty (proto3).
    mutating func string(_ field: Int, _ s: String?) {
        guard let s, !s.isEmpty else { return }
        stringAlways(field, s)
    }

    mutating func stringAlways(_ field: Int, _ s: String) {
        key(field, 2)
        let utf8 = Array(s.utf8)
        varint(UInt64(utf8.count))
        bytes += utf8
    }

    /// Each string of a JSON array, in order.
    mutating func strings(_ field: Int, _ list: JSONValue?) {
        for case .string(let s) in list?.arrayValue ?? [] { stringAlways(field, s) }
    }

    /// A boolean, left out when false or absent.
    mutating func bool(_ field: Int, _ v: JSONValue?) {
        guard case .bool(true)? = v else { return }
        boolAlways(field, true)
    }

    mutating func boolAlways(_ field: Int, _ b: Bool) {
        key(field, 0)
        varint(b ? 1 : 0)
    }

    /// An embedded message, written even when empty (its presence is meaningful in a oneof).
    mutating func message(_ field: Int, _ m: ProtoWriter) {
        key(field, 2)
        varint(UInt64(m.bytes.count))
        bytes += m.bytes
    }
}
