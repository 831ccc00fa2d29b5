import CairnCore
import CairnStore
import Foundation
import Synchronization

/// A watch as the API server takes it: `GET <list path>?watch=1&resourceVersion=N&...`.
public struct WatchRequest: Sendable {
    public var kind: Kind
    public var namespace: String?
    public var filter: ObjectFilter
    /// nil or "": start at the most recent version, with the current objects as ADDED first; "0": the
    /// same ("any"); N: the changes after N.
    public var resourceVersion: String?
    public var allowBookmarks: Bool
    /// `sendInitialEvents=true`: the current objects as ADDED, then a bookmark marking their end.
    public var sendInitialEvents: Bool
    public var timeout: Duration

    /// From a request's query, with kube-apiserver's 400 answers for bad values.
    public init(kind: Kind, namespace: String?, query: [String: String]) throws(Status) {
        self.kind = kind
        self.namespace = namespace
        filter = try ObjectFilter(kind: kind, labelSelector: query["labelSelector"], fieldSelector: query["fieldSelector"])
        resourceVersion = query["resourceVersion"]
        if let rv = resourceVersion, !rv.isEmpty, Int64(rv).map({ $0 >= 0 }) != true {
            throw Status.invalid(kind, "", [.invalid("resourceVersion", string: rv, "must be a non-negative integer")])
        }
        allowBookmarks = query["allowWatchBookmarks"] == "true"
        sendInitialEvents = query["sendInitialEvents"] == "true"
        if let t = query["timeoutSeconds"] {
            guard let seconds = Int(t), seconds >= 0 else {
                throw Status.badRequest("invalid timeoutSeconds \"\(t)\": it must be a non-negative whole number of seconds")
            }
            timeout = .seconds(seconds == 0 ? Self.defaultTimeoutSeconds : seconds)
        } else {
            timeout = .seconds(Self.defaultTimeoutSeconds)
        }
    }

    /// kube-apiserver's --min-request-timeout (a watch without timeoutSeconds ends after about this).
    static let defaultTimeoutSeconds = 1800

    /// Whether the query asks for a watch (`watch=1`, `watch=true`).
    public static func isWatch(_ query: [String: String]) -> Bool {
        guard let w = query["watch"] else { return false }
        return w == "1" || w == "true" || w.isEmpty
    }
}

/// The continuations of the watches being served.
final class OpenWatches: Sendable {
    private let streams = Mutex<(next: Int, open: [Int: AsyncStream<String>.Continuation])>((0, [:]))

    func add(_ c: AsyncStream<String>.Continuation) -> Int {
        streams.withLock { s in
            s.next += 1
            s.open[s.next] = c
            return s.next
        }
    }

    func remove(_ id: Int) { _ = streams.withLock { $0.open.removeValue(forKey: id) } }

    func finishAll() {
        let all = streams.withLock { s in
            let all = Array(s.open.values)
            s.open = [:]
            return all
        }
        for c in all { c.finish() }
    }
}

public enum WatchEventType: String, Sendable {
    case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
}

/// Serves watches from the change log in SQLite: every change after the client's resourceVersion, in
/// order, once, then new ones as they are committed. Because the log is in the database, a watch
/// resumed after a daemon restart neither loses nor repeats an event; one that asks for more than the
/// log still holds gets 410 Expired and lists again, as from kube-apiserver.
public struct WatchServer: Sendable {
    let store: Store
    /// How long a watch may be idle before a bookmark tells it the current resourceVersion.
    let bookmarkInterval: Duration
    /// The open streams, so a daemon that shuts down ends them (its HTTP servers wait for open
    /// responses, and a watch would otherwise hold them until its timeout).
    let open = OpenWatches()

    public init(store: Store, bookmarkInterval: Duration = .seconds(60)) {
        self.store = store
        self.bookmarkInterval = bookmarkInterval
    }

    /// Ends every open watch (the client sees its stream close, as when kube-apiserver stops).
    public func closeAll() { open.finishAll() }

    /// The stream of JSON event lines, or the error kube-apiserver answers before streaming (a
    /// resourceVersion newer than any: 504 after waiting 3 s for it).
    public func open(_ request: WatchRequest) async throws(Status) -> AsyncStream<String> {
        var start: Int64? = nil
        if let text = request.resourceVersion, let rv = Int64(text), rv > 0, !request.sendInitialEvents {
            let current = (try? store.read { try $0.currentResourceVersion() }) ?? 0
            if rv > current {
                let reached = await store.commits.wait(after: rv - 1, timeout: .seconds(3))
                if reached < rv {
                    throw Status(code: 504, reason: .timeout, message: "Timeout: Too large resource version: \(rv), current: \(max(reached, current))",
                                 details: .init(name: nil, group: nil, kind: nil,
                                                causes: [.init(reason: "ResourceVersionTooLarge", message: "Too large resource version", field: nil)]))
                }
            }
            start = rv
        }
        let server = self, from = start
        return AsyncStream(bufferingPolicy: .bufferingNewest(10_000)) { continuation in
            let id = server.open.add(continuation)
            let task = Task {
                await server.run(request, from: from, into: continuation)
                continuation.finish()
            }
            continuation.onTermination = { _ in
                task.cancel()
                server.open.remove(id)
            }
        }
    }

    static let pageSize = 500

    private func run(_ request: WatchRequest, from start: Int64?, into out: AsyncStream<String>.Continuation) async {
        let clock = ContinuousClock()
        let deadline = clock.now + request.timeout
        var from: Int64
        do {
            if let start {
                from = start
            } else {
                from = try initialEvents(request, into: out)
            }
        } catch {
            out.yield(Self.line(.error, Self.statusJSON(.internalError("\(error)"))))
            return
        }
        var lastSent = clock.now
        while !Task.isCancelled && clock.now < deadline {
            let page: (changes: [ChangeRecord], current: Int64, compacted: Int64)
            do {
                page = try store.read { r in
                    (try r.changes(after: from, kind: request.kind, namespace: request.namespace, limit: Self.pageSize),
                     try r.currentResourceVersion(), try r.compactedResourceVersion())
                }
            } catch {
                out.yield(Self.line(.error, Self.statusJSON(.internalError("\(error)"))))
                return
            }
            if from < page.compacted {
                out.yield(Self.line(.error, Self.statusJSON(Self.expired(from, page.compacted))))
                return
            }
            for change in page.changes {
                if let line = event(for: change, request) {
                    out.yield(line)
                    lastSent = clock.now
                }
                from = change.resourceVersion
            }
            if page.changes.count == Self.pageSize { continue }
            // Every change of this kind up to `current` has been read.
            from = max(from, page.current)
            if request.allowBookmarks && clock.now - lastSent >= bookmarkInterval {
                out.yield(Self.bookmark(request.kind, from))
                lastSent = clock.now
            }
            let left = deadline - clock.now
            guard left > .zero else { break }
            _ = await store.commits.wait(after: from, timeout: min(left, bookmarkInterval))
        }
        // Before closing on timeout, a bookmark lets the client resume exactly here.
        if request.allowBookmarks && !Task.isCancelled { out.yield(Self.bookmark(request.kind, from)) }
    }

    /// The current objects as ADDED events; returns the resourceVersion they were read at.
    private func initialEvents(_ request: WatchRequest, into out: AsyncStream<String>.Continuation) throws -> Int64 {
        let (rv, items) = try store.read { r in (try r.currentResourceVersion(), try r.list(kind: request.kind, namespace: request.namespace)) }
        for item in items where request.filter.isEverything || request.filter.matches(item.body) {
            out.yield(Self.line(.added, item.json))
        }
        if request.sendInitialEvents {
            out.yield(Self.bookmark(request.kind, rv, initialEventsEnd: true))
        }
        return rv
    }

    /// The event a client with this filter sees for a change: with a selector, an object that starts
    /// matching is ADDED and one that stops matching is DELETED (as the watch cache does).
    private func event(for change: ChangeRecord, _ request: WatchRequest) -> String? {
        guard request.namespace == nil || change.key.namespace == request.namespace else { return nil }
        let type: WatchEventType = change.type == .added ? .added : (change.type == .modified ? .modified : .deleted)
        if request.filter.isEverything { return Self.line(type, change.json) }
        let now = request.filter.matches((try? JSONValue.parse(change.json)) ?? .null)
        var before = now
        if change.type == .added {
            before = false
        } else if let prev = try? store.read({ try $0.change(of: change.key, before: change.resourceVersion) }), prev.type != .deleted {
            before = request.filter.matches((try? JSONValue.parse(prev.json)) ?? .null)
        }
        switch (change.type, before, now) {
        case (.added, _, true): return Self.line(.added, change.json)
        case (.modified, true, true): return Self.line(.modified, change.json)
        case (.modified, false, true): return Self.line(.added, change.json)
        case (.modified, true, false): return Self.line(.deleted, change.json)
        case (.deleted, true, _): return Self.line(.deleted, change.json)
        default: return nil
        }
    }

    // MARK: wire format

    static func line(_ type: WatchEventType, _ objectJSON: String) -> String {
        "{\"type\":\"\(type.rawValue)\",\"object\":\(objectJSON)}\n"
    }

    static func bookmark(_ kind: Kind, _ rv: Int64, initialEventsEnd: Bool = false) -> String {
        let annotations = initialEventsEnd ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : ""
        return line(.bookmark, "{\"apiVersion\":\"\(kind.apiVersion)\",\"kind\":\"\(kind.rawValue)\",\"metadata\":{\"creationTimestamp\":null,\"resourceVersion\":\"\(rv)\"\(annotations)}}")
    }

    /// The watch cache's words: the version asked for, and the newest one the log no longer holds.
    static func expired(_ rv: Int64, _ compacted: Int64) -> Status {
        Status(code: 410, reason: .expired, message: "too old resource version: \(rv) (\(compacted))")
    }

    static func statusJSON(_ s: Status) -> String {
        (try? String(decoding: JSONCoding.encoder.encode(s), as: UTF8.self)) ?? "{}"
    }
}
