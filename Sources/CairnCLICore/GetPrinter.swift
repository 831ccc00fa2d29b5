import CairnCore
import Foundation

/// What `cairn get` prints for what it fetched, as kubectl prints it (pkg/cmd/get/get.go):
///
/// - tables: one per kind, kinds separated by a blank line, names as `kind/name` when several kinds
///   were asked for (`get all`, `get pods,svc`), NAMESPACE first with `-A`, LABELS last with
///   `--show-labels`, rows in `--sort-by` order; "No resources found" on stderr when nothing printed;
/// - every other printer sees one object when one was named, else a `List` of everything (sorted by
///   `--sort-by` across kinds), as printGeneric composes it.
public struct GetPrinter: Sendable {
    /// The objects of one requested kind, in the server's order: typed for the tables and names, as
    /// trees for the printers that read trees and for --sort-by (`json[i]` is `objects[i]` when both are there).
    public struct Fetched {
        public var kind: Kind
        public var objects: [any KubeObject]
        public var json: [JSONValue]
        public init(kind: Kind, objects: [any KubeObject], json: [JSONValue]) {
            self.kind = kind
            self.objects = objects
            self.json = json
        }
    }

    public var output: OutputFormat
    public var showLabels = false
    /// `-L key,...`: one column per label key, headed by the key's last segment in capitals.
    public var labelColumns: [String] = []
    public var sortBy: String?
    public var noHeaders = false
    public var allNamespaces = false
    /// Several kinds were requested: names carry their kind.
    public var showKind = false
    /// One object was named (`get pod x`, `get pod/x`): json and friends print it alone, not a List.
    public var singleItem = false
    public var namespace = "default"

    public init(output: OutputFormat) { self.output = output }

    public struct Output: Equatable, Sendable {
        public var stdout: String
        public var stderr: String
    }

    public func render(_ fetched: [Fetched], now: Date) throws(CommandLineError) -> Output {
        switch output {
        case .table(let wide): return try tables(fetched, wide: wide, now: now)
        case .name:
            // One name per line, whatever the kinds: no blank line between them.
            let items = try sortedItems(fetched)
            return Output(stdout: items.map { "\(resourceName($0.kind))/\($0.name)\n" }.joined(), stderr: "")
        case .json, .yaml, .jsonPath, .customColumns:
            return try generic(fetched)
        }
    }

    private func tables(_ fetched: [Fetched], wide: Bool, now: Date) throws(CommandLineError) -> Output {
        var blocks: [String] = []
        for f in fetched where !f.objects.isEmpty {
            var objects = f.objects
            if let sortBy {
                let order = try sortOrder(f.json, sortBy)
                objects = order.map { f.objects[$0] }
            } else if f.kind == .event {
                // Cairn lists events as a log reads: oldest last-seen first.
                objects = objects.compactMap { $0 as? Event }.sorted(by: eventOrder)
            }
            var (header, rows) = Printers.rows(objects, kind: f.kind, wide: wide, now: now)
            if showKind {
                rows = rows.map { r in var r = r; r[0] = "\(resourceName(f.kind))/\(r[0])"; return r }
            }
            if allNamespaces && f.kind.namespaced {
                header.insert("NAMESPACE", at: 0)
                rows = zip(objects, rows).map { o, r in [o.metadata.namespace ?? ""] + r }
            }
            if !labelColumns.isEmpty {
                header += labelColumns.map { String($0.split(separator: "/").last ?? Substring($0)).uppercased() }
                rows = zip(objects, rows).map { o, r in r + labelColumns.map { o.metadata.labels?[$0] ?? "" } }
            }
            if showLabels {
                header.append("LABELS")
                rows = zip(objects, rows).map { o, r in r + [Printers.formatLabels(o.metadata.labels)] }
            }
            blocks.append(Printers.table(header, rows, headers: !noHeaders))
        }
        if blocks.isEmpty {
            let clusterScoped = allNamespaces || fetched.allSatisfy { !$0.kind.namespaced }
            return Output(stdout: "", stderr: "No resources found\(clusterScoped ? "" : " in \(namespace) namespace").\n")
        }
        return Output(stdout: blocks.joined(separator: "\n"), stderr: "")
    }

    private struct Item {
        var kind: Kind
        var name: String
        var json: JSONValue?
    }

    private func sortedItems(_ fetched: [Fetched]) throws(CommandLineError) -> [Item] {
        var items: [Item] = []
        for f in fetched {
            // The generic printers need only the trees; the typed objects may not have been decoded.
            for i in 0..<max(f.objects.count, f.json.count) {
                let json = i < f.json.count ? f.json[i] : nil
                let name = i < f.objects.count ? f.objects[i].name : json?["metadata"]?["name"]?.stringValue ?? ""
                items.append(Item(kind: f.kind, name: name, json: json))
            }
        }
        guard let sortBy else { return items }
        let order = try sortOrder(items.map { $0.json ?? .null }, sortBy)
        return order.map { items[$0] }
    }

    private func sortOrder(_ json: [JSONValue], _ field: String) throws(CommandLineError) -> [Int] {
        do { return try SortBy.order(json, by: field) } catch { throw CommandLineError(error.message) }
    }

    private func generic(_ fetched: [Fetched]) throws(CommandLineError) -> Output {
        let items = try sortedItems(fetched).map { $0.json ?? .null }
        let value: JSONValue = singleItem && items.count == 1 ? items[0]
            : .object(["apiVersion": .string("v1"), "kind": .string("List"), "items": .array(items),
                       "metadata": .object(["resourceVersion": .string("")])])
        switch output {
        case .json: return Output(stdout: JSONText.pretty(value), stderr: "")
        case .yaml: return Output(stdout: Printers.yaml(value), stderr: "")
        case .jsonPath(let path, let asJSON):
            do {
                return Output(stdout: asJSON ? try path.executeAsJSON(value) : try path.execute(value), stderr: "")
            } catch {
                let quoted = "\"" + path.template.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"") + "\""
                throw CommandLineError("error executing jsonpath \(quoted): Error executing template: \(error). Printing more information for debugging the template:\n\ttemplate was:\n\t\t\(path.template)\n")
            }
        case .customColumns(let columns):
            let objects = singleItem && items.count == 1 ? [value] : value["items"]?.arrayValue ?? []
            do {
                let (header, rows) = try columns.rows(objects)
                return Output(stdout: Printers.table(header, rows, headers: !noHeaders), stderr: "")
            } catch {
                throw CommandLineError(error.message)
            }
        case .table, .name:
            return Output(stdout: "", stderr: "")
        }
    }
}

/// The name kubectl gives a kind in `kind/name`: its singular, qualified by its group.
public func resourceName(_ kind: Kind) -> String {
    kind.group.isEmpty ? kind.singular : "\(kind.singular).\(kind.group)"
}
