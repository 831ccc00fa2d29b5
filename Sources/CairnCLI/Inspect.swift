import ArgumentParser
import CairnCLICore
import CairnClient
import CairnCore
import CairnAPI
import Foundation

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
            let data = try await client.withClient { try await $0.call("GET", CairnPath.bindings, query: query) }
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
                    try await $0.call("GET", CairnPath.retention(namespace: client.ns, statefulSet: name),
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
