import CairnNode
@_exported import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `cairn serve` in a child process with two logical nodes, k8s-node1 and
/// k8s-node2 as in the seed lesson, in a temporary state directory. `stop()` always cleans up: the
/// daemon, every mount under the directory, the directory.
final class TestDaemon: @unchecked Sendable {
    let dir: String
    let stateDir: String
    let socket: String
    var pid: pid_t = 0
    var process: Process?
    let extraArgs: [String]
    /// The logical nodes the daemon serves; `restart(nodes:)` changes them.
    var nodes: [String]
    /// Variables the next `start()` adds to the daemon's environment (the crash tests arm points).
    var environment: [String: String] = [:]
    var logPath: String { "\(dir)/daemon.log" }

    init(nodes: [String] = ["k8s-node1", "k8s-node2"], extraArgs: [String] = []) throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-e2e-XXXXXX").path
        var buf = Array(template.utf8CString)
        guard mkdtemp(&buf) != nil else { throw TestFailure("mkdtemp failed") }
        dir = String(cString: buf)
        stateDir = "\(dir)/state"
        socket = "\(dir)/state/cairn.sock"
        self.nodes = nodes
        self.extraArgs = extraArgs
        try start()
    }

    var serveArguments: [String] {
        ["serve", "--state-dir", stateDir, "--socket", socket, "--storage-classes", "\(packageRoot)/storage-classes",
         "--log-level", "debug"] + nodes.flatMap { ["--node", "\($0)=\(dir)/data/\($0)"] } + extraArgs
    }

    /// Starts the daemon and waits (with a deadline) until it answers.
    func start() throws {
        guard FileManager.default.isExecutableFile(atPath: cairnBinary) else {
            throw TestFailure("\(cairnBinary) is missing: run `swift build` before the tests (the README's test command does)")
        }
        // Foundation's Process closes every other descriptor in the child, so the daemon never holds
        // the pipes of commands other tests run at the same time (which would stall their reads).
        FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let logHandle = FileHandle(forWritingAtPath: logPath) else { throw TestFailure("cannot open \(logPath)") }
        logHandle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cairnBinary)
        process.arguments = serveArguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? logHandle.close()
        self.process = process
        let child = process.processIdentifier
        pid = child
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !process.isRunning {
                pid = 0
                throw TestFailure("cairn serve exited during start-up:\n\(log())")
            }
            if let r = try? cairn(["version"], timeout: 5), r.status == 0 { return }
            usleep(50_000)
        }
        throw TestFailure("cairn serve did not answer within 60 s:\n\(log())")
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func cairn(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> RunResult {
        try runProgram(cairnBinary, args, stdin: stdin, timeout: timeout, environment: ["CAIRN_SOCKET": socket])
    }

    /// SIGTERM and wait; SIGKILL the group if it does not stop within 30 s.
    func terminate() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        waitOrKill(30)
    }

    /// A graceful stop and a start with the same state, serving `nodes` (default: the same ones).
    func restart(nodes: [String]? = nil) throws {
        terminate()
        if let nodes { self.nodes = nodes }
        try start()
    }

    /// kill -9, as a crash.
    func crash() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        waitOrKill(10)
    }

    private func waitOrKill(_ seconds: TimeInterval) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if process?.isRunning != true { pid = 0; return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        process?.waitUntilExit()
        pid = 0
    }

    /// Stops everything and removes the directory. Safe to call twice.
    func stop() {
        terminate()
        unmountEverything(under: dir)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Polls until `condition` holds (deadline: `timeout`), for asynchronous convergence.
    func waitUntil(_ what: String, timeout: TimeInterval = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(100_000)
        }
        throw TestFailure("timed out waiting for \(what)\n\(log().suffix(4000))")
    }
}

/// Lazily unmounts (deepest first) every mount below `dir`.
func unmountEverything(under dir: String) {
    let points = MountTable.mounts().map(\.mountPoint).filter { $0 == dir || $0.hasPrefix(dir + "/") }
    for p in points.sorted(by: { $0.count > $1.count }) { umount2(p, Int32(MNT_DETACH)) }
}

/// Writes a manifest to a temporary file.
func manifestFile(_ text: String, in dir: String, name: String = "m.yaml") throws -> String {
    let path = "\(dir)/\(name)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A whole HTTP/1.1 exchange over the daemon's Unix socket (or, for an address "127.0.0.1:PORT", over
/// TCP), for API tests that need raw requests.
func http(_ socketPath: String, _ method: String, _ path: String, body: String? = nil,
          contentType: String = "application/json", headers: [String: String] = [:]) throws -> (status: Int, body: String) {
    let tcpPort = socketPath.hasPrefix("127.0.0.1:") ? UInt16(socketPath.dropFirst("127.0.0.1:".count)) : nil
    let fd = socket(tcpPort == nil ? AF_UNIX : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket() failed") }
    defer { close(fd) }
    // Deadlines both ways: a server that answers early (413 for a huge body) and stops reading must not
    // leave the test blocked in write(), and one that never answers must not block it in read().
    var tv = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var sendTimeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    let ok: Int32
    if let tcpPort {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = tcpPort.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    } else {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(socketPath.utf8)
            for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
    guard ok == 0 else { throw TestFailure("connect(\(socketPath)) failed: \(String(cString: strerror(errno)))") }
    let payload = body.map { Array($0.utf8) } ?? []
    var request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
    if body != nil { request += "Content-Type: \(contentType)\r\nContent-Length: \(payload.count)\r\n" }
    request += "\r\n"
    let bytes = Array(request.utf8) + payload
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }  // the server stopped reading: take whatever it answered
        sent += n
    }
    var response = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        response += buf[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let headerEnd = text.range(of: "\r\n\r\n") else { throw TestFailure("no HTTP response: \(text)") }
    let statusLine = text[..<headerEnd.lowerBound].split(separator: "\r\n").first ?? ""
    let code = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    var bodyText = String(text[headerEnd.upperBound...])
    if text[..<headerEnd.lowerBound].lowercased().contains("transfer-encoding: chunked") { bodyText = dechunk(bodyText) }
    return (code, bodyText)
}

/// Undoes HTTP/1.1 chunked transfer encoding, on bytes (a chunk boundary may fall anywhere).
func dechunk(_ s: String) -> String {
    let bytes = Array(s.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        var j = i
        while j + 1 < bytes.count, !(bytes[j] == 13 && bytes[j + 1] == 10) { j += 1 }
        guard j + 1 < bytes.count, let size = Int(String(decoding: bytes[i..<j], as: UTF8.self).split(separator: ";").first ?? "", radix: 16),
              size > 0 else { break }
        let start = j + 2, end = min(start + size, bytes.count)
        out += bytes[start..<end]
        i = end + 2
    }
    return String(decoding: out, as: UTF8.self)
}

func json(_ text: String) throws -> [String: Any] {
    guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(text.prefix(300))")
    }
    return o
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it).
func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw TestFailure("cannot find a free TCP port: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: addr.sin_port))
}
