import CairnAPIMachinery
import CairnCore
import Foundation
import Logging
import NIOCore
import Synchronization

/// `kubectl exec` over SPDY/3.1 with the `v4.channel.k8s.io` stream protocol, as kubelet serves it to
/// kubectl 1.29 and older (and to newer ones after a refused WebSocket): the client opens one stream
/// per channel, named by its `streamType` header; stdout and stderr are half-closed when the
/// command's output ends, then the error stream carries the Status (the exit code) and is closed.
enum ExecSPDY {
    /// The subprotocols Cairn answers the upgrade with, best first.
    static let protocols = ["v4.channel.k8s.io"]

    static func negotiate(_ offered: [String]) -> String? {
        let names = offered.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        return protocols.first { names.contains($0) }
    }

    /// The streams a session waits for before the command starts (kubelet's expected streams).
    static func expected(_ o: PodExecOptions) -> Set<String> {
        var s: Set<String> = ["error"]
        if o.stdin { s.insert("stdin") }
        if o.stdout { s.insert("stdout") }
        if o.stderr && !o.tty { s.insert("stderr") }
        if o.tty { s.insert("resize") }
        return s
    }

    /// Runs one exec for the connection's life.
    static func run(_ target: ExecTarget, channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, logger: Logger) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await session(target, inbound: inbound, outbound: outbound, logger: logger)
            }
        } catch {
            logger.debug("exec over SPDY ended", metadata: ["error": "\(error)"])
        }
    }

    /// The stream ids the client opened, by streamType, once all the expected ones are there.
    final class Streams: Sendable {
        let state = Mutex<(ids: [String: UInt32], waiter: CheckedContinuation<[String: UInt32]?, Never>?, done: Bool)>(([:], nil, false))
        let expected: Set<String>
        init(expected: Set<String>) { self.expected = expected }

        func add(_ type: String, _ id: UInt32) {
            let resume = state.withLock { s -> (CheckedContinuation<[String: UInt32]?, Never>, [String: UInt32])? in
                s.ids[type] = id
                guard !s.done, expected.isSubset(of: Set(s.ids.keys)), let w = s.waiter else { return nil }
                s.done = true
                s.waiter = nil
                return (w, s.ids)
            }
            resume?.0.resume(returning: resume?.1)
        }

        /// Gives up (the client went away).
        func cancel() {
            let w = state.withLock { s -> CheckedContinuation<[String: UInt32]?, Never>? in
                guard !s.done else { return nil }
                s.done = true
                defer { s.waiter = nil }
                return s.waiter
            }
            w?.resume(returning: nil)
        }

        func wait() async -> [String: UInt32]? {
            await withCheckedContinuation { c in
                let ready = state.withLock { s -> [String: UInt32]?? in
                    if s.done { return .some(expected.isSubset(of: Set(s.ids.keys)) ? s.ids : nil) }
                    if expected.isSubset(of: Set(s.ids.keys)) { s.done = true; return .some(s.ids) }
                    s.waiter = c
                    return .none
                }
                if let ready { c.resume(returning: ready) }
            }
        }
    }

    static func session(_ target: ExecTarget, inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
                        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger) async throws {
        let options = target.options
        let streams = Streams(expected: expected(options))
        let process = ProcessBox()
        let writer = FrameWriter(outbound)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Client to server: stream openings (answered at once, as spdystream's client waits for
            // each reply), stdin, resizes, pings.
            group.addTask {
                var decoder = SPDYFrameDecoder()
                let inflater = try SPDYHeaderCompression(.inflate)
                let deflater = try SPDYHeaderCompression(.deflate)
                var typeByID: [UInt32: String] = [:]
                var resizeBuffer: [UInt8] = []
                do {
                    for try await buffer in inbound {
                        decoder.push(buffer.readableBytesView)
                        while let frame = try decoder.next() {
                            switch frame {
                            case .synStream(let id, _, let block):
                                let headers = try SPDYHeaderBlock.decode(try inflater.process(block))
                                let type = headers["streamtype"]?.first ?? ""
                                typeByID[id] = type
                                try await writer.write(.synReply(streamID: id, flags: 0,
                                                                 headerBlock: try deflater.process(SPDYHeaderBlock.encode([]))))
                                streams.add(type, id)
                            case .data(let id, let flags, let payload):
                                switch typeByID[id] {
                                case "stdin":
                                    if !payload.isEmpty { process.write(payload) }
                                    if flags & SPDYFrame.flagFin != 0 { process.closeInput() }
                                case "resize":
                                    resizeBuffer += payload
                                    for size in Self.terminalSizes(&resizeBuffer) { process.value?.resize(width: size.0, height: size.1) }
                                default:
                                    break
                                }
                            case .ping(let id):
                                try await writer.write(.ping(id: id))
                            case .rstStream(let id, _):
                                if typeByID[id] == "stdin" { process.closeInput() }
                            case .goAway:
                                break
                            case .synReply, .other:
                                break
                            }
                        }
                    }
                } catch {
                    logger.debug("exec over SPDY: the client's frames ended", metadata: ["error": "\(error)"])
                }
                // The connection is gone: so is the command.
                streams.cancel()
                process.kill()
            }
            group.addTask {
                guard let ids = await streams.wait() else { return }
                guard let errorStream = ids["error"] else { return }
                let started: ExecProcess
                do {
                    started = try ExecProcess(argv: target.argv, tty: options.tty, stdin: options.stdin)
                } catch {
                    let status = JSONValue.object([
                        "metadata": [:], "status": "Failure", "reason": "InternalError", "code": 500,
                        "message": .string("Internal error occurred: error executing command in container: \(error)"),
                    ])
                    try await writer.write(.data(streamID: errorStream, flags: SPDYFrame.flagFin, payload: Array(status.jsonText().utf8)))
                    try await writer.write(.goAway(lastStreamID: 0, status: 0))
                    return
                }
                process.set(started)
                logger.debug("exec over SPDY started", metadata: ["pid": "\(started.pid)", "command": "\(options.command.joined(separator: " "))"])
                for await (stream, bytes) in started.output {
                    let name = stream == .stdout || options.tty ? "stdout" : "stderr"
                    guard let id = ids[name] else { continue }
                    var offset = 0
                    while offset < bytes.count {
                        let end = min(offset + 32 * 1024, bytes.count)
                        try await writer.write(.data(streamID: id, flags: 0, payload: Array(bytes[offset..<end])))
                        offset = end
                    }
                }
                let code = await started.waitForExit()
                for name in ["stdout", "stderr"] {
                    if let id = ids[name] { try await writer.write(.data(streamID: id, flags: SPDYFrame.flagFin, payload: [])) }
                }
                let status = RemoteCommandFrames.statusJSON(exitCode: code, command: options.command)
                try await writer.write(.data(streamID: errorStream, flags: SPDYFrame.flagFin, payload: Array(status.jsonText().utf8)))
                try await writer.write(.goAway(lastStreamID: 0, status: 0))
                logger.debug("exec over SPDY ended", metadata: ["pid": "\(started.pid)", "exit": "\(code)"])
                // The client closes the connection once it has read the status; the reader then ends.
            }
            try await group.next()
            try await group.next()
        }
    }

    /// Whole `{"Width":W,"Height":H}` objects at the front of `buffer` (kubectl writes them one after
    /// another with a JSON encoder), removed from it.
    static func terminalSizes(_ buffer: inout [UInt8]) -> [(UInt16, UInt16)] {
        var sizes: [(UInt16, UInt16)] = []
        while let close = buffer.firstIndex(of: UInt8(ascii: "}")) {
            let object = Array(buffer[...close])
            buffer.removeFirst(close + 1)
            if case .resize(let w, let h)? = try? RemoteCommandFrames.decode([RemoteCommandChannel.resize.rawValue] + object, protocol: .v4) {
                sizes.append((w, h))
            }
        }
        return sizes
    }

    /// The command, once started; input that arrives before it is, is kept for it.
    final class ProcessBox: Sendable {
        private let state = Mutex<(process: ExecProcess?, pending: [[UInt8]], inputClosed: Bool, killed: Bool)>((nil, [], false, false))
        var value: ExecProcess? { state.withLock { $0.process } }
        func set(_ p: ExecProcess) {
            let (pending, close, kill) = state.withLock { s -> ([[UInt8]], Bool, Bool) in
                s.process = p
                defer { s.pending = [] }
                return (s.pending, s.inputClosed, s.killed)
            }
            for bytes in pending { p.write(bytes) }
            if close { p.closeInput() }
            if kill { p.kill() }
        }
        func write(_ bytes: [UInt8]) {
            let p = state.withLock { s -> ExecProcess? in
                if s.process == nil { s.pending.append(bytes) }
                return s.process
            }
            p?.write(bytes)
        }
        func closeInput() {
            let p = state.withLock { s -> ExecProcess? in s.inputClosed = true; return s.process }
            p?.closeInput()
        }
        func kill() {
            let p = state.withLock { s -> ExecProcess? in s.killed = true; return s.process }
            p?.kill()
        }
    }

    /// Frames out, one at a time.
    struct FrameWriter: Sendable {
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        init(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) { self.outbound = outbound }
        func write(_ frame: SPDYFrame) async throws { try await outbound.write(ByteBuffer(bytes: frame.encoded)) }
    }
}
