import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the test targets that drive programs share: where the package and its `cairn` binary are,
/// and one way to run a program with a deadline.

/// The package's root, found from this file's path (Tests/CairnTestSupport/Subprocess.swift).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The `cairn` binary `swift build` made (tools/test.sh builds it before the tests); `CAIRN_BINARY`
/// names another.
public let cairnBinary: String = {
    if let env = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !env.isEmpty { return env }
    for candidate in [".build/debug/cairn", ".build/release/cairn"] {
        let p = "\(packageRoot)/\(candidate)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return "\(packageRoot)/.build/debug/cairn"
}()

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

public struct RunResult: CustomStringConvertible, Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
    public var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs a program with a deadline (on timeout it is killed and the result says so, status -1) and
/// collects its output. `KUBECONFIG` is cleared, so kubectl reads only the kubeconfig a test names;
/// `environment` adds or replaces variables.
public func runProgram(_ executable: String, _ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60,
                       environment: [String: String] = [:]) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["KUBECONFIG"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        _ = group.wait(timeout: .now() + 5)
        return RunResult(status: -1, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: "timed out after \(timeout)s: \(executable) \(arguments.joined(separator: " "))\n" + String(decoding: errData, as: UTF8.self))
    }
    process.waitUntilExit()
    _ = group.wait(timeout: .now() + 5)
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// HOME in the temporary directory, so kubectl's cache (HOME/.kube) is never the user's and runs of
/// the suite never share one.
public let scratchHome: [String: String] = ["HOME": FileManager.default.temporaryDirectory.path]

/// `runProgram` on a Dispatch thread: an async test must not block the concurrency pool's few
/// threads while a child talks to a server that this process serves from that same pool.
public func runDetached(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60,
                        environment: [String: String] = scratchHome) async throws -> RunResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try runProgram(executable, arguments, timeout: timeout, environment: environment)) }
            catch { continuation.resume(throwing: error) }
        }
    }
}

/// A fresh directory under the system temporary directory, removed by the caller.
public func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The kubectl binaries the suites drive: /usr/bin/kubectl (1.32) and the versioned binaries beside
/// the Cloud SDK that `CAIRN_KUBECTL_VERSIONS` names (the oldest and newest, 1.27 and 1.33, by default).
public let kubectlBinaries: [String] = {
    let sdk = "/usr/lib/google-cloud-sdk/bin/kubectl"
    let wanted = (ProcessInfo.processInfo.environment["CAIRN_KUBECTL_VERSIONS"] ?? "1.27,1.33")
        .split(separator: ",").map { "\(sdk).\($0.trimmingCharacters(in: .whitespaces))" }
    return (["/usr/bin/kubectl"] + wanted).filter { FileManager.default.isExecutableFile(atPath: $0) }
}()
