import ArgumentParser
import CairnCLICore
import CairnClient
import CairnCore
import CairnManifest
import Foundation

/// A manifest document that passed local validation, ready to send.
struct PreparedDocument {
    var document: ManifestDocument
    var kind: Kind
    var name: String
    var namespace: String?
    var json: JSONValue
    var label: String { "\(resourceName(kind))/\(name)" }
}

/// Reads FILE, DIR (its *.yaml, *.yml and *.json files, sorted) or "-" (standard input).
func readManifests(_ paths: [String]) throws -> (docs: [ManifestDocument], errors: [String]) {
    var docs: [ManifestDocument] = []
    var errors: [String] = []
    for path in paths {
        var files: [(String, String)] = []
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            files.append(("-", String(decoding: data, as: UTF8.self)))
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                errors.append("the path \"\(path)\" does not exist")
                continue
            }
            if isDir.boolValue {
                let entries = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
                if entries.isEmpty { errors.append("\(path): no .yaml, .yml or .json files in this directory") }
                for e in entries {
                    let p = path.hasSuffix("/") ? path + e : "\(path)/\(e)"
                    guard let text = try? String(contentsOfFile: p, encoding: .utf8) else { errors.append("\(p): cannot read the file as UTF-8 text"); continue }
                    files.append((p, text))
                }
            } else {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { errors.append("\(path): cannot read the file as UTF-8 text"); continue }
                files.append((path, text))
            }
        }
        for (source, text) in files {
            do {
                docs += try ManifestReader.read(text, source: source)
            } catch {
                errors.append("\(error)")
            }
        }
    }
    return (docs, errors)
}

/// Strict decoding and validation of every document, with file:line:column for each error.
func prepare(_ docs: [ManifestDocument], defaultNamespace: String, explicitNamespace: Bool) -> ([PreparedDocument], [String]) {
    var prepared: [PreparedDocument] = []
    var errors: [String] = []
    for doc in docs {
        let kind: Kind
        switch ObjectDecoding.kind(of: doc.json) {
        case .failure(let e):
            errors.append("\(doc.location(of: e.field)): document \(doc.index): \(e)")
            continue
        case .success(let k): kind = k
        }
        let name = doc.json["metadata"]?["name"]?.stringValue ?? ""
        let what = "\(kind.rawValue) \"\(name)\""
        switch ObjectDecoding.decodeAny(doc.json) {
        case .failure(let errs):
            for e in errs.errors { errors.append("\(doc.location(of: e.field)): \(what): \(e)") }
            continue
        case .success(let object):
            var problems = Validation.validate(object)
            guard kind.userWritable else {
                errors.append("\(doc.location(of: "kind")): \(what): \(kind.resource) are managed by cairn serve and cannot be applied")
                continue
            }
            var ns: String? = nil
            if kind.namespaced {
                let docNS = object.metadata.namespace
                if let docNS, explicitNamespace, docNS != defaultNamespace {
                    problems.append(.invalid("metadata.namespace", string: docNS,
                                             "the namespace from the provided object does not match the namespace \"\(defaultNamespace)\". You must pass '--namespace=\(docNS)' to perform this operation."))
                }
                ns = docNS ?? defaultNamespace
            }
            for e in problems { errors.append("\(doc.location(of: e.field)): \(what): \(e)") }
            if problems.isEmpty {
                var json = doc.json
                json["status"] = nil
                prepared.append(PreparedDocument(document: doc, kind: kind, name: name, namespace: ns, json: json))
            }
        }
    }
    return (prepared, errors)
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update objects from YAML or JSON manifests.",
        discussion: """
        Every document is read and validated before anything is written; if any document is invalid, nothing \
        is applied and every error is printed with its file, line and column. Existing objects are updated \
        with the fields the manifest gives (fields it leaves out keep their current values).
        """)

    @OptionGroup var client: ClientOptions
    @Option(name: [.short, .customLong("filename")], help: "A file, a directory of manifests, or - for standard input.")
    var files: [String] = []

    func run() async {
        await runClient {
            guard !files.isEmpty else { throw CLIError("must specify -f: a manifest file, a directory of manifests, or - for standard input") }
            let (docs, readErrors) = try readManifests(files)
            let (prepared, errors) = prepare(docs, defaultNamespace: client.ns, explicitNamespace: client.namespace != nil)
            let all = readErrors + errors
            if !all.isEmpty {
                var stderr = FileHandle.standardError
                for e in all { print("error: \(e)", to: &stderr) }
                throw CLIError("nothing was applied: \(all.count) error\(all.count == 1 ? "" : "s") in the manifests", exitCode: 1)
            }
            if prepared.isEmpty { throw CLIError("no objects passed to apply") }
            let newNamespaces = Set(prepared.filter { $0.kind == .namespace }.map(\.name))
            try await client.withClient { c in
                // First a dry run of every document, so the server's own checks (immutable fields,
                // missing namespaces, conflicts) also stop the whole apply before anything is written.
                let checks = try await inOrder(prepared) { p -> String? in
                    do {
                        _ = try await send(p, c, dryRun: true)
                        return nil
                    } catch let s as Status {
                        if s.code == 404, s.details?.kind == "namespaces", let n = s.details?.name, newNamespaces.contains(n) { return nil }
                        return "\(p.document.location(of: nil)): \(p.label): \(s.message)"
                    }
                }
                let serverErrors = checks.compactMap { $0 }
                if !serverErrors.isEmpty {
                    var stderr = FileHandle.standardError
                    for e in serverErrors { print("error: \(e)", to: &stderr) }
                    throw CLIError("nothing was applied: the server refused \(serverErrors.count) object\(serverErrors.count == 1 ? "" : "s")")
                }
                try await inOrder(prepared, deliver: { print($0) }) { p -> String in
                    "\(p.label) \(try await send(p, c, dryRun: false))"
                }
            }
        }
    }

    /// Runs `body` for every document in manifest order, except that a run of consecutive documents of
    /// one kind that nothing else depends on (claims, pods, volumes, workloads) is sent up to 8 at a
    /// time: a manifest of thousands of claims then takes seconds, not minutes. Namespaces and
    /// StorageClasses, which later documents may need, always go one by one. Results keep the order.
    @discardableResult
    func inOrder<T: Sendable>(_ docs: [PreparedDocument], deliver: (T) -> Void = { _ in },
                              _ body: @escaping @Sendable (PreparedDocument) async throws -> T) async throws -> [T] {
        var results: [T] = []
        var start = 0
        while start < docs.count {
            var end = start + 1
            if Self.independentKinds.contains(docs[start].kind) {
                while end < docs.count, docs[end].kind == docs[start].kind { end += 1 }
            }
            let run = Array(docs[start..<end])
            var slots = [T?](repeating: nil, count: run.count)
            var delivered = 0
            try await withThrowingTaskGroup(of: (Int, T).self) { group in
                var next = 0
                while next < min(8, run.count) {
                    let i = next, doc = run[i]
                    group.addTask { (i, try await body(doc)) }
                    next += 1
                }
                while let (i, value) = try await group.next() {
                    slots[i] = value
                    // Hand results over in manifest order, as soon as all earlier ones are in.
                    while delivered < run.count, let ready = slots[delivered] {
                        deliver(ready)
                        delivered += 1
                    }
                    if next < run.count {
                        let j = next, doc = run[j]
                        group.addTask { (j, try await body(doc)) }
                        next += 1
                    }
                }
            }
            results += slots.map { $0! }
            start = end
        }
        return results
    }

    static let independentKinds: Set<Kind> = [.persistentVolumeClaim, .persistentVolume, .pod, .statefulSet, .replicaSet, .service]

    /// Creates the object, or merges the manifest into the current one; returns kubectl's word for it.
    /// A controller may change the object between the read and the write (a claim being bound): on
    /// 409 Conflict the read-merge-write is done again, a few times.
    func send(_ p: PreparedDocument, _ c: CairnClient, dryRun: Bool) async throws -> String {
        var attempt = 0
        while true {
            do {
                return try await sendOnce(p, c, dryRun: dryRun)
            } catch let s as Status where s.reason == .conflict && attempt < 5 {
                attempt += 1
            }
        }
    }

    func sendOnce(_ p: PreparedDocument, _ c: CairnClient, dryRun: Bool) async throws -> String {
        let itemPath = p.kind.collectionPath(namespace: p.namespace) + "/\(p.name)"
        let query = dryRun ? ["dryRun": "All"] : [:]
        // Create first: a new object then costs one request, not a read and a write (a manifest of
        // 10,000 claims is 20,000 requests fewer); one that exists answers AlreadyExists and is
        // merged below. Nodes, which the daemon registers, are read first: clients only update them.
        var body = p.json
        if p.kind.namespaced { body["metadata"]?["namespace"] = .string(p.namespace ?? "default") }
        let create = { [body] in
            _ = try await c.call("POST", p.kind.collectionPath(namespace: p.namespace), query: query,
                                 body: Data(body.jsonText().utf8))
        }
        if p.kind.userWritable {
            do {
                try await create()
                return "created"
            } catch let s as Status where s.reason == .alreadyExists {}
        }
        let current = try await c.send("GET", itemPath)
        if current.status == 404 {
            if p.kind.userWritable { throw Status.conflict(p.kind, p.name, "the object was deleted while it was being applied; apply again") }
            try await create()
            return "created"
        }
        if current.status >= 400 {
            if let s = try? JSONCoding.decoder.decode(Status.self, from: current.body) { throw s }
            throw CLIError("unexpected answer (HTTP \(current.status)) for \(itemPath)")
        }
        let existing = try JSONValue.parse(current.body)
        var merged = mergeManifest(existing, p.json)
        merged["metadata"]?["resourceVersion"] = existing["metadata"]?["resourceVersion"]
        if merged == existing { return "unchanged" }
        let answer = try await c.call("PUT", itemPath, query: query, body: Data(merged.jsonText().utf8))
        // The server defaults what the manifest leaves out before it compares: an update that changes
        // nothing keeps its resourceVersion, and is what kubectl calls unchanged.
        let after = (try? JSONValue.parse(answer))?["metadata"]?["resourceVersion"]
        if !dryRun, after != nil, after == existing["metadata"]?["resourceVersion"] { return "unchanged" }
        return "configured"
    }
}

/// The manifest's fields laid over the live object (objects merge key by key; lists and scalars replace).
func mergeManifest(_ live: JSONValue, _ manifest: JSONValue) -> JSONValue {
    guard case .object(let m) = manifest, case .object(var l) = live else { return manifest }
    for (k, v) in m where k != "status" {
        l[k] = mergeManifest(l[k] ?? .null, v)
    }
    return .object(l)
}

struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set the number of replicas of a StatefulSet or ReplicaSet.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "statefulset NAME, replicaset NAME, or sts/NAME, rs/NAME.") var args: [String]
    @Option(help: "The new number of replicas.") var replicas: Int32
    @Option(name: .customLong("resource-version"), help: "Scale only if the object is still at this resourceVersion.")
    var resourceVersion: String?

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
                throw CLIError("required resource not specified: cairn scale statefulset NAME --replicas=N")
            }
            if replicas < 0 { throw CLIError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0") }
            try await client.withClient { c in
                for (kind, name) in pairs {
                    guard kind == .statefulSet || kind == .replicaSet else {
                        throw CLIError("cannot scale \(kind.resource); Cairn scales statefulsets and replicasets")
                    }
                    var meta: [String: JSONValue] = [:]
                    if let resourceVersion { meta["resourceVersion"] = .string(resourceVersion) }
                    let body = JSONValue.object(["spec": .object(["replicas": .int(Int64(replicas))]), "metadata": .object(meta)])
                    _ = try await c.call("PATCH", kind.collectionPath(namespace: client.ns) + "/\(name)/scale",
                                         body: Data(body.jsonText().utf8), contentType: "application/merge-patch+json")
                    print("\(resourceName(kind))/\(name) scaled")
                }
            }
        }
    }
}
