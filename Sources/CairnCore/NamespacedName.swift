/// types.NamespacedName: how controllers and indexes name an object of a known kind. The namespace is
/// "" for cluster-scoped kinds.
public struct NamespacedName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(_ namespace: String?, _ name: String) {
        self.namespace = namespace ?? ""
        self.name = name
    }

    public init(_ object: some KubeObject) { self.init(object.metadata.namespace, object.name) }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (a: NamespacedName, b: NamespacedName) -> Bool {
        a.namespace != b.namespace ? a.namespace < b.namespace : a.name < b.name
    }
}

/// An object of any kind, by kind and name: the garbage collector's and the watch's unit.
public struct ObjectRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var kind: Kind
    public var key: NamespacedName

    public init(_ kind: Kind, _ key: NamespacedName) {
        self.kind = kind
        self.key = key
    }

    public init(_ object: any KubeObject) {
        self.init(type(of: object).kind, NamespacedName(object.metadata.namespace, object.name))
    }

    public var description: String { "\(kind.rawValue) \(key)" }

    public static func < (a: ObjectRef, b: ObjectRef) -> Bool {
        a.kind.rawValue != b.kind.rawValue ? a.kind.rawValue < b.kind.rawValue : a.key < b.key
    }
}
