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
    @Flag(name: [.customShort("w"), .customLong("watch")], help: "After listing, watch for changes and print each.") var watch = false
    @Flag(name: .customLong("watch-only"), help: "Watch for changes without listing first.") var watchOnly = false
    @Flag(name: .customLong("output-watch-events"), help: "With --watch, add an EVENT column (ADDED, MODIFIED, DELETED).")
    var outputWatchEvents = false
    @Option(name: .customLong("request-timeout"), help: "How long to wait (and to watch) before giving up: 0 for no limit, 30s, 1m, ...")
    var requestTimeout: String = "0"

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
            if watch || watchOnly { return try await watchObjects(requests, format: format) }
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

    // MARK: watch

    /// `get -w`: the current objects (unless --watch-only), then each change as a row, until
    /// --request-timeout or an interrupt. The watch resumes from the last resourceVersion it saw
    /// whenever the server ends one (kubectl's watcher does the same).
    func watchObjects(_ requests: [Request], format: OutputFormat) async throws {
        guard requests.count == 1, let request = requests.first else {
            throw CLIError("you may only specify a single resource type")
        }
        guard request.names.count <= 1 else {
            throw CLIError("watch is only supported on individual resources and resource collections, but \(request.names.count) resources were found")
        }
        let limit = try RequestTimeout.parse(requestTimeout)
        let deadline = limit.map { Date().addingTimeInterval($0) }
        let ns = allNamespaces ? nil : client.ns
        var query: [String: String] = ["allowWatchBookmarks": "true"]
        if let selector { query["labelSelector"] = selector }
        if let name = request.names.first { query["fieldSelector"] = "metadata.name=\(name)" }
        var printer = GetPrinter(output: format)
        printer.showLabels = showLabels
        printer.labelColumns = labelColumns.flatMap { $0.split(separator: ",").map(String.init) }
        printer.allNamespaces = allNamespaces
        printer.namespace = client.ns
        printer.noHeaders = noHeaders
        try await client.withClient { c in
            let listing = try await c.call("GET", request.kind.collectionPath(namespace: ns), query: query.filter { $0.key != "allowWatchBookmarks" })
            var resourceVersion = (try JSONValue.parse(listing))["metadata"]?["resourceVersion"]?.stringValue ?? "0"
            if !watchOnly {
                let items = try Self.items(listing, kind: request.kind)
                let out = try printer.render([GetPrinter.Fetched(kind: request.kind, objects: try decodeObjects(listing, kind: request.kind), json: items)],
                                             now: Date())
                FileHandle.standardOutput.write(Data(out.stdout.utf8))
                if !items.isEmpty { printer.noHeaders = true }
            }
            while deadline.map({ $0 > Date() }) ?? true {
                let seconds = deadline.map { max(1, Int($0.timeIntervalSinceNow.rounded(.up))) } ?? 100
                query["timeoutSeconds"] = String(min(seconds, 100))
                query["resourceVersion"] = resourceVersion
                for try await event in c.watch(request.kind.collectionPath(namespace: ns), query: query) {
                    let type = event["type"]?.stringValue ?? ""
                    guard var object = event["object"] else { continue }
                    if type == "ERROR" {
                        if let s = try? object.decode(Status.self) { throw s }
                        throw CLIError("the watch ended with an error: \(object.jsonText())")
                    }
                    if let rv = object["metadata"]?["resourceVersion"]?.stringValue { resourceVersion = rv }
                    if type == "BOOKMARK" { continue }
                    if object["apiVersion"] == nil { object["apiVersion"] = .string(request.kind.apiVersion) }
                    if object["kind"] == nil { object["kind"] = .string(request.kind.rawValue) }
                    let typed = try decodeObjects(Data(object.jsonText().utf8), kind: request.kind)
                    var out = try printer.render([GetPrinter.Fetched(kind: request.kind, objects: typed, json: [object])], now: Date()).stdout
                    if outputWatchEvents { out = Self.withEventColumn(out, type, header: !printer.noHeaders) }
                    // Written at once, not buffered: a pipe reader sees each change as it happens.
                    FileHandle.standardOutput.write(Data(out.utf8))
                    printer.noHeaders = true
                    if let deadline, deadline <= Date() { break }
                }
            }
        }
    }

    /// kubectl's --output-watch-events: EVENT first on each line.
    static func withEventColumn(_ text: String, _ type: String, header: Bool) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for i in lines.indices where !lines[i].isEmpty {
            lines[i] = (header && i == 0 ? "EVENT".padding(toLength: 10, withPad: " ", startingAt: 0)
                                       : type.padding(toLength: 10, withPad: " ", startingAt: 0)) + lines[i]
        }
        return lines.joined(separator: "\n")
    }
}
