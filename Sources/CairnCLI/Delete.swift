import ArgumentParser
import CairnCLICore
import CairnClient
import CairnCore
import Foundation

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete objects by type and name, by label selector, all of a type, or those in manifests.",
        discussion: "`cairn delete pvc -l app=web` and `cairn delete pods --all` list the objects, then delete each.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "TYPE NAME..., TYPE/NAME..., or TYPE with -l or --all.") var args: [String] = []
    @Option(name: [.short, .customLong("filename")], help: "Delete the objects a manifest (file, directory or -) describes.")
    var files: [String] = []
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Delete the objects of TYPE whose labels match, e.g. app=web.")
    var selector: String?
    @Flag(name: .customLong("all"), help: "Delete every object of TYPE in the namespace.") var all = false
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "With -l or --all: in every namespace.") var allNamespaces = false
    @Flag(name: .customLong("ignore-not-found"), help: "Treat objects that do not exist as deleted.") var ignoreNotFound = false
    @Option(name: .shortAndLong, help: "name: print kind/name for each deleted object.") var output: String?

    func run() async {
        await runClient {
            if let output, output != "name" {
                throw CLIError("unexpected -o output mode: \(output). We only support '-o name'")
            }
            if all && selector != nil { throw CLIError("setting 'all' parameter but found a non empty selector.") }
            var targets: [(Kind, String, String?)] = []
            var listed: [Kind] = []
            if !files.isEmpty {
                let (docs, readErrors) = try readManifests(files)
                if let e = readErrors.first { throw CLIError(e) }
                for doc in docs {
                    guard case .success(let k) = ObjectDecoding.kind(of: doc.json), let name = doc.json["metadata"]?["name"]?.stringValue else {
                        throw CLIError("\(doc.location(of: nil)): document \(doc.index) has no kind or name")
                    }
                    targets.append((k, name, k.namespaced ? (doc.json["metadata"]?["namespace"]?.stringValue ?? client.ns) : nil))
                }
            } else if let first = args.first {
                if all || selector != nil {
                    guard args.count == 1, !first.contains("/") else {
                        throw CLIError("name cannot be provided when a selector is specified")
                    }
                    listed = try resolveKinds(first)
                } else if first.contains("/") {
                    targets = try typeAndNames(args).map { ($0.0, $0.1, $0.0.namespaced ? client.ns : nil) }
                } else {
                    let kinds = try resolveKinds(first)
                    guard args.count > 1 else { throw CLIError("resource(s) were provided, but no name was specified") }
                    for k in kinds { for n in args.dropFirst() { targets.append((k, n, k.namespaced ? client.ns : nil)) } }
                }
            } else {
                throw CLIError("You must provide one or more resources by argument or filename.")
            }
            var failed = false
            try await client.withClient { c in
                // A selector or --all: list first, then delete what was listed (the API deletes one object at a time).
                for kind in listed {
                    var query: [String: String] = [:]
                    if let selector { query["labelSelector"] = selector }
                    let ns = allNamespaces ? nil : client.ns
                    let objects = try decodeObjects(try await c.call("GET", kind.collectionPath(namespace: ns), query: query), kind: kind)
                    targets += objects.map { (kind, $0.name, kind.namespaced ? ($0.metadata.namespace ?? client.ns) : nil) }
                }
                if !listed.isEmpty && targets.isEmpty {
                    print("No resources found")
                    return
                }
                for (kind, name, ns) in targets {
                    do {
                        _ = try await c.call("DELETE", kind.collectionPath(namespace: ns) + "/\(name)")
                        print(output == "name" ? "\(resourceName(kind))/\(name)" : "\(resourceName(kind)) \"\(name)\" deleted")
                    } catch let s as Status where s.code == 404 {
                        if !ignoreNotFound {
                            var stderr = FileHandle.standardError
                            print("Error from server (NotFound): \(s.message)", to: &stderr)
                            failed = true
                        }
                    }
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
