import Foundation

/// Encodes an `Encodable` straight into a `JSONValue` tree, the inverse of `JSONTreeDecoder`.
///
/// Why: every write turns its typed object into a tree (to store it, diff it, serve it), and doing
/// that through Foundation's JSONEncoder and then parsing the text back was about a seventh of the
/// daemon's CPU while a StatefulSet of a thousand replicas started. Values Foundation treats
/// specially (Double, Float, unsigned 64-bit, Date, Data, URL, Decimal) are still encoded by Foundation, one value at a
/// time, so the tree is exactly what parsing Foundation's text would give.
public struct JSONTreeEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = TreeNode()
        try TreeEncoder(node: root, codingPath: []).encodeValue(value)
        return root.json
    }
}

/// One node of the tree being built; containers write into the node their parent handed them.
private final class TreeNode {
    var scalar: JSONValue?
    var object: [String: TreeNode]?
    var array: [TreeNode]?

    var json: JSONValue {
        if let object { return .object(object.mapValues(\.json)) }
        if let array { return .array(array.map(\.json)) }
        return scalar ?? .object([:])
    }

    func asObject() -> TreeNode {
        if object == nil { object = [:]; scalar = nil; array = nil }
        return self
    }
    func asArray() -> TreeNode {
        if array == nil { array = []; scalar = nil; object = nil }
        return self
    }
}

/// What Foundation makes of a number it prints itself (doubles, and unsigned values past Int64).
private func foundationScalar<T: Encodable>(_ value: T) throws -> JSONValue {
    try JSONText.parse(JSONCoding.encoder.encode(value))
}

private struct TreeEncoder: Encoder {
    let node: TreeNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeValue<T: Encodable>(_ value: T) throws {
        if let v = value as? JSONValue { node.scalar = v; return }
        if value is Double || value is Float || value is Date || value is Data || value is URL || value is Decimal {
            node.scalar = try foundationScalar(value)
            return
        }
        try value.encode(to: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedTreeEncoder<Key>(node: node.asObject(), codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedTreeEncoder(node: node.asArray(), codingPath: codingPath) }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleTreeEncoder(node: node, codingPath: codingPath) }
}

private struct AnyEncodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

private struct KeyedTreeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: TreeNode
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue, _ key: Key) {
        let child = TreeNode()
        child.scalar = value
        node.object?[key.stringValue] = child
    }
    private func child(_ key: Key) -> TreeNode {
        let child = TreeNode()
        node.object?[key.stringValue] = child
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(try foundationScalar(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(try foundationScalar(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(try foundationScalar(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(try foundationScalar(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try TreeEncoder(node: child(key), codingPath: codingPath + [key]).encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedTreeEncoder<NestedKey>(node: child(key).asObject(), codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedTreeEncoder(node: child(key).asArray(), codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder {
        let c = TreeNode()
        node.object?["super"] = c
        return TreeEncoder(node: c, codingPath: codingPath + [AnyEncodingKey(stringValue: "super")])
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(node: child(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedTreeEncoder: UnkeyedEncodingContainer {
    let node: TreeNode
    let codingPath: [any CodingKey]
    var count: Int { node.array?.count ?? 0 }

    private func append(_ value: JSONValue) {
        let child = TreeNode()
        child.scalar = value
        node.array?.append(child)
    }
    private func next() -> (TreeNode, [any CodingKey]) {
        let child = TreeNode()
        let path = codingPath + [AnyEncodingKey(intValue: count)]
        node.array?.append(child)
        return (child, path)
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt) throws { append(try foundationScalar(value)) }
    mutating func encode(_ value: UInt64) throws { append(try foundationScalar(value)) }
    mutating func encode(_ value: Double) throws { append(try foundationScalar(value)) }
    mutating func encode(_ value: Float) throws { append(try foundationScalar(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let (child, path) = next()
        try TreeEncoder(node: child, codingPath: path).encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let (child, path) = next()
        return KeyedEncodingContainer(KeyedTreeEncoder<NestedKey>(node: child.asObject(), codingPath: path))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let (child, path) = next()
        return UnkeyedTreeEncoder(node: child.asArray(), codingPath: path)
    }
    mutating func superEncoder() -> any Encoder {
        let (child, path) = next()
        return TreeEncoder(node: child, codingPath: path)
    }
}

private struct SingleTreeEncoder: SingleValueEncodingContainer {
    let node: TreeNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.scalar = .null }
    mutating func encode(_ value: Bool) throws { node.scalar = .bool(value) }
    mutating func encode(_ value: String) throws { node.scalar = .string(value) }
    mutating func encode(_ value: Int) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: Int8) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: Int16) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: Int64) throws { node.scalar = .int(value) }
    mutating func encode(_ value: UInt8) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: UInt16) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: UInt32) throws { node.scalar = .int(Int64(value)) }
    mutating func encode(_ value: UInt) throws { node.scalar = try foundationScalar(value) }
    mutating func encode(_ value: UInt64) throws { node.scalar = try foundationScalar(value) }
    mutating func encode(_ value: Double) throws { node.scalar = try foundationScalar(value) }
    mutating func encode(_ value: Float) throws { node.scalar = try foundationScalar(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try TreeEncoder(node: node, codingPath: codingPath).encodeValue(value) }
}
