import ArgumentParser
import CairnCLICore
import CairnClient
import CairnAPI
import CairnCore
import CairnManifest
import Foundation

/// `cairn`: the daemon (`serve`) and a kubectl-like client for it.
@available(macOS 10.15, *)
public struct CairnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Node-local persistent volumes for Kubernetes-style workloads, served through FUSE.",
        version: CairnVersion.version,
        subcommands: [Serve.self, Apply.self, Get.self, Describe.self, Delete.self, Scale.self, Patch.self, Bindings.self,
                      Verify.self, Exec.self, KubeconfigCommand.self, Version.self, ExecSandbox.self, CSICommand.self])
    public init() {}
}

/// Where the daemon keeps its state, and so its socket, by default.
enum Defaults {
    static var stateDir: String {
        if getuid() == 0 { return "/var/lib/cairn" }
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(NSHomeDirectory())/.local/state"
        return "\(base)/cairn"
    }
    static var socket: String {
        ProcessInfo.processInfo.environment["CAIRN_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(stateDir)/cairn.sock"
    }
}

/// Options every client command takes.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's socket (default: $CAIRN_SOCKET, else <state-dir>/cairn.sock).")
    var socket: String?

    @Option(name: [.short, .long], help: "The namespace to use.")
    var namespace: String?

    var socketPath: String { socket ?? Defaults.socket }
    var ns: String { namespace ?? "default" }

    func withClient<T>(_ body: (CairnClient) async throws -> T) async throws -> T {
        let client = CairnClient(socketPath: socketPath)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

/// A one-line error on stderr and a non-zero exit, as kubectl does ("error: ...").
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32 = 1
    init(_ d: String, exitCode: Int32 = 1) {
        description = d
        self.exitCode = exitCode
    }
}

func fail(_ error: any Error) -> Never {
    var stderr = FileHandle.standardError
    let text: String
    switch error {
    case let code as ExitCode: exit(code.rawValue)  // the command already said why
    case let s as Status: text = "Error from server (\(s.reason)): \(s.message)"
    case let e as CLIError:
        print("error: \(e.description)", to: &stderr)
        exit(e.exitCode)
    case let e as CommandLineError:
        print("error: \(e.message)", to: &stderr)
        exit(1)
    default: text = "\(error)"
    }
    print(text.hasPrefix("Error from server") ? text : "error: \(text)", to: &stderr)
    exit(1)
}

extension FileHandle: @retroactive TextOutputStream {
    public func write(_ string: String) { write(Data(string.utf8)) }
}

/// Runs a client command body, turning every error into kubectl's one-line message and exit code 1.
func runClient(_ body: () async throws -> Void) async {
    do { try await body() } catch { fail(error) }
}

func resolveKinds(_ words: String) throws -> [Kind] {
    var kinds: [Kind] = []
    for w in words.split(separator: ",") {
        // kubectl's "all" category, in discovery order: pods, services, then the apps group's kinds.
        let expanded: [Kind]
        if w.lowercased() == "all" {
            expanded = [.pod, .service, .replicaSet, .statefulSet]
        } else if let k = Kind.resolve(String(w)) {
            expanded = [k]
        } else {
            throw CLIError("the server doesn't have a resource type \"\(w)\"")
        }
        for k in expanded where !kinds.contains(k) { kinds.append(k) }
    }
    return kinds
}

/// The objects of a list answer, or the one object of a get, decoded straight from the response
/// bytes (a list of ten thousand claims is one decoder pass, not ten thousand).
func decodeObjects(_ data: Data, kind: Kind) throws -> [any KubeObject] {
    try decodeList(kind.objectType, data)
}

private struct ListEnvelope<T: Decodable>: Decodable {
    var kind: String?
    var items: [T]?
}

private func decodeList<T: KubeObject>(_ type: T.Type, _ data: Data) throws -> [any KubeObject] {
    let tree = try JSONText.parse(data)
    let envelope = try tree.decode(ListEnvelope<T>.self)
    if envelope.kind?.hasSuffix("List") == true { return envelope.items ?? [] }
    return [try tree.decode(T.self)]
}

/// TYPE/NAME or TYPE NAME... as kubectl reads them (ResourceTypeOrNameArgs).
func typeAndNames(_ args: [String]) throws -> [(Kind, String)] {
    guard let first = args.first else { return [] }
    if first.contains("/") {
        return try args.map { a in
            let parts = a.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw CLIError("arguments in resource/name form must have a single resource and name")
            }
            return (try resolveKinds(parts[0])[0], parts[1])
        }
    }
    let kinds = try resolveKinds(first)
    return kinds.flatMap { k in args.dropFirst().map { (k, $0) } }
}

// MARK: version

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the client and server versions.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .customLong("client"), help: "Print only the client version.") var clientOnly = false

    func run() async {
        print("Client Version: \(CairnVersion.version)")
        if clientOnly { return }
        await runClient {
            let data = try await client.withClient { try await $0.call("GET", "/version") }
            let json = try JSONValue.parse(data)
            print("Server Version: \(json["cairnVersion"]?.stringValue ?? "?") (Kubernetes API \(json["gitVersion"]?.stringValue ?? "?"))")
        }
    }
}
