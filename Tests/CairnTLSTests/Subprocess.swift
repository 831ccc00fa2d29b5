@_exported import CairnTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// kubectl with its cache (HOME/.kube) in the temporary directory, so runs never share one.
func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> RunResult {
    try runProgram(executable, arguments, timeout: timeout, environment: ["HOME": FileManager.default.temporaryDirectory.path])
}

/// A fresh directory under the system temporary directory, removed by the caller.
func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The kubectl binaries the tests drive: the one on PATH and the oldest and newest beside it.
let kubectlBinaries: [String] = {
    var found: [String] = []
    for p in ["/usr/bin/kubectl", "/usr/lib/google-cloud-sdk/bin/kubectl.1.27", "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"]
    where FileManager.default.isExecutableFile(atPath: p) { found.append(p) }
    return found
}()

/// `run` on a Dispatch thread: an async test must not block the concurrency pool's few threads
/// while a child talks to a server that this process serves from that same pool.
func runDetached(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) async throws -> RunResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try run(executable, arguments, timeout: timeout)) } catch { continuation.resume(throwing: error) }
        }
    }
}
