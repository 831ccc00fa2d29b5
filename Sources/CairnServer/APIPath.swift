import CairnCore

/// A parsed Kubernetes REST path: `/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}` and the
/// `/apis/{group}/{version}/...` equivalents.
public struct APIPath: Sendable, Hashable {
    public var kind: Kind
    /// nil for cluster-scoped kinds, and for namespaced kinds listed across all namespaces.
    public var namespace: String?
    public var name: String?
    public var subresource: String?

    public init(kind: Kind, namespace: String?, name: String?, subresource: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
    }

    public enum ParseError: Error, Equatable {
        case notFound(String)
    }

    public static func parse(_ path: String) -> Result<APIPath, ParseError> {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let group: String
        if parts.first == "api", parts.count >= 2, parts[1] == "v1" {
            group = ""
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 3, parts[2] == "v1" {
            group = parts[1]
            parts.removeFirst(3)
        } else {
            return .failure(.notFound("the server could not find the requested resource"))
        }
        func kind(_ resource: String) -> Kind? {
            Kind.allCases.first { $0.resource == resource && $0.group == group }
        }
        // namespaces/{ns}/{resource}[/{name}[/{sub}]] — but "namespaces/{name}" alone is the Namespace itself.
        if parts.count >= 3, parts[0] == "namespaces" {
            guard let k = kind(parts[2]), k.namespaced else {
                return .failure(.notFound("the server could not find the requested resource (resource \"\(parts[2])\")"))
            }
            if parts.count > 5 { return .failure(.notFound("the server could not find the requested resource")) }
            return .success(APIPath(kind: k, namespace: parts[1], name: parts.count > 3 ? parts[3] : nil,
                                    subresource: parts.count > 4 ? parts[4] : nil))
        }
        guard let first = parts.first, let k = kind(first) else {
            return .failure(.notFound("the server could not find the requested resource"))
        }
        if parts.count > 3 { return .failure(.notFound("the server could not find the requested resource")) }
        if k.namespaced && parts.count > 1 {
            // A namespaced object must be addressed inside its namespace.
            return .failure(.notFound("the server could not find the requested resource"))
        }
        return .success(APIPath(kind: k, namespace: nil, name: parts.count > 1 ? parts[1] : nil,
                                subresource: parts.count > 2 ? parts[2] : nil))
    }

    public var description: String {
        var s = kind.collectionPath(namespace: namespace)
        if let name { s += "/\(name)" }
        if let subresource { s += "/\(subresource)" }
        return s
    }
}
