import ArgumentParser
import CairnCLICore
import CairnClient
import CairnAPI
import CairnCore

import Foundation

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show objects' details, Cairn's storage facts and binding history, and their events.",
        discussion: """
        TYPE alone describes every object of the type (in the namespace, or with -l those whose labels \
        match); TYPE NAME that matches no object describes those whose names begin with NAME, as kubectl does.
        """)
    @OptionGroup var client: ClientOptions
    @Argument(help: "TYPE [NAME...] or TYPE/NAME...") var args: [String] = []
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Describe the objects of TYPE whose labels match.") var selector: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "With TYPE alone: in every namespace.") var allNamespaces = false

    func run() async {
        await runClient {
            guard let first = args.first else {
                throw CLIError("You must specify the type of resource to describe. Use \"cairn describe --help\" for the types")
            }
            // TYPE alone, or TYPE with a selector: every object of the type; otherwise the objects named.
            let listing = selector != nil || (args.count == 1 && !first.contains("/"))
            if selector != nil, args.count > 1 || first.contains("/") {
                throw CLIError("name cannot be provided when a selector is specified")
            }
            try await client.withClient { c in
                var source = DescribeSource(client: c)
                var errors: [String] = []
                let objects: [any KubeObject]
                if listing {
                    objects = try await objectsOfTypes(first, c)
                    if objects.isEmpty {
                        var stderr = FileHandle.standardError
                        print(allNamespaces ? "No resources found" : "No resources found in \(client.ns) namespace.", to: &stderr)
                        return
                    }
                } else {
                    var named: [any KubeObject] = []
                    for (kind, name) in try typeAndNames(args) {
                        let ns = kind.namespaced ? client.ns : nil
                        do {
                            named += try decodeObjects(try await c.call("GET", kind.collectionPath(namespace: ns) + "/\(name)"), kind: kind)
                        } catch let s as Status where s.code == 404 && args.count == 2 && !first.contains("/") {
                            // kubectl's DescribeMatchingResources: the objects whose names begin with NAME,
                            // each description followed by a newline.
                            let matching = try decodeObjects(try await c.call("GET", kind.collectionPath(namespace: ns)), kind: kind)
                                .filter { $0.name.hasPrefix(name) }
                            if matching.isEmpty { throw s }
                            for o in matching { print(try await Self.describe(o, &source)) }
                            return
                        } catch let s as Status {
                            errors.append("Error from server (\(s.reason)): \(s.message)")
                        }
                    }
                    objects = named
                }
                // Descriptions are separated by a blank line and one more, as kubectl separates them.
                for (i, o) in objects.enumerated() {
                    print((i == 0 ? "" : "\n\n") + (try await Self.describe(o, &source)), terminator: "")
                }
                if !errors.isEmpty {
                    var stderr = FileHandle.standardError
                    for e in errors { print(e, to: &stderr) }
                    throw ExitCode(1)
                }
            }
        }
    }

    /// Every object of the types (in the namespace, or all with -A) that the selector matches.
    func objectsOfTypes(_ types: String, _ c: CairnClient) async throws -> [any KubeObject] {
        var objects: [any KubeObject] = []
        for kind in try resolveKinds(types) {
            var query: [String: String] = [:]
            if let selector { query["labelSelector"] = selector }
            let ns = allNamespaces ? nil : client.ns
            objects += try decodeObjects(try await c.call("GET", kind.collectionPath(namespace: ns), query: query), kind: kind)
        }
        return objects
    }

    static func describe(_ object: any KubeObject, _ source: inout DescribeSource) async throws -> String {
        var context = DescribeContext(now: Date())
        let kind = type(of: object).kind
        let namespace = object.metadata.namespace
        context.events = try await source.events()
        switch kind {
        case .persistentVolumeClaim, .replicaSet, .statefulSet:
            context.pods = try await source.pods().filter { $0.metadata.namespace == namespace }
        case .node:
            context.pods = try await source.pods()
            context.volumes = try await source.list(.persistentVolume)
            context.claims = try await source.list(.persistentVolumeClaim)
            context.storageClasses = try await source.list(.storageClass)
        default:
            break
        }
        var claims: [(String, String)] = []
        switch object {
        case let pvc as PersistentVolumeClaim: claims = [(namespace ?? "default", pvc.name)]
        case let pv as PersistentVolume:
            if let r = pv.spec.claimRef { claims = [(r.namespace ?? "default", r.name ?? "")] }
        case let pod as Pod: claims = pod.spec.claimVolumes.map { (namespace ?? "default", $0.claim) }
        default: break
        }
        if [.persistentVolumeClaim, .persistentVolume, .pod, .statefulSet].contains(kind) {
            let bindings = try await source.bindings()
            context.usage = bindings.map { b in
                ClaimUsage(namespace: b.namespace, claim: b.claim, volume: b.volume, node: b.node, path: b.path,
                           usedBytes: b.usedBytes, mounts: b.pods.map { .init(pod: $0.name, hostPath: $0.hostPath) })
            }
            if let sts = object as? StatefulSet {
                // Every claim the set's templates stamped out: <template>-<set>-<ordinal>.
                claims = bindings.filter { b in
                    b.namespace == (namespace ?? "default") && (sts.spec.volumeClaimTemplates ?? []).contains {
                        b.claim.hasPrefix("\($0.metadata.name ?? "")-\(sts.name)-")
                    }
                }.map { ($0.namespace, $0.claim) }
            }
        }
        for (ns, claim) in claims {
            let rows = try JSONCoding.decoder.decode([HistoryRow].self,
                                                     from: try await source.client.call("GET", CairnPath.claimHistory(namespace: ns, claim: claim)))
            context.history.append((claim, rows.map {
                HistoryEntry(at: $0.at, action: $0.action.rawValue, volume: $0.volume, node: $0.node, pod: $0.pod, detail: $0.detail)
            }))
        }
        return Describer.describe(object, context)
    }
}

/// The lists a description draws on, each fetched once per command.
struct DescribeSource {
    let client: CairnClient
    private var cached: [Kind: [any KubeObject]] = [:]
    private var cachedBindings: [BindingRow]?

    init(client: CairnClient) { self.client = client }

    mutating func list<T: KubeObject>(_ kind: Kind, as type: T.Type = T.self) async throws -> [T] {
        if let objects = cached[kind] { return objects.compactMap { $0 as? T } }
        let objects = try decodeObjects(try await client.call("GET", kind.collectionPath(namespace: nil)), kind: kind)
        cached[kind] = objects
        return objects.compactMap { $0 as? T }
    }

    mutating func events() async throws -> [Event] { try await list(.event) }
    mutating func pods() async throws -> [Pod] { try await list(.pod) }

    mutating func bindings() async throws -> [BindingRow] {
        if let cachedBindings { return cachedBindings }
        let rows = try JSONCoding.decoder.decode(BindingList.self, from: try await client.call("GET", CairnPath.bindings)).items
        cachedBindings = rows
        return rows
    }
}
