import CairnCore

/// One media range of an HTTP Accept header, with Kubernetes' parameters: `as` (the kind asked for,
/// e.g. `Table` or `APIGroupDiscoveryList`), `g` (its group) and `v` (its version).
///
///     application/json;as=Table;v=v1;g=meta.k8s.io
///
/// kube-apiserver reads these in `negotiation.NegotiateOutputMediaType`; clients list what they want
/// in order of preference and end with a plain `application/json` as the fallback.
public struct MediaType: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var subtype: String
    public var parameters: [String: String]

    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parameters
    }

    public var `as`: String? { parameters["as"] }
    public var group: String? { parameters["g"] }
    public var version: String? { parameters["v"] }

    /// Parses `type/subtype;key=value;...`; nil when it is not of that shape.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        guard let range = parts.first?.trimmingSpaces, let slash = range.firstIndex(of: "/") else { return nil }
        let type = range[..<slash], subtype = range[range.index(after: slash)...]
        guard !type.isEmpty, !subtype.isEmpty else { return nil }
        var parameters: [String: String] = [:]
        for p in parts.dropFirst() {
            let pair = p.trimmingSpaces
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let key = pair[..<eq].lowercased()
            var value = String(pair[pair.index(after: eq)...])
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[key] = value
        }
        self.init(type: String(type), subtype: String(subtype), parameters: parameters)
    }

    /// Every media range of an Accept header, in the order the client wrote them. An empty or
    /// missing header means `*/*`.
    public static func parseAccept(_ header: String?) -> [MediaType] {
        guard let header, !header.trimmingSpaces.isEmpty else { return [MediaType(type: "*", subtype: "*")] }
        return header.split(separator: ",").compactMap { MediaType(parsing: $0) }
    }

    /// True when this range accepts plain JSON (`application/json`, `application/*`, `*/*`).
    public var acceptsJSON: Bool {
        (type == "application" || type == "*") && (subtype == "json" || subtype == "*")
    }

    public var description: String {
        var s = "\(type)/\(subtype)"
        // Kubernetes writes the parameters in this order (as=, v=, g=) for tables and (g=, v=, as=)
        // for discovery; the order carries no meaning, so a fixed one keeps the output stable.
        for key in ["g", "v", "as"] where parameters[key] != nil { s += ";\(key)=\(parameters[key]!)" }
        for key in parameters.keys.sorted() where !["g", "v", "as"].contains(key) { s += ";\(key)=\(parameters[key]!)" }
        return s
    }

    public static let json = MediaType(type: "application", subtype: "json")
}

/// What a GET should answer with, decided from the Accept header.
public enum ResponseFormat: Sendable, Hashable {
    /// The object (or list) itself as JSON.
    case object
    /// A meta.k8s.io Table, in the version asked for (`v1` or `v1beta1`).
    case table(version: String)
    /// An apidiscovery.k8s.io APIGroupDiscoveryList (aggregated discovery), `v2` or `v2beta1`.
    case aggregatedDiscovery(version: String)

    /// The Content-Type header for this format.
    public var contentType: String {
        switch self {
        case .object: "application/json"
        case .table(let v): "application/json;as=Table;v=\(v);g=meta.k8s.io"
        case .aggregatedDiscovery(let v): "application/json;g=apidiscovery.k8s.io;v=\(v);as=APIGroupDiscoveryList"
        }
    }
}

/// The 406 kube-apiserver answers when nothing in Accept can be served.
public struct NotAcceptable: Error, Sendable, Hashable, CustomStringConvertible {
    public var accepted: [String]
    public init(accepted: [String]) { self.accepted = accepted }
    public var description: String {
        "only the following media types are accepted: \(accepted.joined(separator: ", "))"
    }
    /// The Status body (reason NotAcceptable, code 406).
    public var status: CairnCore.Status { CairnCore.Status(code: 406, reason: .notAcceptable, message: description) }
}

public enum ContentNegotiation {
    /// For an object or list GET: a Table if the client asks for one (kubectl get does), else JSON.
    /// Media ranges are tried in the client's order, as kube-apiserver does.
    public static func forResource(accept header: String?) throws(NotAcceptable) -> ResponseFormat {
        for range in MediaType.parseAccept(header) {
            if let a = range.as {
                if a == "Table", range.group == "meta.k8s.io", let v = range.version, v == "v1" || v == "v1beta1", range.acceptsJSON {
                    return .table(version: v)
                }
                // PartialObjectMetadata and other forms Cairn does not produce: try the next range.
                continue
            }
            if range.acceptsJSON { return .object }
        }
        throw NotAcceptable(accepted: ["application/json", "application/yaml"])
    }

    /// For `/api` and `/apis`: the aggregated document when asked for (v2, or v2beta1 for kubectl
    /// 1.26-1.29), else the legacy APIVersions/APIGroupList.
    public static func forDiscovery(accept header: String?) throws(NotAcceptable) -> ResponseFormat {
        for range in MediaType.parseAccept(header) {
            if let a = range.as {
                if a == "APIGroupDiscoveryList", range.group == "apidiscovery.k8s.io", let v = range.version,
                   v == "v2" || v == "v2beta1", range.acceptsJSON {
                    return .aggregatedDiscovery(version: v)
                }
                continue
            }
            if range.acceptsJSON { return .object }
        }
        throw NotAcceptable(accepted: ["application/json"])
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
