import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Hummingbird glue: turns HTTP requests into APIRequests. On TCP, a bearer token is required.
struct CairnResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let handler: APIHandler
    let token: String?

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        if let token {
            let given = request.headers[.authorization] ?? ""
            if given != "Bearer \(token)" { return Self.response(.status(.unauthorized())) }
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: APIHandler.maximumBody)
        } catch {
            return Self.response(.status(.tooLarge("the request body is larger than the limit of \(APIHandler.maximumBody) bytes (3 MiB)")))
        }
        var query: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
        let api = APIRequest(method: request.method.rawValue, path: request.uri.path, query: query,
                             body: Data(buffer.readableBytesView), contentType: request.headers[.contentType])
        return Self.response(await handler.handle(api))
    }

    static func response(_ r: APIResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        switch r.body {
        case .text(let text):
            return Response(status: HTTPResponse.Status(code: r.status), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .stream(let lines):
            headers[.transferEncoding] = "chunked"
            return Response(status: HTTPResponse.Status(code: r.status), headers: headers,
                            body: ResponseBody(asyncSequence: lines.map { ByteBuffer(string: $0) }))
        }
    }
}

enum HTTPServer {
    static func unixSocket(_ socket: OwnedSocket, handler: APIHandler, logger: Logger) -> some ServiceLifecycle.Service {
        Application(responder: CairnResponder(handler: handler, token: nil),
                    configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socket.path), serverName: "cairn"),
                    onServerRunning: { _ in
                        // Only root (the socket's owner) may talk to the daemon.
                        chmod(socket.path, 0o600)
                        socket.claim()
                    },
                    logger: logger)
    }

    static func tcp(host: String, port: Int, token: String, handler: APIHandler, logger: Logger) -> some ServiceLifecycle.Service {
        Application(responder: CairnResponder(handler: handler, token: token),
                    configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "cairn"),
                    logger: logger)
    }
}
