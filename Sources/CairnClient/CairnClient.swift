import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// A connection to `cairn serve` over its Unix socket (HTTP/JSON on Kubernetes' REST paths).
public final class CairnClient: Sendable {
    public let socketPath: String
    let http: HTTPClient

    public init(socketPath: String) {
        self.socketPath = socketPath
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .seconds(1), read: .seconds(120))
        // Room for `cairn apply`'s concurrent requests: a request waiting for a pooled connection
        // longer than the connect timeout would fail as if the daemon were not there.
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var json: JSONValue? { try? JSONValue.parse(body) }
    }

    /// Sends one request. A daemon that is not there is reported at once, with the socket path tried.
    public func send(_ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
                     contentType: String = "application/json") async throws -> Reply {
        var st = stat()
        if stat(socketPath, &st) != 0 {
            throw ClientError.notRunning(socketPath, "no socket at that path")
        }
        var uri = path
        if !query.isEmpty {
            var c = URLComponents()
            c.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            uri += "?" + (c.percentEncodedQuery ?? "")
        }
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: uri) else {
            throw ClientError.notRunning(socketPath, "the socket path cannot be used in a URL")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        do {
            let response = try await http.execute(request, timeout: .seconds(300))
            let bytes = try await response.body.collect(upTo: 512 * 1024 * 1024)
            return Reply(status: Int(response.status.code), body: Data(bytes.readableBytesView))
        } catch let e as HTTPClientError {
            throw ClientError.notRunning(socketPath, "\(e)")
        } catch let e as ChannelError {
            throw ClientError.notRunning(socketPath, "\(e)")
        } catch let e as IOError {
            throw ClientError.notRunning(socketPath, String(cString: strerror(e.errnoCode)))
        }
    }

    /// Sends a request and decodes a Kubernetes Status from any error answer.
    public func call(_ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
                     contentType: String = "application/json") async throws -> Data {
        let reply = try await send(method, path, query: query, body: body, contentType: contentType)
        if reply.status >= 400 {
            if let status = try? JSONCoding.decoder.decode(Status.self, from: reply.body) { throw status }
            throw ClientError.unexpected(reply.status, String(decoding: reply.body, as: UTF8.self))
        }
        return reply.body
    }
}

extension CairnClient {
    /// A watch (`GET path?watch=1&...`): each event as it arrives. The stream ends when the server
    /// ends the watch (its timeoutSeconds); an error answer before streaming is thrown as its Status.
    public func watch(_ path: String, query: [String: String]) -> AsyncThrowingStream<JSONValue, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var q = query
                    q["watch"] = "1"
                    var c = URLComponents()
                    c.queryItems = q.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
                    guard let url = URL(httpURLWithSocketPath: socketPath, uri: path + "?" + (c.percentEncodedQuery ?? "")) else {
                        throw ClientError.notRunning(socketPath, "the socket path cannot be used in a URL")
                    }
                    let response = try await http.execute(HTTPClientRequest(url: url.absoluteString), timeout: .hours(24))
                    if response.status.code >= 400 {
                        let body = try await response.body.collect(upTo: 1 << 20)
                        if let status = try? JSONCoding.decoder.decode(Status.self, from: Data(body.readableBytesView)) { throw status }
                        throw ClientError.unexpected(Int(response.status.code), String(buffer: body))
                    }
                    var pending: [UInt8] = []
                    for try await chunk in response.body {
                        pending += chunk.readableBytesView
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = Array(pending[..<newline])
                            pending.removeFirst(newline + 1)
                            if !line.isEmpty { continuation.yield(try JSONValue.parse(Data(line))) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

public enum ClientError: Error, CustomStringConvertible {
    case notRunning(String, String)
    case unexpected(Int, String)

    public var description: String {
        switch self {
        case .notRunning(let path, let why):
            return "cannot reach cairn serve at \(path) (\(why)); is `cairn serve` running? Pass --socket or set CAIRN_SOCKET to use another socket"
        case .unexpected(let code, let body):
            return "unexpected answer from cairn serve (HTTP \(code)): \(body.prefix(200))"
        }
    }
}
