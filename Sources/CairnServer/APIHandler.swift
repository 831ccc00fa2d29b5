import CairnAPI
import CairnCore
import Foundation
import Logging

/// A request as the handler sees it, independent of the transport (so the same tests run against the
/// handler in memory and against a live daemon on its socket).
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var body: Data
    public var contentType: String?

    public init(method: String, path: String, query: [String: String] = [:], body: Data = Data(), contentType: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.contentType = contentType
    }
}

public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case text(String)
        /// A watch: JSON event lines, sent as they come (chunked).
        case stream(AsyncStream<String>)
    }
    public var status: Int
    public var body: Body

    public init(status: Int, body: String) {
        self.status = status
        self.body = .text(body)
    }

    public init(status: Int, stream: AsyncStream<String>) {
        self.status = status
        self.body = .stream(stream)
    }

    /// The whole body (a stream is read to its end).
    public var text: String {
        get async {
            switch body {
            case .text(let t): return t
            case .stream(let s): return await s.reduce(into: "") { $0 += $1 }
            }
        }
    }

    static func json<T: Encodable>(_ value: T, status: Int = 200) -> APIResponse {
        let text = (try? String(decoding: JSONCoding.encoder.encode(value), as: UTF8.self)) ?? "{}"
        return APIResponse(status: status, body: text)
    }
    static func status(_ s: Status) -> APIResponse { json(s, status: s.code) }
}

/// Routes Kubernetes REST paths and Cairn's own `/cairn/v1/...` views to the control plane.
public struct APIHandler: Sendable {
    public let plane: ControlPlane
    public let views: Views
    public let watches: WatchServer
    let logger: Logger
    /// Largest request body accepted (the Kubernetes API server's limit).
    public static let maximumBody = 3 * 1024 * 1024

    public init(plane: ControlPlane, views: Views, watches: WatchServer, logger: Logger) {
        self.plane = plane
        self.views = views
        self.watches = watches
        self.logger = logger
    }

    public func handle(_ request: APIRequest) async -> APIResponse {
        plane.requestsInFlight.add(1, ordering: .relaxed)
        defer { plane.requestsInFlight.subtract(1, ordering: .relaxed) }
        let started = ContinuousClock.now
        let response: APIResponse
        do {
            response = try await route(request)
        } catch let s as Status {
            response = .status(s)
        } catch {
            response = .status(.internalError("\(error)"))
        }
        if logger.logLevel <= .debug {
            let query = request.query.isEmpty ? "" : "?" + request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.path)\(query)",
                                               "status": "\(response.status)", "duration": "\(ContinuousClock.now - started)"])
        }
        return response
    }

    func route(_ request: APIRequest) async throws -> APIResponse {
        let path = request.path
        switch path {
        case "/version":
            return .json(CairnVersion.info)
        case "/healthz", "/readyz", "/livez":
            return APIResponse(status: 200, body: "ok")
        default:
            break
        }
        if path.hasPrefix(CairnPath.prefix) {
            return try await views.handle(request)
        }
        let parsed: APIPath
        switch APIPath.parse(path) {
        case .success(let p): parsed = p
        case .failure(.notFound(let message)): throw Status(code: 404, reason: .notFound, message: message)
        }
        if request.body.count > Self.maximumBody {
            throw Status.tooLarge("the request body is \(request.body.count) bytes; the limit is \(Self.maximumBody) bytes")
        }
        if parsed.kind.namespaced, parsed.name != nil || request.method == "POST", parsed.namespace == nil {
            throw Status.badRequest("namespaced \(parsed.kind.resource) must be addressed under /namespaces/{namespace}")
        }
        if let sub = parsed.subresource {
            guard sub == "scale", parsed.kind == .statefulSet || parsed.kind == .replicaSet else {
                throw Status(code: 404, reason: .notFound, message: "the server could not find the requested resource (\(parsed.kind.resource)/\(sub))")
            }
            return try await scale(request, parsed)
        }
        let dryRun = request.query["dryRun"] == "All"
        switch (request.method, parsed.name) {
        case ("GET", nil) where WatchRequest.isWatch(request.query):
            let watch = try WatchRequest(kind: parsed.kind, namespace: parsed.namespace, query: request.query)
            return APIResponse(status: 200, stream: try await watches.open(watch))
        case ("GET", nil):
            return APIResponse(status: 200, body: try await plane.listJSON(parsed.kind, namespace: parsed.namespace,
                                                                            labelSelector: request.query["labelSelector"],
                                                                            fieldSelector: request.query["fieldSelector"]))
        case ("GET", let name?):
            return APIResponse(status: 200, body: try await plane.getJSON(parsed.kind, namespace: parsed.namespace, name: name))
        case ("POST", nil):
            return APIResponse(status: 201, body: try await plane.create(parsed, body: try parseBody(request), dryRun: dryRun))
        case ("PUT", _?):
            return APIResponse(status: 200, body: try await plane.update(parsed, body: try parseBody(request), dryRun: dryRun))
        case ("PATCH", _?):
            try checkPatchType(request)
            return APIResponse(status: 200, body: try await plane.patch(parsed, patch: try parseBody(request)))
        case ("DELETE", _?):
            let uid = try? parseBody(request)["preconditions"]?["uid"]?.stringValue
            return APIResponse(status: 200, body: try await plane.delete(parsed, preconditionUID: uid))
        default:
            throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    func scale(_ request: APIRequest, _ path: APIPath) async throws -> APIResponse {
        switch request.method {
        case "GET":
            return .json(try await plane.scale(path))
        case "PUT", "PATCH":
            if request.method == "PATCH" { try checkPatchType(request) }
            let body = try parseBody(request)
            guard let replicas = body["spec"]?["replicas"] else {
                throw Status.invalid(path.kind, path.name ?? "", [.required("spec.replicas")])
            }
            guard case .int(let n) = replicas, let r = Int32(exactly: n) else {
                throw Status.invalid(path.kind, path.name ?? "", [.invalid("spec.replicas", "\(replicas)", "must be an integer")])
            }
            let rv = body["metadata"]?["resourceVersion"]?.stringValue
            return .json(try await plane.setScale(path, replicas: r, resourceVersion: rv))
        default:
            throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    func checkPatchType(_ request: APIRequest) throws {
        let type = request.contentType ?? "application/merge-patch+json"
        if type.hasPrefix("application/json-patch+json") {
            throw Status(code: 415, reason: .unsupportedMediaType,
                         message: "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json")
        }
    }

    func parseBody(_ request: APIRequest) throws -> JSONValue {
        if request.body.isEmpty { throw Status.badRequest("the request body is empty; send a JSON object") }
        do {
            return try JSONValue.parse(request.body)
        } catch {
            throw Status.badRequest("the request body is not valid JSON: \(error)")
        }
    }
}
