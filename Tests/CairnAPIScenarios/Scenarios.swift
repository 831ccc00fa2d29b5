import CairnCore
import CairnManifest
import Foundation

/// How a scenario talks to a server: in memory through the handler (CairnServerTests) or over the
/// daemon's socket (CairnEndToEndTests). Both run the same table.
public protocol APITransport: Sendable {
    func send(_ method: String, _ path: String, body: String?) async throws -> (status: Int, body: String)
}

/// One row of the request table: what it checks, and the check, which returns what went wrong.
public struct APIScenario: Sendable, CustomStringConvertible {
    public var name: String
    public var run: @Sendable (any APITransport) async throws -> [String]
    public var description: String { name }
}

/// The request table both the in-process server tests and the end-to-end suite run.
public enum APIScenarios {
    public static let all: [APIScenario] = [
        APIScenario(name: "missing objects and unknown paths are NotFound Statuses", run: notFound),
        APIScenario(name: "create, conflict, stale update, dry run", run: createAndConflicts),
        APIScenario(name: "lists filter by label and field selectors", run: selectors),
        APIScenario(name: "applying a manifest twice changes nothing the second time", run: applyTwice),
        APIScenario(name: "a watch from a list's resourceVersion sees every later change once, in order", run: watchInOrder),
        APIScenario(name: "a watch with a selector sees objects enter and leave it", run: watchSelector),
        APIScenario(name: "a watch without a resourceVersion starts with the current objects", run: watchInitial),
        APIScenario(name: "bad watches get kube-apiserver's errors", run: watchErrors),
    ]

    public static let services = "/api/v1/namespaces/default/services"

    public static func service(_ name: String, labels: [String: String] = [:], port: Int = 80) -> String {
        let l = labels.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        return #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","labels":{\#(l)}},"spec":{"ports":[{"port":\#(port)}]}}"#
    }

    public static func object(_ text: String) -> JSONValue { (try? JSONValue.parse(Data(text.utf8))) ?? .null }
    public static func rv(_ text: String) -> Int64 { Int64(object(text)["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? -1 }

    /// The events of a finished watch body.
    public static func events(_ body: String) -> [(type: String, name: String, rv: Int64, object: JSONValue)] {
        body.split(separator: "\n").map { line in
            let e = object(String(line))
            let o = e["object"] ?? .null
            return (e["type"]?.stringValue ?? "?", o["metadata"]?["name"]?.stringValue ?? "",
                    Int64(o["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? -1, o)
        }
    }

    static func expect(_ problems: inout [String], _ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { problems.append(what()) }
    }

    // MARK: rows

    static func notFound(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        let missing = try await t.send("GET", "/api/v1/namespaces/default/persistentvolumeclaims/nope", body: nil)
        expect(&p, missing.status == 404, "GET missing: \(missing.status)")
        let s = object(missing.body)
        expect(&p, s["kind"]?.stringValue == "Status" && s["reason"]?.stringValue == "NotFound", "Status: \(missing.body)")
        expect(&p, s["message"]?.stringValue == "persistentvolumeclaims \"nope\" not found", "message: \(missing.body)")
        let widgets = try await t.send("GET", "/api/v1/widgets", body: nil)
        expect(&p, widgets.status == 404, "unknown resource: \(widgets.status)")
        return p
    }

    static func createAndConflicts(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        let created = try await t.send("POST", services, body: service("conflicts"))
        expect(&p, created.status == 201, "create: \(created.status) \(created.body)")
        let again = try await t.send("POST", services, body: service("conflicts"))
        expect(&p, again.status == 409 && object(again.body)["reason"]?.stringValue == "AlreadyExists", "duplicate: \(again.body)")
        // A replacement carrying the resourceVersion it read succeeds once; the second is stale.
        var edited = object(created.body)
        edited["metadata"]?["labels"] = .object(["edited": .string("yes")])
        let first = try await t.send("PUT", "\(services)/conflicts", body: edited.jsonText())
        expect(&p, first.status == 200, "update: \(first.status) \(first.body)")
        let stale = try await t.send("PUT", "\(services)/conflicts", body: edited.jsonText())
        expect(&p, stale.status == 409 && object(stale.body)["reason"]?.stringValue == "Conflict", "stale update: \(stale.body)")
        let dry = try await t.send("POST", "\(services)?dryRun=All", body: service("dry-run"))
        expect(&p, dry.status == 201, "dry run: \(dry.status)")
        let absent = try await t.send("GET", "\(services)/dry-run", body: nil)
        expect(&p, absent.status == 404, "a dry run stored nothing: \(absent.status)")
        let wrongNamespace = try await t.send("POST", services, body: service("x").replacingOccurrences(of: #""name":"x""#, with: #""name":"x","namespace":"other""#))
        expect(&p, wrongNamespace.status == 400, "namespace mismatch: \(wrongNamespace.status)")
        // fieldValidation, as kube-apiserver reads it: Strict refuses an unknown field, the default
        // (Warn) drops it and says so in a Warning header.
        let typo = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"u"},"spec":{},"colour":"red"}"#
        let strict = try await t.send("POST", "\(services)?fieldValidation=Strict", body: typo)
        expect(&p, strict.status == 400 && strict.body.contains(#"strict decoding error: unknown field \"colour\""#),
               "unknown field, Strict: \(strict.status) \(strict.body)")
        let warned = try await t.send("POST", services, body: typo)
        expect(&p, warned.status == 201 && !warned.body.contains("colour"), "unknown field, Warn: \(warned.status) \(warned.body)")
        return p
    }

    static func selectors(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        _ = try await t.send("POST", services, body: service("sel-a", labels: ["tier": "web"]))
        _ = try await t.send("POST", services, body: service("sel-b", labels: ["tier": "db"]))
        func names(_ query: String) async throws -> [String] {
            let r = try await t.send("GET", "\(services)?\(query)", body: nil)
            return (object(r.body)["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }.sorted()
        }
        expect(&p, try await names("labelSelector=tier%3Dweb") == ["sel-a"], "label selector")
        expect(&p, try await names("labelSelector=tier%20in%20(web,db)") == ["sel-a", "sel-b"], "set-based label selector")
        expect(&p, try await names("fieldSelector=metadata.name%3Dsel-b") == ["sel-b"], "field selector")
        expect(&p, try await names("fieldSelector=metadata.name!%3Dsel-b&labelSelector=tier") == ["sel-a"], "both selectors")
        let bad = try await t.send("GET", "\(services)?fieldSelector=spec.colour%3Dred", body: nil)
        expect(&p, bad.status == 400 && bad.body.contains("field label not supported: spec.colour"), "unsupported field: \(bad.body)")
        let badLabel = try await t.send("GET", "\(services)?labelSelector=a%3D%3D%3Db", body: nil)
        expect(&p, badLabel.status == 400, "bad label selector: \(badLabel.status)")
        return p
    }

    /// Each example and seed manifest, created, then sent again as `cairn apply` sends it (the
    /// manifest laid over the live object): the second write changes nothing, its resourceVersion
    /// stays (kubectl's "unchanged").
    static func applyTwice(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        for doc in try manifests() {
            guard let kind = try? ObjectDecoding.kind(of: doc.json).get(), kind.userWritable,
                  let name = doc.json["metadata"]?["name"]?.stringValue else { continue }
            let collection = kind.collectionPath(namespace: kind.namespaced ? "apply-twice" : nil)
            if kind == .storageClass || kind == .namespace { continue }
            _ = try await t.send("POST", "/api/v1/namespaces", body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"apply-twice"}}"#)
            let created = try await t.send("POST", collection, body: doc.json.jsonText())
            guard created.status == 201 else { p.append("\(doc.source): create \(kind) \(name): \(created.status) \(created.body)"); continue }
            // A controller may write the object between the read and the write (binding a claim): read
            // again and retry, as a client does on 409 Conflict.
            var live: (status: Int, body: String) = (0, ""), second: (status: Int, body: String) = (0, "")
            for _ in 0..<10 {
                live = try await t.send("GET", "\(collection)/\(name)", body: nil)
                var merged = overlay(object(live.body), doc.json)
                merged["metadata"]?["resourceVersion"] = object(live.body)["metadata"]?["resourceVersion"]
                second = try await t.send("PUT", "\(collection)/\(name)", body: merged.jsonText())
                if second.status != 409 { break }
            }
            expect(&p, second.status == 200, "\(doc.source): second apply of \(kind) \(name): \(second.status) \(second.body)")
            expect(&p, second.status != 200 || rv(second.body) == rv(live.body),
                   "\(doc.source): second apply of \(kind) \(name) changed it (\(rv(live.body)) -> \(rv(second.body)))")
        }
        return p
    }

    /// The manifest's fields laid over the live object, as `cairn apply` does.
    static func overlay(_ live: JSONValue, _ manifest: JSONValue) -> JSONValue {
        guard case .object(let m) = manifest, case .object(var l) = live else { return manifest }
        for (k, v) in m where k != "status" { l[k] = overlay(l[k] ?? .null, v) }
        return .object(l)
    }

    public static func manifests() throws -> [ManifestDocument] {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        var docs: [ManifestDocument] = []
        for dir in ["examples/seed"] {
            let path = url.appendingPathComponent(dir).path
            for file in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where file.hasSuffix(".yaml") {
                let text = try String(contentsOfFile: "\(path)/\(file)", encoding: .utf8)
                docs += try ManifestReader.read(text, source: "\(dir)/\(file)")
            }
        }
        return docs
    }

    static func watchInOrder(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        let list = try await t.send("GET", services, body: nil)
        let from = rv(list.body)
        var expected: [(String, String)] = []
        for name in ["w-1", "w-2", "w-3"] {
            _ = try await t.send("POST", services, body: service(name))
            expected.append(("ADDED", name))
        }
        let two = try await t.send("GET", "\(services)/w-2", body: nil)
        var changed = object(two.body)
        changed["metadata"]?["labels"] = .object(["v": .string("2")])
        _ = try await t.send("PUT", "\(services)/w-2", body: changed.jsonText())
        expected.append(("MODIFIED", "w-2"))
        _ = try await t.send("DELETE", "\(services)/w-1", body: nil)
        expected.append(("DELETED", "w-1"))
        let watch = try await t.send("GET", "\(services)?watch=1&resourceVersion=\(from)&timeoutSeconds=1", body: nil)
        expect(&p, watch.status == 200, "watch: \(watch.status) \(watch.body)")
        let seen = events(watch.body).filter { $0.name.hasPrefix("w-") }
        expect(&p, seen.map { "\($0.type) \($0.name)" } == expected.map { "\($0.0) \($0.1)" },
               "events: \(seen.map { "\($0.type) \($0.name)" })")
        let versions = seen.map(\.rv)
        expect(&p, versions == versions.sorted() && Set(versions).count == versions.count && (versions.first ?? 0) > from,
               "versions after \(from), increasing, once each: \(versions)")
        // From the last event on, nothing again.
        if let last = versions.last {
            let after = try await t.send("GET", "\(services)?watch=true&resourceVersion=\(last)&timeoutSeconds=1", body: nil)
            expect(&p, events(after.body).filter { $0.name.hasPrefix("w-") }.isEmpty, "nothing after the last: \(after.body)")
        }
        return p
    }

    static func watchSelector(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        let from = rv(try await t.send("GET", services, body: nil).body)
        _ = try await t.send("POST", services, body: service("ws", labels: ["mood": "on"]))
        for mood in ["off", "on"] {
            var o = object(try await t.send("GET", "\(services)/ws", body: nil).body)
            o["metadata"]?["labels"] = .object(["mood": .string(mood)])
            _ = try await t.send("PUT", "\(services)/ws", body: o.jsonText())
        }
        let watch = try await t.send("GET", "\(services)?watch=1&resourceVersion=\(from)&timeoutSeconds=1&labelSelector=mood%3Don", body: nil)
        let seen = events(watch.body).filter { $0.name == "ws" }.map(\.type)
        expect(&p, seen == ["ADDED", "DELETED", "ADDED"], "selector watch: \(seen)")
        return p
    }

    static func watchInitial(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        _ = try await t.send("POST", services, body: service("init-1"))
        let watch = try await t.send("GET", "\(services)?watch=1&timeoutSeconds=1&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dinit-1", body: nil)
        let seen = events(watch.body)
        expect(&p, seen.first.map { "\($0.type) \($0.name)" } == "ADDED init-1", "initial: \(seen.map(\.type))")
        // A bookmark closes a watch that allowed them: the version to resume from.
        expect(&p, seen.last?.type == "BOOKMARK" && (seen.last?.rv ?? 0) >= (seen.first?.rv ?? 0), "bookmark: \(watch.body.suffix(300))")
        return p
    }

    static func watchErrors(_ t: any APITransport) async throws -> [String] {
        var p: [String] = []
        let selector = try await t.send("GET", "\(services)?watch=1&labelSelector=a%3D%3D%3Db", body: nil)
        expect(&p, selector.status == 400, "bad selector: \(selector.status)")
        let version = try await t.send("GET", "\(services)?watch=1&resourceVersion=abc", body: nil)
        expect(&p, version.status == 422 || version.status == 400, "bad resourceVersion: \(version.status)")
        let current = rv(try await t.send("GET", services, body: nil).body)
        let future = try await t.send("GET", "\(services)?watch=1&resourceVersion=\(current + 1_000_000)", body: nil)
        expect(&p, future.status == 504 && future.body.contains("Too large resource version"), "future version: \(future.status) \(future.body)")
        return p
    }
}
