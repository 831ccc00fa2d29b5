import CairnAPI
import CairnAPIMachinery
import CairnCore
import CairnNode
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// `kubectl exec` over WebSocket (`v5.channel.k8s.io`, or `v4.channel.k8s.io`): the upgrade of
/// `GET .../pods/NAME/exec?command=...` is accepted once the caller is authenticated, the options
/// are valid and the pod is Running with its volumes mounted; the command then runs in `cairn exec`'s
/// sandbox (ExecProcess) and its output, input, terminal size and exit code travel in the protocol's
/// channels (CairnAPIMachinery.RemoteCommandSession decides, this adapter acts).
///
/// Whatever is refused is answered by the plain HTTP handler with kube-apiserver's Status (kubectl
/// then falls back to SPDY, which Cairn does not speak, and prints that Status).
public struct ExecService: Sendable {
    /// The sandbox's command line before its options: the daemon's own binary and `exec-sandbox`.
    public var sandbox: [String]

    public init(sandbox: [String]) { self.sandbox = sandbox }

    /// `cairn exec-sandbox` of the binary this process runs (the daemon is `cairn serve`).
    public static func ofThisBinary() -> ExecService {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        return ExecService(sandbox: [path, "exec-sandbox"])
    }
}

/// What an accepted upgrade runs.
struct ExecTarget: Sendable {
    var proto: RemoteCommandProtocol
    var options: PodExecOptions
    var argv: [String]
}

enum ExecWebSocket {
    /// Whether `path` is a pod's exec subresource: (namespace, pod).
    static func execPath(_ path: String) -> APIPath? {
        guard case .success(let p) = APIPath.parse(path), p.kind == .pod, p.subresource == "exec", p.name != nil, p.namespace != nil else {
            return nil
        }
        return p
    }

    /// The upgrade's decision: the command to run, or nil to leave the request to the HTTP handler,
    /// which answers with the reason (the same checks, in `refusal`).
    static func target(path: APIPath, queryItems: [(String, String)], offered: String?, handler: APIHandler,
                       service: ExecService) async -> ExecTarget? {
        guard let proto = RemoteCommandProtocol.negotiate(offered),
              let options = try? PodExecOptions(query: queryItems),
              let plan = try? await handler.views.execPlan(namespace: path.namespace ?? "default", pod: path.name ?? "",
                                                          container: options.container) else { return nil }
        return ExecTarget(proto: proto, options: options, argv: argv(plan, options.command, service: service))
    }

    static func argv(_ plan: ExecPlan, _ command: [String], service: ExecService) -> [String] {
        let mounts = plan.mounts.map { m in
            ExecMount(hostPath: m.subPath.map { "\(m.hostPath)/\($0)" } ?? m.hostPath, mountPath: m.mountPath, readOnly: m.readOnly)
        }
        let encoded = String(decoding: (try? JSONCoding.encoder.encode(mounts)) ?? Data("[]".utf8), as: UTF8.self)
        // The container's workingDir, else its image's default, "/": never the daemon's own directory.
        var args = service.sandbox + ["--mounts", encoded, "--workdir", plan.workingDir ?? "/"]
        return args + ["--"] + command
    }

    /// The Status for an exec request that reached the HTTP handler: the first check it fails, as
    /// kube-apiserver words it, or "Upgrade request required".
    static func upgradeRequired(_ request: APIRequest) -> Status {
        if request.upgrade?.lowercased().hasPrefix("spdy") == true {
            return Status.badRequest("""
                Cairn serves kubectl exec over WebSocket only (\(RemoteCommandProtocol.allCases.map(\.rawValue).joined(separator: ", "))), \
                not SPDY: use kubectl 1.30 or newer (kubectl 1.29 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true), or cairn exec
                """)
        }
        if request.upgrade?.lowercased() == "websocket", RemoteCommandProtocol.negotiate(request.webSocketProtocol) == nil {
            return Status.badRequest("""
                unable to upgrade: none of the offered subprotocols (\(request.webSocketProtocol ?? "none")) is one Cairn speaks: \
                \(RemoteCommandProtocol.allCases.map(\.rawValue).joined(separator: ", "))
                """)
        }
        return Status.badRequest("Upgrade request required")
    }

    /// Runs the command for the WebSocket's life.
    static func run(_ target: ExecTarget, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async {
        let session = SessionBox(RemoteCommandSession(protocol: target.proto, options: target.options))
        let process: ExecProcess
        do {
            process = try ExecProcess(argv: target.argv, tty: target.options.tty, stdin: target.options.stdin)
        } catch {
            if case .finish(let frame) = session.update({ $0.failed("\(error)") }) {
                try? await outbound.write(.binary(ByteBuffer(bytes: frame)))
            }
            try? await outbound.close(.normalClosure, reason: nil)
            return
        }
        logger.debug("exec started", metadata: ["pid": "\(process.pid)", "command": "\(target.options.command.joined(separator: " "))"])
        let options = target.options
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Client to command. The stream ends when the client closes the WebSocket.
                do {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .binary(let buffer) = message else { continue }
                        logger.trace("exec: message from the client", metadata: ["bytes": "\(Array(buffer.readableBytesView.prefix(32)))"])
                        switch session.update({ $0.received(Array(buffer.readableBytesView)) }) {
                        case .writeStdin(let bytes): process.write(bytes)
                        case .closeStdin: process.closeInput()
                        case .resizeTerminal(let w, let h): process.resize(width: w, height: h)
                        case .abort(let why):
                            logger.notice("exec: closing a connection that broke the protocol", metadata: ["why": "\(why)"])
                            process.kill()
                            try? await outbound.close(.protocolError, reason: why)
                            return
                        case .finish, .none: break
                        }
                    }
                } catch {}
                // The client went away before the command ended: it ends too, as kubelet ends it.
                if !session.isFinished { process.kill() }
            }
            // Command to client, then how it ended.
            for await (stream, bytes) in process.output {
                let channel: RemoteCommandChannel = stream == .stdout ? .stdout : .stderr
                guard (channel == .stdout && options.stdout) || (channel == .stderr && options.stderr) || options.tty else { continue }
                do { try await outbound.write(.binary(ByteBuffer(bytes: RemoteCommandFrames.output(channel, bytes)))) } catch { process.kill() }
            }
            let code = await process.waitForExit()
            if case .finish(let frame) = session.update({ $0.exited(code) }) {
                try? await outbound.write(.binary(ByteBuffer(bytes: frame)))
            }
            try? await outbound.close(.normalClosure, reason: nil)
            logger.debug("exec ended", metadata: ["pid": "\(process.pid)", "exit": "\(code)"])
        }
    }

    /// The session state machine, shared by the two directions.
    final class SessionBox: Sendable {
        private let state: Mutex<RemoteCommandSession>
        init(_ s: RemoteCommandSession) { state = Mutex(s) }
        func update(_ body: (inout RemoteCommandSession) -> RemoteCommandSession.Action) -> RemoteCommandSession.Action {
            state.withLock { body(&$0) }
        }
        var isFinished: Bool { state.withLock { $0.finished } }
    }
}
