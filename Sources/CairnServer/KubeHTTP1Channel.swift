import CairnAPIMachinery
import CairnCore
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// HTTP/1.1 with kube-apiserver's two upgrades of `pods/NAME/exec`: WebSocket (`v5.channel.k8s.io`,
/// kubectl 1.30+) and SPDY/3.1 (`v4.channel.k8s.io`, older kubectl and the fallback of newer ones).
///
/// An upgrade Cairn refuses (no credentials, a pod that is not running, bad options) is answered
/// with the Status the plain handler gives, so kubectl prints why. NIO's upgrade handler drops a
/// request whose upgrade no upgrader accepts, so the refused request's head is kept here and
/// answered on the connection.
struct KubeHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPRequestHead)
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, ExecTarget)
        case spdy(NIOAsyncChannel<ByteBuffer, ByteBuffer>, ExecTarget)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// What one connection's upgrade decided.
    final class Decision: @unchecked Sendable {
        // Touched on the channel's event loop only.
        var target: ExecTarget?
        var refused: HTTPRequestHead?
    }

    let responder: HTTPChannelHandler.Responder
    let handler: APIHandler
    let authenticator: Authenticator?
    let exec: ExecService

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let decision = Decision()
            let webSocket = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: 1 << 20,
                shouldUpgrade: { channel, head in
                    decide(head, channel: channel, decision: decision, spdy: false).map { proto in
                        proto.map { HTTPHeaders([("Sec-WebSocket-Protocol", $0)]) }
                    }
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let async = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return .webSocket(async, decision.target!)
                    }
                })
            let spdy = SPDYUpgrader(decide: { channel, head in decide(head, channel: channel, decision: decision, spdy: true) },
                                    target: { decision.target })
            let configuration = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                upgraders: [webSocket, spdy],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let async = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let head = decision.refused { return .refused(async, head) }
                        return .notUpgraded(async)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: configuration)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    /// Authenticates and checks an exec upgrade; the subprotocol to answer with, or nil (refused, the
    /// head kept to be answered over HTTP).
    func decide(_ head: HTTPRequestHead, channel: any Channel, decision: Decision, spdy: Bool) -> EventLoopFuture<String?> {
        let promise = channel.eventLoop.makePromise(of: (String, ExecTarget)?.self)
        let handler = self.handler, authenticator = self.authenticator, exec = self.exec
        promise.completeWithTask {
            guard let path = ExecWebSocket.execPath(String(head.uri.prefix { $0 != "?" })) else { return nil }
            if let authenticator {
                guard case .success = await HTTPServer.authenticate(authenticator, authorization: head.headers["authorization"].first,
                                                                    channel: channel) else { return nil }
            }
            let items = HTTPServer.queryItems(head.uri)
            if spdy {
                guard let proto = ExecSPDY.negotiate(head.headers["x-stream-protocol-version"]) else { return nil }
                guard let target = await ExecWebSocket.target(path: path, queryItems: items, offered: RemoteCommandProtocol.v4.rawValue,
                                                              handler: handler, service: exec) else { return nil }
                return (proto, target)
            }
            let offered = head.headers["sec-websocket-protocol"].joined(separator: ",")
            guard let target = await ExecWebSocket.target(path: path, queryItems: items, offered: offered,
                                                          handler: handler, service: exec) else { return nil }
            return (target.proto.rawValue, target)
        }
        // Back on the connection's event loop.
        return promise.futureResult.map { answer in
            guard let answer else {
                decision.refused = head
                return nil
            }
            decision.target = answer.1
            return answer.0
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let head):
                await answerRefused(head, on: http, logger: logger)
            case .webSocket(let ws, let target):
                let context = ExecContext(logger: logger)
                _ = try await WebSocketHandler.handle(
                    type: .server,
                    configuration: .init(extensions: [], autoPing: .disabled, closeTimeout: .seconds(15), validateUTF8: false,
                                         maxFrameSize: 1 << 20),
                    asyncChannel: ws, context: context,
                    handler: { inbound, outbound, context in
                        await ExecWebSocket.run(target, inbound: inbound, outbound: outbound, logger: context.logger)
                    })
            case .spdy(let raw, let target):
                await ExecSPDY.run(target, channel: raw, logger: logger)
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// The refused upgrade's request, answered by the handler (its exec route says what is wrong).
    func answerRefused(_ head: HTTPRequestHead, on http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        var user = RequestUser.socketOwner
        var response: APIResponse
        var authenticated: Result<RequestUser, Status> = .success(.socketOwner)
        if let authenticator {
            authenticated = await HTTPServer.authenticate(authenticator, authorization: head.headers["authorization"].first, channel: http.channel)
        }
        switch authenticated {
        case .success(let u):
            user = u
            let items = HTTPServer.queryItems(head.uri)
            var query: [String: String] = [:]
            for (k, v) in items where query[k] == nil { query[k] = v }
            var api = APIRequest(method: head.method.rawValue, path: String(head.uri.prefix { $0 != "?" }), query: query,
                                 accept: head.headers["accept"].first, userAgent: head.headers["user-agent"].first,
                                 host: head.headers["host"].first, queryItems: items, user: user)
            api.upgrade = head.headers["upgrade"].first
            api.webSocketProtocol = head.headers["sec-websocket-protocol"].first
            response = await handler.handle(api)
        case .failure(let status):
            response = .status(status)
        }
        let body: ByteBuffer
        switch response.body {
        case .text(let t): body = ByteBuffer(string: t)
        case .bytes(let b): body = ByteBuffer(bytes: b)
        case .stream: body = ByteBuffer(string: "")
        }
        var fields = HTTPFields()
        fields[.contentType] = response.contentType
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [
                    .head(HTTPResponse(status: .init(code: response.status), headerFields: fields)),
                    .body(body), .end(nil),
                ])
            }
        } catch {
            logger.debug("could not answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }

    struct ExecContext: WebSocketContext {
        let logger: Logger
    }
}

/// The SPDY/3.1 upgrade: `101 Switching Protocols` with the chosen `X-Stream-Protocol-Version`, then
/// the raw connection for ExecSPDY.
struct SPDYUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = KubeHTTP1Channel.UpgradeResult
    let supportedProtocol = "spdy/3.1"
    let requiredUpgradeHeaders: [String] = []
    let decide: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<String?>
    let target: @Sendable () -> ExecTarget?

    struct Refused: Error {}

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        decide(channel, upgradeRequest).flatMapThrowing { proto in
            guard let proto else { throw Refused() }
            var headers = initialResponseHeaders
            headers.add(name: "X-Stream-Protocol-Version", value: proto)
            return headers
        }
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            guard let target = target() else { throw Refused() }
            let raw = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel,
                                                                  configuration: .init(isOutboundHalfClosureEnabled: true))
            return .spdy(raw, target)
        }
    }
}
