import CairnAPI
import CairnAPIMachinery
import CairnCore
import Foundation
import Logging

/// Who sent a request, as kube-apiserver's authenticators establish it. Everyone authenticated may do
/// everything (Cairn has no RBAC: the socket is root's, TCP callers hold the CA-signed admin
/// certificate or the token).
public struct RequestUser: Sendable, Hashable {
    public var name: String
    public var groups: [String]
    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }
    /// A caller on the daemon's Unix socket (mode 0600: root).
    public static let socketOwner = RequestUser(name: "cairn-socket", groups: ["system:masters", "system:authenticated"])
}

/// A request as the handler sees it, independent of the transport (so the same tests run against the
/// handler in memory and against a live daemon on its socket).
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Every query parameter in request order, repeated ones included (exec's `command`).
    public var queryItems: [(String, String)]
    public var body: Data
    public var contentType: String?
    public var accept: String?
    public var userAgent: String?
    /// The Host the client addressed (discovery's serverAddressByClientCIDRs).
    public var host: String?
    /// The `Upgrade` header and the WebSocket subprotocols offered (exec's refusals name them).
    public var upgrade: String?
    public var webSocketProtocol: String?
    public var user: RequestUser

    public init(method: String, path: String, query: [String: String] = [:], body: Data = Data(), contentType: String? = nil,
                accept: String? = nil, userAgent: String? = nil, host: String? = nil, queryItems: [(String, String)]? = nil,
                user: RequestUser = .socketOwner) {
        self.method = method
        self.path = path
        self.query = query
        self.queryItems = queryItems ?? query.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.body = body
        self.contentType = contentType
        self.accept = accept
        self.userAgent = userAgent
        self.host = host
        self.user = user
    }
}

public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case text(String)
        /// Bytes that are not text (the protobuf OpenAPI v2 document).
        case bytes(Data)
        /// A watch: JSON event lines, sent as they come (chunked).
        case stream(AsyncStream<String>)
    }
    public var status: Int
    public var body: Body
    public var contentType: String
    /// `Warning` headers (RFC 7234 form, `299 - "text"`): kubectl prints each as `Warning: text`.
    public var warnings: [String] = []

    public init(status: Int, body: String, contentType: String = "application/json") {
        self.status = status
        self.body = .text(body)
        self.contentType = contentType
    }

    public init(status: Int, bytes: Data, contentType: String) {
        self.status = status
        self.body = .bytes(bytes)
        self.contentType = contentType
    }

    public init(status: Int, stream: AsyncStream<String>, contentType: String = "application/json") {
        self.status = status
        self.body = .stream(stream)
        self.contentType = contentType
    }

    /// The whole body (a stream is read to its end).
    public var text: String {
        get async {
            switch body {
            case .text(let t): return t
            case .bytes(let b): return String(decoding: b, as: UTF8.self)
            case .stream(let s): return await s.reduce(into: "") { $0 += $1 }
            }
        }
    }

    static func json<T: Encodable>(_ value: T, status: Int = 200) -> APIResponse {
        let text = (try? String(decoding: JSONCoding.encoder.encode(value), as: UTF8.self)) ?? "{}"
        return APIResponse(status: status, body: text)
    }
    static func json(_ value: JSONValue, status: Int = 200, contentType: String = "application/json") -> APIResponse {
        APIResponse(status: status, body: value.jsonText(), contentType: contentType)
    }
    static func status(_ s: Status) -> APIResponse { json(s, status: s.code) }
}

/// Routes Kubernetes REST paths, the discovery and OpenAPI documents, and Cairn's own `/cairn/v1/...`
/// views to the control plane.
public struct APIHandler: Sendable {
    public let plane: ControlPlane
    public let views: Views
    public let watches: WatchServer
    /// What `cairn kubeconfig` hands out (nil without a TCP listener).
    public let access: ClusterAccess?
    let logger: Logger
    /// Largest request body accepted (the Kubernetes API server's limit).
    public static let maximumBody = 3 * 1024 * 1024

    public init(plane: ControlPlane, views: Views, watches: WatchServer, access: ClusterAccess? = nil, logger: Logger) {
        self.plane = plane
        self.views = views
        self.watches = watches
        self.access = access
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
        } catch let n as NotAcceptable {
            response = .status(n.status)
        } catch {
            response = .status(.internalError("\(error)"))
        }
        if logger.logLevel <= .debug {
            let query = request.queryItems.isEmpty ? "" : "?" + request.queryItems.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
            logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.path)\(query)",
                                               "status": "\(response.status)", "user": "\(request.user.name)",
                                               "duration": "\(ContinuousClock.now - started)"])
        }
        return response
    }

    func route(_ request: APIRequest) async throws -> APIResponse {
        let path = request.path
        if let answer = try NonResourceRoutes.answer(request) { return answer }
        if let lease = try await NodeLeases.answer(request, plane: plane) { return lease }
        if path == CairnPath.kubeconfig {
            return try KubeconfigView.answer(request, access: access)
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
            throw Status.tooLarge("Request entity too large: limit is \(Self.maximumBody)")
        }
        if parsed.kind.namespaced, parsed.name != nil || request.method == "POST", parsed.namespace == nil {
            throw Status.badRequest("namespaced \(parsed.kind.resource) must be addressed under /namespaces/{namespace}")
        }
        if let sub = parsed.subresource {
            return try await subresource(sub, request, parsed)
        }
        switch (request.method, parsed.name) {
        case ("GET", nil) where WatchRequest.isWatch(request.query):
            let format = try ContentNegotiation.forResource(accept: request.accept)
            let watch = try WatchRequest(kind: parsed.kind, namespace: parsed.namespace, query: request.query)
            let lines = try await watches.open(watch)
            guard case .table(let version) = format else { return APIResponse(status: 200, stream: lines) }
            let options = TableOptions(includeObject: try IncludeObject(query: request.query["includeObject"]))
            return APIResponse(status: 200, stream: TableResponses.watch(lines, kind: parsed.kind, options: options, version: version),
                               contentType: format.contentType)
        case ("GET", nil):
            let format = try ContentNegotiation.forResource(accept: request.accept)
            let page = try ListPage.Request(query: request.query)
            let list = try await plane.listPage(parsed.kind, namespace: parsed.namespace, labelSelector: request.query["labelSelector"],
                                                fieldSelector: request.query["fieldSelector"], page: page)
            if case .table(let version) = format {
                let options = TableOptions(includeObject: try IncludeObject(query: request.query["includeObject"]))
                return try TableResponses.list(list, kind: parsed.kind, options: options, version: version)
            }
            return APIResponse(status: 200, body: list.json(parsed.kind))
        case ("GET", let name?):
            let format = try ContentNegotiation.forResource(accept: request.accept)
            let json = try await plane.getJSON(parsed.kind, namespace: parsed.namespace, name: name)
            if case .table(let version) = format {
                let options = TableOptions(includeObject: try IncludeObject(query: request.query["includeObject"]))
                return try TableResponses.object(json, kind: parsed.kind, options: options, version: version)
            }
            return APIResponse(status: 200, body: json)
        case ("POST", nil):
            let options = try WriteOptions(request, verb: .create)
            let body = try WriteBody.read(request.body, kind: parsed.kind, validation: options.fieldValidation)
            var response = APIResponse(status: 201, body: try await plane.create(parsed, body: body.json, options: options))
            response.warnings = body.warnings
            return response
        case ("PUT", _?):
            let options = try WriteOptions(request, verb: .update)
            let body = try WriteBody.read(request.body, kind: parsed.kind, validation: options.fieldValidation)
            var response = APIResponse(status: 200, body: try await plane.update(parsed, body: body.json, options: options))
            response.warnings = body.warnings
            return response
        case ("PATCH", _?):
            let type = try PatchType(contentType: request.contentType)
            let options = try WriteOptions(request, verb: .patch)
            let force = try WriteOptions.boolean(request.query["force"], "force")
            try ServerSideApply.validatePatchOptions(type, fieldManager: request.query["fieldManager"], force: force)
            if request.body.isEmpty { throw Status.badRequest("the request body is empty; send a patch") }
            let result = try await plane.patch(parsed, type: type, patch: request.body, options: options, force: force)
            var response = APIResponse(status: result.created ? 201 : 200, body: result.json)
            response.warnings = result.warnings
            return response
        case ("DELETE", _?):
            let options = try DeleteRequest(request)
            return APIResponse(status: 200, body: try await plane.delete(parsed, options: options))
        case ("DELETE", nil):
            throw Status.methodNotAllowed("deleting a whole collection is not supported by Cairn; delete the objects by name (kubectl delete TYPE --all does)")
        default:
            throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// `scale`, `status`, `eviction`, `exec` and `log`, as discovery lists them; anything else is 404.
    func subresource(_ sub: String, _ request: APIRequest, _ path: APIPath) async throws -> APIResponse {
        switch (sub, path.kind) {
        case ("scale", .statefulSet), ("scale", .replicaSet):
            return try await scale(request, path)
        case ("status", _) where path.kind != .event && path.kind != .storageClass:
            guard request.method == "GET", let name = path.name else {
                throw Status.methodNotAllowed("\(path.kind.resource)/status is written by cairn serve's controllers; clients may only read it")
            }
            let json = try await plane.getJSON(path.kind, namespace: path.namespace, name: name)
            return APIResponse(status: 200, body: json)
        case ("eviction", .pod):
            guard request.method == "POST" else { throw Status.methodNotAllowed("pods/eviction only takes POST") }
            let eviction = try EvictionRequest(body: request.body, path: path)
            return .json(try await plane.evict(path, eviction), status: 201)
        case ("exec", .pod):
            // An acceptable WebSocket upgrade never gets here (HTTPServer hands it to ExecWebSocket):
            // say what is wrong with this one.
            let options = try PodExecOptions(query: request.queryItems)
            _ = try await views.execPlan(namespace: path.namespace ?? "default", pod: path.name ?? "", container: options.container)
            throw ExecWebSocket.upgradeRequired(request)
        case ("log", .pod):
            guard let name = path.name else { throw Status.methodNotAllowed("pods/log needs a pod name") }
            _ = try await plane.getJSON(.pod, namespace: path.namespace, name: name)
            throw Status.badRequest("""
                pod "\(name)" has no logs: a Cairn pod runs no containers (Cairn mounts its volumes, nothing executes in it); \
                use kubectl exec \(name) -- CMD to run a command with its volumes, or kubectl describe pod \(name) for its events
                """)
        case ("attach", .pod), ("portforward", .pod), ("proxy", _):
            throw Status.badRequest("\(path.kind.resource)/\(sub) is not supported: a Cairn pod runs no containers and has no network; use kubectl exec")
        default:
            throw Status(code: 404, reason: .notFound, message: "the server could not find the requested resource (\(path.kind.resource)/\(sub))")
        }
    }

    func scale(_ request: APIRequest, _ path: APIPath) async throws -> APIResponse {
        switch request.method {
        case "GET":
            return .json(try await plane.scale(path))
        case "PUT", "PATCH":
            let options = try WriteOptions(request, verb: request.method == "PUT" ? .update : .patch)
            let body: JSONValue
            if request.method == "PATCH" {
                let type = try PatchType(contentType: request.contentType)
                guard type != .apply else {
                    throw Status.badRequest("server-side apply of the scale subresource is not supported by Cairn; kubectl scale uses a merge patch")
                }
                let current = try JSONValue(encoding: try await plane.scale(path))
                body = try PatchVerb.applyPatch(type, PatchType.parseJSONBody(request.body), to: current, kind: nil)
            } else {
                body = try parseBody(request)
            }
            guard let replicas = body["spec"]?["replicas"] else {
                throw Status.invalid(path.kind, path.name ?? "", [.required("spec.replicas")])
            }
            guard case .int(let n) = replicas, let r = Int32(exactly: n) else {
                throw Status.invalid(path.kind, path.name ?? "", [.invalid("spec.replicas", "\(replicas)", "must be an integer")])
            }
            let rv = body["metadata"]?["resourceVersion"]?.stringValue
            return .json(try await plane.setScale(path, replicas: r, resourceVersion: rv, options: options))
        default:
            throw Status.methodNotAllowed("the server does not allow this method on the requested resource")
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
