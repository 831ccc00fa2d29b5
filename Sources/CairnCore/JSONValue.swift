import Foundation

/// A JSON document as a value. Manifests are parsed into this first (so every field keeps its path, and
/// the YAML reader can attach line numbers to paths) and objects are stored in SQLite as its text.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        get { if case .object(let o) = self { return o[key] } else { return nil } }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    /// This value without the object key at `path` (components as `presentPaths` gives them: keys,
    /// and "[i]" for array elements); nil if the path does not lead to an object key.
    public func removing(_ path: [String]) -> JSONValue? {
        guard let first = path.first else { return nil }
        if first.hasPrefix("["), first.hasSuffix("]"), let i = Int(first.dropFirst().dropLast()) {
            guard case .array(var a) = self, i >= 0, i < a.count, let inner = a[i].removing(Array(path.dropFirst())) else { return nil }
            a[i] = inner
            return .array(a)
        }
        guard case .object(var o) = self, let child = o[first] else { return nil }
        if path.count == 1 {
            o[first] = nil
        } else {
            guard let inner = child.removing(Array(path.dropFirst())) else { return nil }
            o[first] = inner
        }
        return .object(o)
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }

    /// The JSON type name as Kubernetes' decoder reports it ("string", "number", "object", ...).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Converts any Encodable (a typed object) into a JSONValue tree.
    public init<T: Encodable>(encoding value: T) throws {
        if let v = value as? JSONValue { self = v; return }
        // The tree encoder gives the same tree without printing and parsing text; Foundation's
        // encoder stays for the errors (a NaN, say).
        if let v = try? JSONTreeEncoder().encode(value) { self = v; return }
        self = try JSONText.parse(JSONCoding.encoder.encode(value))
    }

    /// Decodes a typed value from this tree.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let v = self as? T { return v }
        // The tree decoder is several times faster; Foundation's, on any error, gives the messages
        // (and accepts the rare forms) users see.
        if let v = try? JSONTreeDecoder().decode(T.self, from: self) { return v }
        return try JSONCoding.decoder.decode(T.self, from: Data(JSONText.bytes(self)))
    }

    /// Compact JSON text with sorted keys (stable, so equal objects store as equal text).
    public func jsonText() -> String {
        JSONText.string(self)
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONText.parse(data)
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try JSONText.parse(text)
    }

    /// Every key path present in this tree whose value is not null, as ["spec", "replicas"], with array
    /// indices as "[0]". Used to find fields a typed decode did not keep (unknown fields).
    public func presentPaths(prefix: [String] = []) -> [[String]] {
        switch self {
        case .object(let o):
            var out: [[String]] = []
            for (k, v) in o where v != .null {
                out.append(prefix + [k])
                out += v.presentPaths(prefix: prefix + [k])
            }
            return out
        case .array(let a):
            var out: [[String]] = []
            for (i, v) in a.enumerated() { out += v.presentPaths(prefix: prefix + ["[\(i)]"]) }
            return out
        default:
            return []
        }
    }
}

/// The one JSON encoder/decoder configuration used everywhere: Kubernetes' RFC 3339 timestamps (seconds),
/// sorted keys for stable storage and output.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
    public static var decoder: JSONDecoder { JSONDecoder() }
}

/// Literals, so documents built in code (discovery, OpenAPI, tables) read like the JSON they make.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
}
