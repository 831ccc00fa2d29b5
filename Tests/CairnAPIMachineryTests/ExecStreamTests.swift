@testable import CairnAPIMachinery
import CairnCore
import Testing

struct ExecStreamTests {
    static let offers: [(String, RemoteCommandProtocol)] = [
        ("v5.channel.k8s.io", .v5),
        ("v4.channel.k8s.io, v3.channel.k8s.io", .v4),
        ("v3.channel.k8s.io,v4.channel.k8s.io", .v4),
        ("base64.channel.k8s.io, v5.channel.k8s.io", .v5),
    ]

    @Test(arguments: offers)
    func negotiation(_ offered: String, _ expected: RemoteCommandProtocol) {
        #expect(RemoteCommandProtocol.negotiate(offered) == expected)
    }

    @Test func unsupportedOffers() {
        #expect(RemoteCommandProtocol.negotiate("channel.k8s.io") == nil)
        #expect(RemoteCommandProtocol.negotiate(nil) == nil)
    }

    /// Client messages (numbered cases).
    static let decodedMessages: [(Int, [UInt8], RemoteCommandProtocol, RemoteCommandClientMessage)] = [
        (1, [0] + Array("ls\n".utf8), .v5, .stdin(Array("ls\n".utf8))),
        (2, [0], .v4, .stdin([])),
        (3, RemoteCommandFrames.resize(width: 120, height: 40), .v5, .resize(width: 120, height: 40)),
        (4, [4] + Array(#"{"Width":80,"Height":24}"#.utf8), .v4, .resize(width: 80, height: 24)),
        (5, [255, 0], .v5, .close(.stdin)),
    ]

    @Test(arguments: decodedMessages)
    func decode(_ c: (Int, [UInt8], RemoteCommandProtocol, RemoteCommandClientMessage)) throws {
        #expect(try RemoteCommandFrames.decode(c.1, protocol: c.2) == c.3, "case \(c.0)")
    }

    static let malformedMessages: [(Int, [UInt8], RemoteCommandProtocol, String)] = [
        (1, [], .v5, "empty message: no channel byte"),
        (2, [255, 0], .v4, "channel 255 (close) is not part of v4.channel.k8s.io"),
        (3, [255], .v5, "invalid close message: want [255, channel]"),
        (4, [4] + Array("80x24".utf8), .v5, #"invalid resize message 80x24: want {"Width":W,"Height":H}"#),
        (5, [1, 65], .v5, "unexpected message on channel 1 from the client"),
    ]

    @Test(arguments: malformedMessages)
    func malformed(_ c: (Int, [UInt8], RemoteCommandProtocol, String)) {
        #expect(throws: RemoteCommandProtocolError(description: c.3)) { try RemoteCommandFrames.decode(c.1, protocol: c.2) }
    }

    /// The error channel as client-go's errorDecoderV4 reads it: Success, or NonZeroExitCode with the code.
    @Test func statusMessages() throws {
        #expect(RemoteCommandFrames.status(exitCode: 0, command: ["true"]) == [3] + Array(#"{"metadata":{},"status":"Success"}"#.utf8))
        let failed = RemoteCommandFrames.status(exitCode: 3, command: ["sh", "-c", "exit 3"])
        #expect(failed.first == 3)
        let s = try JSONText.parse(Array(failed.dropFirst()))
        #expect(s["status"] == "Failure")
        #expect(s["reason"] == "NonZeroExitCode")
        #expect(s["details"] == ["causes": [["reason": "ExitCode", "message": "3"]]])
        #expect(s["message"] == "command terminated with non-zero exit code: command 'sh -c exit 3' exited with 3")
        #expect(RemoteCommandFrames.output(.stdout, Array("hi".utf8)) == [1, 104, 105])
        #expect(RemoteCommandFrames.output(.stderr, [] as [UInt8]) == [2])
    }

    @Test func options() throws {
        let o = try PodExecOptions(query: [("command", "touch"), ("command", "/applog/server.log"), ("container", "app"),
                                           ("stdout", "true"), ("stderr", "true")])
        #expect(o.command == ["touch", "/applog/server.log"])
        #expect(o.container == "app")
        #expect(o.stdout && o.stderr && !o.stdin && !o.tty)
        let t = try PodExecOptions(query: [("command", "sh"), ("stdin", "true"), ("stdout", "true"), ("stderr", "true"), ("tty", "true")])
        #expect(t.tty && !t.stderr)
        #expect(throws: Status.badRequest("you must specify at least one command for the container")) {
            try PodExecOptions(query: [("stdout", "true")])
        }
        #expect(throws: Status.badRequest("you must specify at least 1 of stdin, stdout, stderr")) {
            try PodExecOptions(query: [("command", "ls")])
        }
    }

    /// The session: stdin until CLOSE, resizes only with a terminal, one final status.
    @Test func session() throws {
        let opts = try PodExecOptions(query: [("command", "cat"), ("stdin", "true"), ("stdout", "true"), ("tty", "true")])
        var s = RemoteCommandSession(protocol: .v5, options: opts)
        #expect(s.received([0, 97]) == .writeStdin([97]))
        #expect(s.received(RemoteCommandFrames.resize(width: 10, height: 5)) == .resizeTerminal(width: 10, height: 5))
        #expect(s.received([255, 0]) == .closeStdin)
        #expect(s.received([0, 98]) == RemoteCommandSession.Action.none)
        #expect(s.exited(0) == .finish([3] + Array(#"{"metadata":{},"status":"Success"}"#.utf8)))
        #expect(s.exited(1) == RemoteCommandSession.Action.none)

        var bad = RemoteCommandSession(protocol: .v4, options: opts)
        #expect(bad.received([9]) == .abort("unexpected message on channel 9 from the client"))
        #expect(bad.finished)
    }
}
