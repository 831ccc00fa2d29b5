import ArgumentParser
import CairnCLICore
import CairnClient
import CairnCore
import Foundation

/// `cairn patch TYPE NAME -p PATCH [--type strategic|merge|json]`, as kubectl patch.
struct Patch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Update fields of an object with a strategic merge, JSON merge or JSON patch.",
        discussion: "As kubectl patch: `cairn patch pvc data -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}'`.")

    enum PatchKind: String, ExpressibleByArgument, CaseIterable {
        case strategic, merge, json
        var contentType: String {
            switch self {
            case .strategic: "application/strategic-merge-patch+json"
            case .merge: "application/merge-patch+json"
            case .json: "application/json-patch+json"
            }
        }
    }

    @OptionGroup var client: ClientOptions
    @Argument(help: "TYPE NAME or TYPE/NAME.") var args: [String] = []
    @Option(name: [.short, .customLong("patch")], help: "The patch, as JSON (or YAML).") var patch: String
    @Option(name: .customLong("type"), help: "strategic (default), merge or json.") var type: PatchKind = .strategic
    @Option(name: .customLong("dry-run"), help: "none (default) or server: check without changing anything.") var dryRun: String = "none"

    func run() async {
        await runClient {
            let targets = try typeAndNames(args)
            guard !targets.isEmpty else { throw CLIError("resource(s) were provided, but no name was specified") }
            guard dryRun == "none" || dryRun == "server" else {
                throw CLIError("Invalid dry-run value (\(dryRun)). Must be \"none\" or \"server\".")
            }
            let body = try JSONValue.parse(Data(patch.utf8))
            try await client.withClient { c in
                for (kind, name) in targets {
                    let path = kind.collectionPath(namespace: kind.namespaced ? client.ns : nil) + "/\(name)"
                    let before = try? JSONValue.parse(try await c.call("GET", path))
                    let after = try JSONValue.parse(try await c.call("PATCH", path, query: dryRun == "server" ? ["dryRun": "All"] : [:],
                                                                     body: Data(body.jsonText().utf8), contentType: type.contentType))
                    let unchanged = before?["metadata"]?["resourceVersion"] == after["metadata"]?["resourceVersion"]
                    print("\(resourceName(kind))/\(name) \(unchanged ? "patched (no change)" : "patched")\(dryRun == "server" ? " (server dry run)" : "")")
                }
            }
        }
    }
}
