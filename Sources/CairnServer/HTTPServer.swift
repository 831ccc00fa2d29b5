import CairnCore
import CairnTLS
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// A request context that keeps the connection, so the client's certificate can be read.
struct CairnRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Hummingbird glue: authenticates (TCP only), turns HTTP requests into APIRequests and APIResponses
/// into HTTP responses.
struct CairnResponder: HTTPResponder {
    typealias Context = CairnRequestContext
    let handler: APIHandler
    /// nil on the Unix socket.
    let authenticator: Authenticator?

    func respond(to request: Request, context: CairnRequestContext) async throws -> Response {
        var user = RequestUser.socketOwner
        if let authenticator {
            switch await HTTPServer.authenticate(authenticator, authorization: request.headers[.authorization], channel: context.channel) {
            case .success(let u): user = u
            case .failure(let status): return Self.response(.status(status))
            }
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: APIHandler.maximumBody)
        } catch {
            // kube-apiserver's words for a body over its limit.
            return Self.response(.status(.tooLarge("Request entity too large: limit is \(APIHandler.maximumBody)")))
        }
        // Go clients write a space in a query as "+" (labelSelector=a+in+(x)): decoded here, as
        // net/url decodes it; a repeated name keeps its first value, as url.Values.Get does.
        let items = HTTPServer.queryItems("?" + (request.uri.query ?? ""))
        var query: [String: String] = [:]
        for (k, v) in items where query[k] == nil { query[k] = v }
        var api = APIRequest(method: request.method.rawValue, path: request.uri.path, query: query,
                             body: Data(buffer.readableBytesView), contentType: request.headers[.contentType],
                             accept: request.headers[.accept], userAgent: request.headers[.userAgent],
                             host: request.head.authority, queryItems: items, user: user)
        api.upgrade = request.headers[.upgrade]
        api.webSocketProtocol = request.headers[.secWebSocketProtocol]
        var response = await handler.handle(api)
        if authenticator != nil, case .stream(let lines) = response.body {
            response.body = .stream(Self.heartbeat(lines, every: .seconds(5)))
        }
        return Self.response(response)
    }

    /// A watch stream with a newline every `interval` (whitespace between JSON objects, which
    /// client-go's decoder skips): a client that went away is noticed at the next write, so its watch
    /// ends instead of holding a connection until its timeout.
    static func heartbeat(_ lines: AsyncStream<String>, every interval: Duration) -> AsyncStream<String> {
        AsyncStream { continuation in
            let forward = Task {
                for await line in lines { continuation.yield(line) }
                continuation.finish()
            }
            let beat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    continuation.yield("\n")
                }
            }
            continuation.onTermination = { _ in
                forward.cancel()
                beat.cancel()
            }
        }
    }

    static func response(_ r: APIResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = r.contentType
        for w in r.warnings { headers.append(HTTPField(name: HTTPField.Name("Warning")!, value: w)) }
        switch r.body {
        case .text(let text):
            return Response(status: HTTPResponse.Status(code: r.status), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .bytes(let data):
            return Response(status: HTTPResponse.Status(code: r.status), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        case .stream(let lines):
            headers[.transferEncoding] = "chunked"
            return Response(status: HTTPResponse.Status(code: r.status), headers: headers,
                            body: ResponseBody(asyncSequence: lines.map { ByteBuffer(string: $0) }))
        }
    }
}

enum HTTPServer {
    /// The Unix socket: plain HTTP for `cairn` (and kubectl exec's WebSocket, for tests on the socket).
    static func unixSocket(_ socket: OwnedSocket, handler: APIHandler, exec: ExecService, logger: Logger) -> some ServiceLifecycle.Service {
        Application(responder: CairnResponder(handler: handler, authenticator: nil),
                    server: webSocketUpgrade(handler: handler, authenticator: nil, exec: exec),
                    configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socket.path), serverName: "cairn"),
                    onServerRunning: { _ in
                        // Only root (the socket's owner) may talk to the daemon.
                        chmod(socket.path, 0o600)
                        socket.claim()
                    },
                    logger: logger)
    }

    /// The TCP listener: HTTPS with the cluster's serving certificate, as kube-apiserver serves.
    static func tcp(host: String, port: Int, tls: TLSConfiguration, authenticator: Authenticator, handler: APIHandler,
                    exec: ExecService, logger: Logger) throws -> some ServiceLifecycle.Service {
        Application(responder: CairnResponder(handler: handler, authenticator: authenticator),
                    server: try .tls(webSocketUpgrade(handler: handler, authenticator: authenticator, exec: exec), tlsConfiguration: tls),
                    configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "cairn"),
                    logger: logger)
    }

    /// kube-apiserver's TLS: the serving certificate, and a client certificate verified against the
    /// cluster CA when one is sent (VerifyClientCertIfGiven), so token clients connect too.
    static func tlsConfiguration(_ pki: ClusterPKI) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCertificatePath.path).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKeyPath.path, format: .pem)))
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .file(pki.caCertificatePath.path)
        return tls
    }

    /// HTTP/1.1 with the WebSocket and SPDY upgrades of pods/NAME/exec (KubeHTTP1Channel).
    static func webSocketUpgrade(handler: APIHandler, authenticator: Authenticator?, exec: ExecService) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            KubeHTTP1Channel(responder: responder, handler: handler, authenticator: authenticator, exec: exec)
        }
    }

    /// The query of a request target, decoded, in order.
    static func queryItems(_ target: String) -> [(String, String)] {
        guard let q = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: q)...].split(separator: "&").map { pair -> (String, String) in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }

    /// Who is calling on a TLS connection: its verified client certificate, else its token.
    static func authenticate(_ authenticator: Authenticator, authorization: String?, channel: any Channel) async -> Result<RequestUser, Status> {
        let der: [UInt8]? = try? await channel.eventLoop.submit {
            try? channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self).peerCertificate?.toDERBytes()
        }.get()
        return authenticator.authenticate(authorization: authorization, peerCertificateDER: der ?? nil)
    }
}
