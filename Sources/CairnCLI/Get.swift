import ArgumentParser
import CairnCLICore
import CairnClient
import CairnCore
import Foundation

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Display one or many objects.",
        discussion: """
        TYPE is a kind, plural or short name (sc, pv, pvc, po, no, ev, ns, sts, rs, svc); several types \
        separated by commas; `all` is pods, services, replicasets and statefulsets. -o takes wide, json, \
        yaml, name, jsonpath=TEMPLATE, jsonpath-file=FILE, jsonpath-as-json=TEMPLATE, \
        custom-columns=HEADER:PATH,..., custom-columns-file=FILE, with kubectl's JSONPath.
        """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "TYPE[,TYPE...] followed by optional NAMEs, or TYPE/NAME.") var args: [String] = []
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector, e.g. app=web,tier!=cache.") var selector: String?
    @Option(name: .shortAndLong, help: "Output format (see above).") var output: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.") var allNamespaces = false
    @Flag(name: .customLong("no-headers"), help: "Print table rows without the header line.") var noHeaders = false
    @Flag(name: .customLong("show-labels"), help: "Add a LABELS column.") var showLabels = false
    @Option(name: [.customShort("L"), .customLong("label-columns")], help: "Label keys to show as columns, comma-separated (repeatable).")
    var labelColumns: [String] = []
    @Option(name: .customLong("sort-by"), help: "Sort by a JSONPath field, e.g. .metadata.name or {.spec.capacity.storage}.") var sortBy: String?

    /// What to fetch: each kind with the names asked for (none: list them all).
    struct Request {
        var kind: Kind
        var names: [String]
    }

    func requests() throws -> [Request] {
        guard let first = args.first else {
            throw CLIError("You must specify the type of resource to get. Use \"cairn get --help\" for the types")
        }
        if first.contains("/") {
            var out: [Request] = []
            for (kind, name) in try typeAndNames(args) {
                if let i = out.firstIndex(where: { $0.kind == kind }) { out[i].names.append(name) } else { out.append(Request(kind: kind, names: [name])) }
            }
            return out
        }
        return try resolveKinds(first).map { Request(kind: $0, names: Array(args.dropFirst())) }
    }

    func run() async {
        await runClient {
            let requests = try requests()
            let format = try OutputFormat.parse(output) { path in try String(contentsOfFile: path, encoding: .utf8) }
            if allNamespaces, requests.contains(where: { !$0.names.isEmpty }) {
                throw CLIError("a resource cannot be retrieved by name across all namespaces")
            }
            if selector != nil, requests.contains(where: { !$0.names.isEmpty }) {
                throw CLIError("name cannot be provided when a selector is specified")
            }
            // Decoding 10,000 typed claims costs more than printing them: decode only what the printer reads.
            let needsJSON = format.readsJSON || sortBy != nil
            let needsTyped = !format.readsJSON
            var fetched: [GetPrinter.Fetched] = []
            var errors: [String] = []
            try await client.withClient { c in
                for r in requests {
                    let ns = allNamespaces ? nil : client.ns
                    var bodies: [Data] = []
                    if r.names.isEmpty {
                        var query: [String: String] = [:]
                        if let selector { query["labelSelector"] = selector }
                        bodies.append(try await c.call("GET", r.kind.collectionPath(namespace: ns), query: query))
                    } else {
                        for n in r.names {
                            do {
                                bodies.append(try await c.call("GET", r.kind.collectionPath(namespace: ns ?? client.ns) + "/\(n)"))
                            } catch let s as Status {
                                errors.append("Error from server (\(s.reason)): \(s.message)")
                            }
                        }
                    }
                    var f = GetPrinter.Fetched(kind: r.kind, objects: [], json: [])
                    for body in bodies {
                        if needsTyped { f.objects += try decodeObjects(body, kind: r.kind) }
                        if needsJSON { f.json += try Self.items(body, kind: r.kind) }
                    }
                    fetched.append(f)
                }
            }
            var printer = GetPrinter(output: format)
            printer.showLabels = showLabels
            printer.labelColumns = labelColumns.flatMap { $0.split(separator: ",").map(String.init) }
            printer.sortBy = sortBy
            printer.noHeaders = noHeaders
            printer.allNamespaces = allNamespaces
            printer.showKind = requests.count > 1
            printer.singleItem = requests.count == 1 && requests[0].names.count == 1
            printer.namespace = client.ns
            var stderr = FileHandle.standardError
            let out = try printer.render(fetched, now: Date())
            // "No resources found" only when nothing was asked for by a name that is missing.
            if errors.isEmpty { print(out.stderr, terminator: "", to: &stderr) }
            print(out.stdout, terminator: "")
            if !errors.isEmpty {
                for e in errors { print(e, to: &stderr) }
                throw ExitCode(1)
            }
        }
    }

    /// The objects of a list answer (or the one object of a get) as trees, each with its kind, as
    /// kubectl's unstructured items carry it.
    static func items(_ body: Data, kind: Kind) throws -> [JSONValue] {
        let json = try JSONValue.parse(body)
        let items = json["kind"]?.stringValue?.hasSuffix("List") == true ? json["items"]?.arrayValue ?? [] : [json]
        return items.map { item in
            var item = item
            if item["apiVersion"] == nil { item["apiVersion"] = .string(kind.apiVersion) }
            if item["kind"] == nil { item["kind"] = .string(kind.rawValue) }
            return item
        }
    }
}
