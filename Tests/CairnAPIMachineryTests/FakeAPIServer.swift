import CairnCore
import Foundation
import Hummingbird
import NIOCore
import Logging
import ServiceLifecycle
import Testing

/// What the throwaway server saw and answers: one HTTP request in, status, content type and body out.
struct FakeRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var accept: String?
    var contentType: String?
    var body: [UInt8]
}

struct FakeResponse: Sendable {
    var status: Int
    var contentType: String
    var body: String
    static func json(_ v: JSONValue, status: Int = 200, contentType: String = "application/json") -> FakeResponse {
        FakeResponse(status: status, contentType: contentType, body: v.jsonText())
    }
    static func status(_ s: Status) -> FakeResponse {
        .json((try? JSONValue(encoding: s)) ?? .null, status: s.code)
    }
}

/// A test-only HTTP server on 127.0.0.1 that answers with the machinery's documents, so the real
/// kubectl can be run against them. Plain HTTP: TLS is CairnTLS's test's business.
enum FakeAPIServer {
    static func serve(_ handler: @escaping @Sendable (FakeRequest) -> FakeResponse,
                      _ body: @Sendable (_ server: String) async throws -> Void) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var query: [String: String] = [:]
            for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
            var collected = try await request.body.collect(upTo: 8 << 20)
            let bytes = collected.readBytes(length: collected.readableBytes) ?? []
            let fake = FakeRequest(method: request.method.rawValue, path: request.uri.path, query: query,
                                   accept: request.headers[.accept], contentType: request.headers[.contentType], body: bytes)
            let answer = handler(fake)
            if ProcessInfo.processInfo.environment["CAIRN_TEST_TRACE"] != nil {
                FileHandle.standardError.write(Data("\(fake.method) \(fake.path) \(fake.query) accept=\(fake.accept ?? "") -> \(answer.status)\n".utf8))
            }
            return Response(status: .init(code: answer.status), headers: [.contentType: answer.contentType],
                            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        let port = PortBox()
        let app = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
        let services = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test-server")))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let deadline = Date().addingTimeInterval(30)
            while port.value == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(port.value != 0, "the test server did not start")
            // Shut down gracefully whatever the body does; cancelling a running server aborts NIO.
            var failure: (any Error)?
            do { try await body("http://127.0.0.1:\(port.value)") } catch { failure = error }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            if let failure { throw failure }
        }
    }

    final class PortBox: @unchecked Sendable {
        private let lock = NSLock()
        private var port = 0
        func set(_ p: Int) { lock.lock(); port = p; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return port }
    }

    /// A kubeconfig pointing kubectl at `server` with no credentials.
    static func kubeconfig(_ server: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("kubeconfig").path
        let text = """
        apiVersion: v1
        kind: Config
        clusters:
        - cluster:
            server: \(server)
          name: fake
        contexts:
        - context:
            cluster: fake
            user: fake
            namespace: default
          name: fake
        current-context: fake
        users:
        - name: fake
          user: {}
        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
