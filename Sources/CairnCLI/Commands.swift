import ArgumentParser
import CairnClient
import CairnCore
import CairnManifest
import Foundation

/// `cairn`: the daemon (`serve`) and a kubectl-like client for it.
@available(macOS 10.15, *)
public struct CairnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Node-local persistent volumes for Kubernetes-style workloads, served through FUSE.",
        version: CairnCLIVersion.version,
        subcommands: [Serve.self, Apply.self, Get.self, Describe.self, Delete.self, Scale.self, Bindings.self,
                      Verify.self, Exec.self, Version.self, ExecSandbox.self, CSICommand.self])
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
    try words.split(separator: ",").map { w in
        guard let k = Kind.resolve(String(w)) else {
            throw CLIError("the server doesn't have a resource type \"\(w)\"")
        }
        return k
    }
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
    let envelope = try JSONCoding.decoder.decode(ListEnvelope<T>.self, from: data)
    if envelope.kind?.hasSuffix("List") == true { return envelope.items ?? [] }
    return [try JSONCoding.decoder.decode(T.self, from: data)]
}

func resourceName(_ kind: Kind) -> String {
    kind.group.isEmpty ? kind.singular : "\(kind.singular).\(kind.group)"
}

// MARK: get

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Display one or many objects.",
        discussion: "TYPE is a kind, plural or short name (sc, pv, pvc, po, no, ev, ns, sts, rs, svc); several types separated by commas.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "TYPE[,TYPE...] followed by optional NAMEs, or TYPE/NAME.") var args: [String]
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector, e.g. app=web,tier!=cache.") var selector: String?
    @Option(name: .shortAndLong, help: "Output format: wide, json, yaml or name.") var output: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.") var allNamespaces = false
    @Flag(name: .customLong("no-headers"), help: "Print table rows without the header line.") var noHeaders = false

    func run() async {
        await runClient {
            guard let first = args.first else { throw CLIError("You must specify the type of resource to get. Use \"cairn get --help\" for the types") }
            if let o = output, !["wide", "json", "yaml", "name"].contains(o) {
                throw CLIError("unable to match a printer suitable for the output format \"\(o)\", allowed formats are: json,name,wide,yaml")
            }
            var requests: [(Kind, [String])]
            if first.contains("/") {
                requests = try args.map { a in
                    let parts = a.split(separator: "/", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw CLIError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form") }
                    return (try resolveKinds(parts[0])[0], [parts[1]])
                }
            } else {
                requests = try resolveKinds(first).map { ($0, Array(args.dropFirst())) }
            }
            let now = Date()
            let showKind = requests.count > 1
            var jsonItems: [JSONValue] = []
            var outputs: [String] = []
            var errors: [String] = []
            try await client.withClient { c in
                for (kind, names) in requests {
                    var objects: [Data] = []
                    let ns = allNamespaces ? nil : client.ns
                    if names.isEmpty {
                        var query: [String: String] = [:]
                        if let selector { query["labelSelector"] = selector }
                        objects.append(try await c.call("GET", kind.collectionPath(namespace: ns), query: query))
                    } else {
                        for n in names {
                            do {
                                objects.append(try await c.call("GET", kind.collectionPath(namespace: ns ?? client.ns) + "/\(n)"))
                            } catch let s as Status {
                                errors.append("Error from server (\(s.reason)): \(s.message)")
                            }
                        }
                    }
                    var typed: [any KubeObject] = []
                    for d in objects {
                        if output == "json" || output == "yaml" {
                            let json = try JSONValue.parse(d)
                            jsonItems += json["items"]?.arrayValue ?? [json]
                        } else {
                            typed += try decodeObjects(d, kind: kind)
                        }
                    }
                    if output == "json" || output == "yaml" { continue }
                    if output == "name" {
                        outputs.append(typed.map { "\(resourceName(kind))/\($0.name)" }.joined(separator: "\n") + (typed.isEmpty ? "" : "\n"))
                        continue
                    }
                    if typed.isEmpty { continue }
                    var (header, rows) = Printers.rows(typed, kind: kind, wide: output == "wide", now: now)
                    if showKind {
                        rows = rows.map { r in var r = r; r[0] = "\(resourceName(kind))/\(r[0])"; return r }
                    }
                    if allNamespaces && kind.namespaced {
                        header.insert("NAMESPACE", at: 0)
                        rows = zip(typed, rows).map { o, r in [o.metadata.namespace ?? ""] + r }
                    }
                    outputs.append(Printers.table(header, rows, headers: !noHeaders))
                }
            }
            switch output {
            case "json", "yaml":
                let single = jsonItems.count == 1 && !(requests.count == 1 && requests[0].1.isEmpty)
                let value: JSONValue = single ? jsonItems[0]
                    : .object(["apiVersion": .string("v1"), "kind": .string("List"), "items": .array(jsonItems),
                               "metadata": .object(["resourceVersion": .string("")])])
                if output == "json" {
                    print(JSONText.pretty(value), terminator: "")
                } else {
                    print(Printers.yaml(value), terminator: "")
                }
            default:
                if outputs.isEmpty && errors.isEmpty {
                    var stderr = FileHandle.standardError
                    let scope = allNamespaces || requests.allSatisfy({ !$0.0.namespaced }) ? "" : " in \(client.ns) namespace"
                    print("No resources found\(scope).", to: &stderr)
                }
                print(outputs.joined(separator: "\n"), terminator: "")
            }
            if !errors.isEmpty {
                var stderr = FileHandle.standardError
                for e in errors { print(e, to: &stderr) }
                throw ExitCode(1)
            }
        }
    }
}

// MARK: version

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the client and server versions.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .customLong("client"), help: "Print only the client version.") var clientOnly = false

    func run() async {
        print("Client Version: \(CairnCLIVersion.version)")
        if clientOnly { return }
        await runClient {
            let data = try await client.withClient { try await $0.call("GET", "/version") }
            let json = try JSONValue.parse(data)
            print("Server Version: \(json["cairnVersion"]?.stringValue ?? "?") (Kubernetes API \(json["gitVersion"]?.stringValue ?? "?"))")
        }
    }
}
