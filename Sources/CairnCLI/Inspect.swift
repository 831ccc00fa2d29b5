import ArgumentParser
import CairnClient
import CairnCore
import CairnAPI
import Foundation

/// Byte counts for people: "1.5Gi", "12Ki", "0".
func humanBytes(_ n: Int64?) -> String {
    guard let n else { return "" }
    let units = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    var v = Double(n)
    var i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    if i == 0 { return "\(n)" }
    return v >= 10 || v == v.rounded() ? "\(Int(v.rounded()))\(units[i])" : String(format: "%.1f%@", v, units[i])
}

struct Bindings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One row per claim: its volume, node, capacity, usage, and the pods using it.",
        discussion: "-o json prints a BindingList (apiVersion cairn.io/v1); its shape is documented in the README.")
    @OptionGroup var client: ClientOptions
    @Option(name: .shortAndLong, help: "Output format: json.") var output: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Every namespace (the default unless -n is given).") var allNamespaces = false

    func run() async {
        await runClient {
            var query: [String: String] = [:]
            if let ns = client.namespace, !allNamespaces { query["namespace"] = ns }
            let data = try await client.withClient { try await $0.call("GET", "/cairn/v1/bindings", query: query) }
            if output == "json" {
                let v = try JSONValue.parse(data)
                print(JSONText.pretty(v), terminator: "")
                return
            }
            if let o = output { throw CLIError("unknown output format \"\(o)\"; bindings prints a table or json") }
            let list = try JSONCoding.decoder.decode(BindingList.self, from: data)
            if list.items.isEmpty {
                var stderr = FileHandle.standardError
                print("No claims found.", to: &stderr)
                return
            }
            let now = Date()
            let rows = list.items.map { b -> [String] in
                [b.namespace, b.claim, b.phase.rawValue, b.volume ?? "", b.node ?? "", b.capacity ?? "", humanBytes(b.usedBytes),
                 AccessMode.abbreviate(b.accessModes), b.storageClass ?? "", b.reclaimPolicy ?? "",
                 b.pods.isEmpty ? "<none>" : b.pods.map { "\($0.name):\($0.hostPath)" }.joined(separator: ","),
                 b.boundAt.map { humanDuration(now.timeIntervalSince($0.date)) } ?? ""]
            }
            print(Printers.table(["NAMESPACE", "CLAIM", "STATUS", "VOLUME", "NODE", "CAPACITY", "USED", "ACCESS MODES",
                                  "STORAGECLASS", "RECLAIM", "PODS (HOST PATH)", "BOUND"], rows), terminator: "")
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a StatefulSet's claims survived: still bound to the same volume, directory present, data unchanged.",
        subcommands: [Retention.self])

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "For every claim the StatefulSet has ever stamped out: bound to the same volume? directory there? contents unchanged since its pod left?",
            discussion: "Exit status 1 when any claim is missing, re-bound elsewhere, unbound, lost its directory, or changed.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "statefulset NAME (or sts/NAME)") var args: [String]
        @Flag(help: "Re-hash file contents instead of comparing paths, sizes and modification times.") var deep = false
        @Option(name: .shortAndLong, help: "Output format: json.") var output: String?

        func run() async {
            await runClient {
                var name: String
                if let first = args.first, first.contains("/") {
                    let parts = first.split(separator: "/", maxSplits: 1).map(String.init)
                    guard try resolveKinds(parts[0]) == [.statefulSet], parts.count == 2 else { throw CLIError("verify retention works on a statefulset") }
                    name = parts[1]
                } else if args.count == 2 {
                    guard try resolveKinds(args[0]) == [.statefulSet] else { throw CLIError("verify retention works on a statefulset") }
                    name = args[1]
                } else {
                    throw CLIError("usage: cairn verify retention statefulset NAME [--deep] [-o json]")
                }
                let data = try await client.withClient {
                    try await $0.call("GET", "/cairn/v1/namespaces/\(client.ns)/statefulsets/\(name)",
                                      query: deep ? ["deep": "true"] : [:])
                }
                let report = try JSONCoding.decoder.decode(RetentionReport.self, from: data)
                if output == "json" {
                    print(JSONText.pretty(try JSONValue(encoding: report)), terminator: "")
                } else {
                    let rows = report.items.map { r in
                        [r.claim, r.verdict.rawValue.uppercased(), r.phase?.rawValue ?? "-", r.volume ?? "-",
                         r.directoryPresent ? "yes" : "no", humanBytes(r.usedBytes), r.pod ?? "<none>", r.contents.rawValue, r.detail ?? ""]
                    }
                    print(Printers.table(["CLAIM", "VERDICT", "STATUS", "VOLUME", "DIRECTORY", "USED", "POD", "CONTENTS", "DETAIL"], rows), terminator: "")
                    print(report.ok ? "retention verified: \(report.items.count) claim(s) of statefulset \(name) intact"
                                    : "retention FAILED for statefulset \(name)")
                }
                if !report.ok { throw ExitCode(1) }
            }
        }
    }
}

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an object's details, its binding history and its events.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "TYPE NAME or TYPE/NAME") var args: [String]

    func run() async {
        await runClient {
            var pairs: [(Kind, String)] = []
            if let first = args.first, first.contains("/") {
                for a in args {
                    let parts = a.split(separator: "/", maxSplits: 1).map(String.init)
                    pairs.append((try resolveKinds(parts[0])[0], parts.count > 1 ? parts[1] : ""))
                }
            } else if args.count >= 2 {
                let k = try resolveKinds(args[0])[0]
                pairs = args.dropFirst().map { (k, $0) }
            } else {
                throw CLIError("You must specify the type and name of the object to describe: cairn describe TYPE NAME")
            }
            try await client.withClient { c in
                var first = true
                for (kind, name) in pairs {
                    let ns = kind.namespaced ? client.ns : nil
                    let data = try await c.call("GET", kind.collectionPath(namespace: ns) + "/\(name)")
                    let object = try decodeObjects(data, kind: kind)[0]
                    let events = try decodeObjects(try await c.call("GET", Kind.event.collectionPath(namespace: ns ?? "default")), kind: .event)
                        .compactMap { $0 as? Event }.filter { $0.involvedObject.uid == object.uid }
                    var history: [HistoryRow] = []
                    var bindings: [BindingRow] = []
                    if kind == .persistentVolumeClaim || kind == .persistentVolume || kind == .pod || kind == .statefulSet {
                        bindings = try JSONCoding.decoder.decode(BindingList.self, from: try await c.call("GET", "/cairn/v1/bindings")).items
                    }
                    var claimsForHistory: [(String, String)] = []
                    switch object {
                    case let pvc as PersistentVolumeClaim: claimsForHistory = [(pvc.metadata.namespace ?? "default", pvc.name)]
                    case let pv as PersistentVolume:
                        if let r = pv.spec.claimRef { claimsForHistory = [(r.namespace ?? "default", r.name ?? "")] }
                    case let pod as Pod: claimsForHistory = pod.spec.claimVolumes.map { (pod.metadata.namespace ?? "default", $0.claim) }
                    case let sts as StatefulSet:
                        claimsForHistory = bindings.filter { b in
                            b.namespace == (sts.metadata.namespace ?? "default") &&
                                (sts.spec.volumeClaimTemplates ?? []).contains { b.claim.hasPrefix("\($0.metadata.name ?? "")-\(sts.name)-") }
                        }.map { ($0.namespace, $0.claim) }
                    default: break
                    }
                    var historyByClaim: [(String, [HistoryRow])] = []
                    for (hns, claim) in claimsForHistory {
                        history = try JSONCoding.decoder.decode([HistoryRow].self,
                                                                from: try await c.call("GET", "/cairn/v1/namespaces/\(hns)/claims/\(claim)/history"))
                        historyByClaim.append((claim, history))
                    }
                    if !first { print("\n") }
                    first = false
                    print(DescribePrinter.describe(object, events: events, history: historyByClaim, bindings: bindings, now: Date()), terminator: "")
                }
            }
        }
    }
}
