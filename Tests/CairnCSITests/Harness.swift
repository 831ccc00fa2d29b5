import CairnCSI
import CairnNode
import CairnTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing

#if canImport(Glibc)
import Glibc
#endif

typealias Transport = HTTP2ClientTransport.Posix

/// The three CSI clients on one connection.
struct CSIClients: Sendable {
    let identity: Csi_V1_Identity.Client<Transport>
    let controller: Csi_V1_Controller.Client<Transport>
    let node: Csi_V1_Node.Client<Transport>
}

/// `cairn csi` in a child process of its own process group, in a temporary directory that also holds
/// a kubelet-like tree for staging and target paths. `stop()` always cleans up: the driver, every
/// mount below the directory, the directory.
final class DriverProcess: @unchecked Sendable {
    let dir: String
    let nodeID = "csi-node-1"
    let capacity: String
    let extraArguments: [String]
    var pid: pid_t = 0

    var socket: String { "\(dir)/plugin/csi.sock" }
    var stateDir: String { "\(dir)/state" }
    var dataRoot: String { "\(dir)/data" }
    var bindingsSocket: String { "\(stateDir)/cairn.sock" }
    var logPath: String { "\(dir)/driver.log" }
    var kubelet: String { "\(dir)/kubelet" }

    init(capacity: String = "1Gi", extraArguments: [String] = []) async throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-csi-test-XXXXXX").path
        var buf = Array(template.utf8CString)
        guard mkdtemp(&buf) != nil else { throw TestFailure("mkdtemp failed") }
        dir = String(cString: buf)
        self.capacity = capacity
        self.extraArguments = extraArguments
        try FileManager.default.createDirectory(atPath: kubelet, withIntermediateDirectories: true)
        try await start()
    }

    var arguments: [String] {
        ["csi", "--endpoint", "unix://\(socket)", "--node-id", nodeID, "--state-dir", stateDir, "--data-root", dataRoot,
         "--capacity", capacity, "--log-level", "debug"] + extraArguments
    }

    /// Starts the driver and waits (with a deadline) until Probe answers ready.
    func start() async throws {
        guard FileManager.default.isExecutableFile(atPath: cairnBinary) else {
            throw TestFailure("\(cairnBinary) is missing: run `swift build` before the tests (tools/test.sh does)")
        }
        pid = try spawnInOwnGroup(cairnBinary, arguments, log: logPath)
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                throw TestFailure("cairn csi exited during start-up:\n\(log())")
            }
            if FileManager.default.fileExists(atPath: socket), await probeReady() { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestFailure("cairn csi did not answer Probe ready within 90 s:\n\(log())")
    }

    /// One Probe on a fresh connection; false on any error.
    func probeReady() async -> Bool {
        (try? await withGRPCClient(transport: try .http2NIOPosix(target: .unixDomainSocket(path: socket),
                                                                  transportSecurity: .plaintext)) { client in
            let identity = Csi_V1_Identity.Client(wrapping: client)
            let r = try await identity.probe(Csi_V1_ProbeRequest(), options: Self.shortCall)
            return !r.hasReady || r.ready.value
        }) ?? false
    }

    static var shortCall: CallOptions {
        var o = CallOptions.defaults
        o.timeout = .seconds(5)
        return o
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// kill -9 of the driver's whole process group, as a crash.
    func crash() {
        guard pid > 0 else { return }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 30 s. True if it exited by itself with status 0.
    @discardableResult
    func terminate() -> Bool {
        guard pid > 0 else { return true }
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                return status == 0
            }
            usleep(20_000)
        }
        crash()
        return false
    }

    func stop() {
        terminate()
        unmountEverything(under: dir)
        try? FileManager.default.removeItem(atPath: dir)
    }

    func withClients<T: Sendable>(_ body: @Sendable (CSIClients) async throws -> T) async throws -> T {
        try await withGRPCClient(transport: try .http2NIOPosix(target: .unixDomainSocket(path: socket),
                                                                transportSecurity: .plaintext)) { client in
            try await body(CSIClients(identity: .init(wrapping: client), controller: .init(wrapping: client),
                                      node: .init(wrapping: client)))
        }
    }

    // MARK: kubelet-like paths

    /// A staging directory as the kubelet makes it (the CO creates the staging path itself).
    func stagingPath(_ name: String) throws -> String {
        let path = "\(kubelet)/plugins/kubernetes.io/csi/\(CSIDriverConfig.driverName)/\(name)/globalmount"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A target path whose parent exists, as the kubelet leaves it (the driver creates the path).
    func targetPath(pod: String, volume: String) throws -> String {
        let parent = "\(kubelet)/pods/\(pod)/volumes/kubernetes.io~csi/\(volume)"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        return parent + "/mount"
    }

    func cairn(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cairnBinary)
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// Runs `body` with a fresh driver and always stops it (its log is attached to a failure).
func withDriver(capacity: String = "1Gi", extraArguments: [String] = [],
                _ body: @Sendable (DriverProcess, CSIClients) async throws -> Void) async throws {
    let driver = try await DriverProcess(capacity: capacity, extraArguments: extraArguments)
    defer { driver.stop() }
    do {
        try await driver.withClients { clients in try await body(driver, clients) }
    } catch {
        Issue.record("driver log:\n\(driver.log().suffix(6000))")
        throw error
    }
}

/// posix_spawn with its own process group, stdout and stderr appended to `log`, stdin /dev/null.
func spawnInOwnGroup(_ path: String, _ arguments: [String], log: String) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard rc == 0 else { throw TestFailure("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    return pid
}

/// Lazily unmounts (deepest first) every mount below `dir`.
func unmountEverything(under dir: String) {
    let points = MountTable.mounts().map(\.mountPoint).filter { $0 == dir || $0.hasPrefix(dir + "/") }
    for p in points.sorted(by: { $0.count > $1.count }) { umount2(p, Int32(MNT_DETACH)) }
}

// MARK: - Requests

extension Csi_V1_CreateVolumeRequest {
    static func make(_ name: String, bytes: Int64? = nil, limit: Int64 = 0,
                     modes: [Csi_V1_VolumeCapability.AccessMode.Mode] = [.singleNodeWriter],
                     parameters: [String: String] = [:]) -> Self {
        var r = Self()
        r.name = name
        if let bytes {
            r.capacityRange.requiredBytes = bytes
            r.capacityRange.limitBytes = limit
        }
        r.volumeCapabilities = modes.map { .mount($0) }
        r.parameters = parameters
        return r
    }
}

extension Csi_V1_NodeStageVolumeRequest {
    static func make(_ id: String, _ path: String, _ mode: Csi_V1_VolumeCapability.AccessMode.Mode = .singleNodeWriter) -> Self {
        var r = Self()
        r.volumeID = id
        r.stagingTargetPath = path
        r.volumeCapability = .mount(mode)
        return r
    }
}

extension Csi_V1_NodePublishVolumeRequest {
    static func make(_ id: String, staging: String, target: String, readOnly: Bool = false,
                     mode: Csi_V1_VolumeCapability.AccessMode.Mode = .singleNodeWriter, pod: String? = nil) -> Self {
        var r = Self()
        r.volumeID = id
        r.stagingTargetPath = staging
        r.targetPath = target
        r.volumeCapability = .mount(mode)
        r.readonly = readOnly
        if let pod {
            r.volumeContext = ["csi.storage.k8s.io/pod.name": pod, "csi.storage.k8s.io/pod.namespace": "default",
                               "csi.storage.k8s.io/pod.uid": "uid-\(pod)"]
        }
        return r
    }
}

/// Expects `body` to fail with `code`; returns the error's message.
@discardableResult
func expectCode<T>(_ code: RPCError.Code, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () async throws -> T) async -> String {
    do {
        let value = try await body()
        Issue.record("\(what): expected \(code), got \(value)", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(what): \(error.message)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, "\(what): the error says why", sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("\(what): expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

// MARK: - Files through the mounts

/// Writes `bytes` bytes of `fill` to `path` with write(2); returns the errno that stopped it, or 0.
func writeFile(_ path: String, bytes: Int, fill: UInt8 = 0x61, chunk: Int = 1 << 20) -> (written: Int, errno: Int32) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return (0, errno) }
    defer { close(fd) }
    let block = [UInt8](repeating: fill, count: chunk)
    var written = 0
    while written < bytes {
        let n = block.withUnsafeBytes { write(fd, $0.baseAddress, min(chunk, bytes - written)) }
        if n < 0 { return (written, errno) }
        written += n
    }
    if fsync(fd) != 0 { return (written, errno) }
    return (written, 0)
}

func readText(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

func statfsTotal(_ path: String) -> Int64? {
    var st = statvfs()
    guard statvfs(path, &st) == 0 else { return nil }
    return Int64(st.f_blocks) * Int64(st.f_frsize)
}

func isMounted(_ path: String) -> Bool { MountTable.isMountPoint(path) }
