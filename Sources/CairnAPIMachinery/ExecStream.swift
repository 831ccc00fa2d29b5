import CairnCore

/// The remote-command stream protocol `kubectl exec` speaks over a WebSocket (k8s.io/apimachinery
/// pkg/util/remotecommand, k8s.io/client-go tools/remotecommand/websocket.go): every binary message
/// is one channel byte followed by that channel's data.
///
/// kubectl 1.31+ offers only `v5.channel.k8s.io` over WebSocket (and falls back to SPDY, which Cairn
/// does not speak, when the upgrade is refused); kubectl 1.29-1.30 with WebSockets enabled offered
/// `v4.channel.k8s.io` too. v4 added the exit code on the error channel, v5 the CLOSE signal.
public enum RemoteCommandProtocol: String, Sendable, Hashable, CaseIterable {
    case v5 = "v5.channel.k8s.io"
    case v4 = "v4.channel.k8s.io"

    /// The protocol to answer with, from the client's `Sec-WebSocket-Protocol` offer (comma-separated,
    /// in the client's order of preference); nil when none is one Cairn speaks (answer 400 then, so
    /// kubectl falls back and reports the failure).
    public static func negotiate(_ offered: String?) -> RemoteCommandProtocol? {
        let names = (offered ?? "").split(separator: ",").map { String($0.trimmingSpaces) }
        for name in names { if let p = RemoteCommandProtocol(rawValue: name) { return p } }
        return nil
    }

    public var supportsClose: Bool { self == .v5 }
}

/// The channels, numbered as the streams' file descriptors where they have one.
public enum RemoteCommandChannel: UInt8, Sendable, Hashable {
    case stdin = 0
    case stdout = 1
    case stderr = 2
    /// Server to client, once: a metav1.Status saying how the command ended.
    case error = 3
    /// Client to server: `{"Width":W,"Height":H}` for a terminal.
    case resize = 4
    /// v5, client to server: `[255, channel]`, the client is done writing to that channel.
    case close = 255
}

/// A message from kubectl.
public enum RemoteCommandClientMessage: Sendable, Hashable {
    case stdin([UInt8])
    case resize(width: UInt16, height: UInt16)
    /// The client closed its side of a channel (v5); for stdin it means end of input.
    case close(RemoteCommandChannel)
}

/// A malformed message: the connection is closed with this reason.
public struct RemoteCommandProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}

/// The framing, both ways: a value type that decides, the WebSocket adapter acts.
public enum RemoteCommandFrames {
    /// Decodes one binary WebSocket message from the client.
    public static func decode(_ message: [UInt8], protocol p: RemoteCommandProtocol) throws(RemoteCommandProtocolError) -> RemoteCommandClientMessage {
        guard let first = message.first else { throw RemoteCommandProtocolError(description: "empty message: no channel byte") }
        let data = Array(message.dropFirst())
        switch RemoteCommandChannel(rawValue: first) {
        case .stdin?:
            return .stdin(data)
        case .resize?:
            guard case .object(let o)? = try? JSONText.parse(data),
                  let w = intValue(o["Width"]), let h = intValue(o["Height"]),
                  (0...Int64(UInt16.max)).contains(w), (0...Int64(UInt16.max)).contains(h) else {
                throw RemoteCommandProtocolError(description: "invalid resize message \(String(decoding: data, as: UTF8.self)): want {\"Width\":W,\"Height\":H}")
            }
            return .resize(width: UInt16(w), height: UInt16(h))
        case .close?:
            guard p.supportsClose else { throw RemoteCommandProtocolError(description: "channel 255 (close) is not part of \(p.rawValue)") }
            guard data.count == 1, let channel = RemoteCommandChannel(rawValue: data[0]) else {
                throw RemoteCommandProtocolError(description: "invalid close message: want [255, channel]")
            }
            return .close(channel)
        default:
            throw RemoteCommandProtocolError(description: "unexpected message on channel \(first) from the client")
        }
    }

    static func intValue(_ v: JSONValue?) -> Int64? {
        switch v {
        case .int(let i)?: i
        case .double(let d)?: Int64(exactly: d)
        default: nil
        }
    }

    /// Output on stdout or stderr, as one binary message.
    public static func output(_ channel: RemoteCommandChannel, _ data: some Collection<UInt8>) -> [UInt8] {
        precondition(channel == .stdout || channel == .stderr, "output goes to stdout or stderr")
        return [channel.rawValue] + Array(data)
    }

    /// The error channel's message: how the command ended. An exit status of 0 is Success; any other
    /// is kubelet's NonZeroExitCode Status (kubectl exits with that code and prints
    /// `command terminated with exit code N`). `failure` is for a command that could not be run at all.
    public static func status(exitCode: Int32, command: [String]) -> [UInt8] {
        [RemoteCommandChannel.error.rawValue] + Array(statusJSON(exitCode: exitCode, command: command).jsonText().utf8)
    }

    public static func statusJSON(exitCode: Int32, command: [String]) -> JSONValue {
        if exitCode == 0 { return ["metadata": [:], "status": "Success"] }
        return [
            "metadata": [:],
            "status": "Failure",
            "message": .string("command terminated with non-zero exit code: command '\(command.joined(separator: " "))' exited with \(exitCode)"),
            "reason": "NonZeroExitCode",
            "details": ["causes": [["reason": "ExitCode", "message": .string(String(exitCode))]]],
        ]
    }

    /// A command that could not be started: kubelet's InternalError on the error channel.
    public static func failure(_ message: String) -> [UInt8] {
        let s: JSONValue = ["metadata": [:], "status": "Failure",
                            "message": .string("Internal error occurred: error executing command in container: \(message)"),
                            "reason": "InternalError", "details": ["causes": [["message": .string("error executing command in container: \(message)")]]],
                            "code": 500]
        return [RemoteCommandChannel.error.rawValue] + Array(s.jsonText().utf8)
    }

    /// A resize message as kubectl writes it (for tests and clients).
    public static func resize(width: UInt16, height: UInt16) -> [UInt8] {
        [RemoteCommandChannel.resize.rawValue] + Array(#"{"Width":\#(width),"Height":\#(height)}"#.utf8)
    }
}

/// PodExecOptions from the query string: `command` (repeated), `container`, `stdin`, `stdout`,
/// `stderr`, `tty`, with kube-apiserver's checks.
public struct PodExecOptions: Sendable, Hashable {
    public var command: [String]
    public var container: String?
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var tty: Bool

    /// `query` in request order (command repeats).
    public init(query: [(String, String)]) throws(Status) {
        func flag(_ name: String) -> Bool {
            guard let v = query.last(where: { $0.0 == name })?.1 else { return false }
            return v == "true" || v == "1"
        }
        command = query.filter { $0.0 == "command" }.map(\.1)
        container = query.last(where: { $0.0 == "container" })?.1
        if container == "" { container = nil }
        stdin = flag("stdin")
        stdout = flag("stdout")
        stderr = flag("stderr")
        tty = flag("tty")
        if command.isEmpty {
            throw Status.badRequest("you must specify at least one command for the container")
        }
        if !stdin && !stdout && !stderr {
            throw Status.badRequest("you must specify at least 1 of stdin, stdout, stderr")
        }
        // With a terminal the command's stderr is merged into stdout, as kubelet does.
        if tty { stderr = false }
    }
}

/// Where a running exec is: the adapter feeds it client messages and the command's end, and does
/// what it returns. Output is passed straight through with `RemoteCommandFrames.output`.
public struct RemoteCommandSession: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case writeStdin([UInt8])
        case closeStdin
        case resizeTerminal(width: UInt16, height: UInt16)
        /// Send this message, then close the WebSocket normally (1000).
        case finish([UInt8])
        /// Close the WebSocket with a protocol error (1002) and stop the command.
        case abort(String)
        case none
    }

    public let proto: RemoteCommandProtocol
    public let options: PodExecOptions
    public private(set) var stdinOpen: Bool
    public private(set) var finished = false

    public init(protocol p: RemoteCommandProtocol, options: PodExecOptions) {
        proto = p
        self.options = options
        stdinOpen = options.stdin
    }

    public mutating func received(_ message: [UInt8]) -> Action {
        guard !finished else { return .none }
        do {
            switch try RemoteCommandFrames.decode(message, protocol: proto) {
            case .stdin(let data):
                guard stdinOpen else { return .none }
                return .writeStdin(data)
            case .resize(let w, let h):
                return options.tty ? .resizeTerminal(width: w, height: h) : .none
            case .close(let channel):
                guard channel == .stdin, stdinOpen else { return .none }
                stdinOpen = false
                return .closeStdin
            }
        } catch {
            finished = true
            return .abort(error.description)
        }
    }

    /// The command exited (its output already sent).
    public mutating func exited(_ code: Int32) -> Action {
        guard !finished else { return .none }
        finished = true
        return .finish(RemoteCommandFrames.status(exitCode: code, command: options.command))
    }

    /// The command could not be run.
    public mutating func failed(_ message: String) -> Action {
        guard !finished else { return .none }
        finished = true
        return .finish(RemoteCommandFrames.failure(message))
    }
}
