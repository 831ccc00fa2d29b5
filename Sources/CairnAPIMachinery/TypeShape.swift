import CairnCore
import Foundation

/// What a Decodable type reads, learnt by running its own `init(from:)` against a recording
/// decoder: the keys it asks for, in order, each with its Swift type and whether it is required.
/// So the OpenAPI document describes exactly what Cairn's types accept, not a hand-written copy.
public struct TypeShape: Sendable {
    public struct Field: Sendable {
        public var name: String
        public var type: ShapeType
        public var required: Bool
    }
    public var fields: [Field]

    /// A field's type as the schema needs it.
    public indirect enum ShapeType: Sendable {
        case string, integer(format: String), number, boolean
        /// resource.Quantity: a string or a number.
        case quantity
        /// metav1.Time: an RFC 3339 string.
        case time
        /// Opaque JSON that Cairn keeps as given.
        case json
        case array(ShapeType)
        case map(ShapeType)
        case object(TypeBox)
    }

    nonisolated(unsafe) static var cache: [ObjectIdentifier: TypeShape] = [:]
    static let lock = NSLock()

    /// The shape of a struct type (memoized).
    public static func of(_ type: any Decodable.Type) -> TypeShape {
        let id = ObjectIdentifier(type)
        lock.lock()
        if let s = cache[id] { lock.unlock(); return s }
        lock.unlock()
        let recorder = ShapeRecorder()
        _ = try? type.init(from: RecordingDecoder(recorder: recorder))
        let shape = TypeShape(fields: recorder.fields)
        lock.lock()
        cache[id] = shape
        lock.unlock()
        return shape
    }

    /// The shape type of a Swift type: leaves by identity, collections by their element, the rest structs.
    public static func shapeType(_ type: any Decodable.Type) -> ShapeType {
        if type == String.self { return .string }
        if type == Int32.self || type == UInt32.self { return .integer(format: "int32") }
        if type == Int64.self || type == Int.self || type == UInt64.self { return .integer(format: "int64") }
        if type == Double.self || type == Float.self { return .number }
        if type == Bool.self { return .boolean }
        if type == Quantity.self { return .quantity }
        if type == Time.self { return .time }
        if type == JSONValue.self { return .json }
        if let a = type as? any ArrayShape.Type { return .array(shapeType(a.elementType)) }
        if let d = type as? any StringDictionaryShape.Type { return .map(shapeType(d.valueType)) }
        if let o = type as? any OptionalShape.Type { return shapeType(o.wrappedType) }
        if let r = type as? any RawRepresentableStringShape.Type, r.isString { return .string }
        if let r = type as? any RawRepresentable.Type, rawValueIsString(r) { return .string }
        return .object(TypeBox(type: type))
    }

    /// A dummy value of `type`, to let an init(from:) that requires a field run to its end.
    static func placeholder<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Quantity.self { return Quantity.zero as! T }
        if type == Time.self { return Time(Date(timeIntervalSince1970: 0)) as! T }
        if type == JSONValue.self { return JSONValue.null as! T }
        // A string enum (a phase, a condition status) decodes no placeholder string: take a case.
        if let c = type as? any CaseIterable.Type, let first = firstCase(c) as? T { return first }
        return try T(from: PlaceholderDecoder())
    }

    static func firstCase<C: CaseIterable>(_ c: C.Type) -> Any? { C.allCases.first }
    static func rawValueIsString<R: RawRepresentable>(_ r: R.Type) -> Bool { R.RawValue.self == String.self }
}

/// A struct type, carried to where its own shape is learnt.
public struct TypeBox: @unchecked Sendable {
    public let type: any Decodable.Type
}

protocol ArrayShape { static var elementType: any Decodable.Type { get } }
extension Array: ArrayShape where Element: Decodable { static var elementType: any Decodable.Type { Element.self } }
protocol StringDictionaryShape { static var valueType: any Decodable.Type { get } }
extension Dictionary: StringDictionaryShape where Key == String, Value: Decodable { static var valueType: any Decodable.Type { Value.self } }
protocol OptionalShape { static var wrappedType: any Decodable.Type { get } }
extension Optional: OptionalShape where Wrapped: Decodable { static var wrappedType: any Decodable.Type { Wrapped.self } }
protocol RawRepresentableStringShape { static var isString: Bool { get } }
extension Kind: RawRepresentableStringShape { static var isString: Bool { true } }

final class ShapeRecorder {
    var fields: [TypeShape.Field] = []
    func record(_ key: String, _ type: any Decodable.Type, required: Bool) {
        guard !fields.contains(where: { $0.name == key }) else { return }
        fields.append(TypeShape.Field(name: key, type: TypeShape.shapeType(type), required: required))
    }
}

/// Records the top-level keyed container's requests; anything nested is answered with placeholders.
struct RecordingDecoder: Decoder {
    let recorder: ShapeRecorder
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RecordingKeyedContainer<Key>(recorder: recorder))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { try PlaceholderDecoder().unkeyedContainer() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { try PlaceholderDecoder().singleValueContainer() }
}

struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: ShapeRecorder
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { [] }
    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        recorder.record(key.stringValue, type, required: true)
        return try TypeShape.placeholder(type)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        recorder.record(key.stringValue, type, required: false)
        return nil
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { recorder.record(key.stringValue, type, required: true); return false }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { recorder.record(key.stringValue, type, required: true); return "" }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { recorder.record(key.stringValue, type, required: true); return 0 }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { recorder.record(key.stringValue, type, required: true); return 0 }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { recorder.record(key.stringValue, type, required: true); return 0 }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { recorder.record(key.stringValue, type, required: true); return 0 }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { recorder.record(key.stringValue, type, required: false); return nil }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { recorder.record(key.stringValue, type, required: false); return nil }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { recorder.record(key.stringValue, type, required: false); return nil }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { recorder.record(key.stringValue, type, required: false); return nil }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { recorder.record(key.stringValue, type, required: false); return nil }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { recorder.record(key.stringValue, type, required: false); return nil }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try PlaceholderDecoder().container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try PlaceholderDecoder().unkeyedContainer() }
    func superDecoder() throws -> any Decoder { PlaceholderDecoder() }
    func superDecoder(forKey key: Key) throws -> any Decoder { PlaceholderDecoder() }
}

/// Answers every request with an empty or zero value, so a type's init(from:) completes.
struct PlaceholderDecoder: Decoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(PlaceholderKeyed<Key>())
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { PlaceholderUnkeyed() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { PlaceholderSingle() }

    struct PlaceholderKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { false }
        func decodeNil(forKey key: Key) throws -> Bool { true }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try TypeShape.placeholder(type) }
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { nil }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            KeyedDecodingContainer(PlaceholderKeyed<NestedKey>())
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { PlaceholderUnkeyed() }
        func superDecoder() throws -> any Decoder { PlaceholderDecoder() }
        func superDecoder(forKey key: Key) throws -> any Decoder { PlaceholderDecoder() }
    }

    struct PlaceholderUnkeyed: UnkeyedDecodingContainer {
        var codingPath: [any CodingKey] = []
        var count: Int? { 0 }
        var isAtEnd: Bool { true }
        var currentIndex: Int { 0 }
        mutating func decodeNil() throws -> Bool { true }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try TypeShape.placeholder(type) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            KeyedDecodingContainer(PlaceholderKeyed<NestedKey>())
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { PlaceholderUnkeyed() }
        mutating func superDecoder() throws -> any Decoder { PlaceholderDecoder() }
    }

    struct PlaceholderSingle: SingleValueDecodingContainer {
        var codingPath: [any CodingKey] = []
        func decodeNil() -> Bool { false }
        func decode(_ type: Bool.Type) throws -> Bool { false }
        func decode(_ type: String.Type) throws -> String { "" }
        func decode(_ type: Double.Type) throws -> Double { 0 }
        func decode(_ type: Float.Type) throws -> Float { 0 }
        func decode(_ type: Int.Type) throws -> Int { 0 }
        func decode(_ type: Int8.Type) throws -> Int8 { 0 }
        func decode(_ type: Int16.Type) throws -> Int16 { 0 }
        func decode(_ type: Int32.Type) throws -> Int32 { 0 }
        func decode(_ type: Int64.Type) throws -> Int64 { 0 }
        func decode(_ type: UInt.Type) throws -> UInt { 0 }
        func decode(_ type: UInt8.Type) throws -> UInt8 { 0 }
        func decode(_ type: UInt16.Type) throws -> UInt16 { 0 }
        func decode(_ type: UInt32.Type) throws -> UInt32 { 0 }
        func decode(_ type: UInt64.Type) throws -> UInt64 { 0 }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try TypeShape.placeholder(type) }
    }
}
