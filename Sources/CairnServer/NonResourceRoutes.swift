import CairnAPI
import CairnAPIMachinery
import CairnCore
import Foundation

/// The paths that name no object: version, health, discovery and OpenAPI, as kube-apiserver serves
/// them (kubectl reads discovery before anything else, and the OpenAPI documents for apply's
/// validation and for explain).
enum NonResourceRoutes {
    /// The answer for a non-resource path, or nil when `request` names a resource (or a Cairn view).
    static func answer(_ request: APIRequest) throws -> APIResponse? {
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        let parts = path.split(separator: "/").map(String.init)
        let isNonResource: Bool
        switch parts.first {
        case nil, "version", "healthz", "livez", "readyz", "openapi": isNonResource = true
        case "api": isNonResource = parts.count <= 2
        case "apis": isNonResource = parts.count <= 3
        default: isNonResource = false
        }
        guard isNonResource else { return nil }
        guard request.method == "GET" || request.method == "HEAD" else {
            throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        switch parts {
        case []:
            return .json(.object(["paths": .array(rootPaths.map { .string($0) })]))
        case ["version"]:
            return .json(CairnVersion.info)
        case ["healthz"], ["livez"], ["readyz"]:
            return health(parts[0], verbose: request.query["verbose"] != nil)
        case let p where p.count == 2 && ["healthz", "livez", "readyz"].contains(p[0]):
            guard p[1] == "ping" || p[1] == "log" || p[1] == "etcd" else { return nil }
            return APIResponse(status: 200, body: "ok", contentType: "text/plain; charset=utf-8")
        case ["api"], ["apis"]:
            let format = try ContentNegotiation.forDiscovery(accept: request.accept)
            if case .aggregatedDiscovery(let v) = format {
                return .json(Discovery.aggregated(legacy: parts == ["api"], version: v), contentType: format.contentType)
            }
            return .json(parts == ["api"] ? Discovery.apiVersions(serverAddress: request.host ?? "127.0.0.1:6443") : Discovery.apiGroupList())
        case ["api", "v1"]:
            return .json(Discovery.apiResourceList(.core))
        case let p where p.count == 2 && p[0] == "api":
            return nil
        case let p where p.count == 2 && p[0] == "apis":
            guard let gv = GroupVersion.namedGroups.first(where: { $0.group == p[1] }) else { throw notFound }
            return .json(Discovery.apiGroup(gv, document: true))
        case let p where p.count == 3 && p[0] == "apis":
            guard let gv = GroupVersion.served(p[1], p[2]) else { throw notFound }
            return .json(Discovery.apiResourceList(gv))
        case ["openapi", "v3"]:
            return .json(OpenAPI.index())
        case ["openapi", "v2"]:
            return try OpenAPIV2Route.answer(accept: request.accept)
        case let p where p.count > 2 && p[0] == "openapi" && p[1] == "v3":
            guard let gv = OpenAPI.groupVersion(forPath: path) else { throw notFound }
            return APIResponse(status: 200, body: OpenAPI.document(gv).text)
        default:
            throw notFound
        }
    }

    static let notFound = Status(code: 404, reason: .notFound, message: "the server could not find the requested resource")

    /// What GET / lists, as kube-apiserver's index does (the served subset).
    static let rootPaths: [String] = {
        var paths = ["/api", "/api/v1", "/apis", "/apis/"]
        for gv in GroupVersion.namedGroups { paths += ["/apis/\(gv.group)", "/apis/\(gv)"] }
        paths += ["/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/openapi/v3/", "/readyz", "/version"]
        return paths
    }()

    /// `ok`, or with `?verbose` the checks one per line, as kube-apiserver words them.
    static func health(_ endpoint: String, verbose: Bool) -> APIResponse {
        guard verbose else { return APIResponse(status: 200, body: "ok", contentType: "text/plain; charset=utf-8") }
        let checks = ["ping", "log", "etcd"].map { "[+]\($0) ok" }
        let text = checks.joined(separator: "\n") + "\n\(endpoint) check passed\n"
        return APIResponse(status: 200, body: text, contentType: "text/plain; charset=utf-8")
    }
}
