import CairnCore
import CairnStore
import Foundation

/// `limit` and `continue` on lists, as kube-apiserver pages them (kubectl asks for 500 at a time).
///
/// The continue token is kube-apiserver's shape: base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":KEY}`,
/// KEY being where the next page starts (`namespace/name` plus a NUL, the first key after the last one
/// sent). Later pages report the first page's resourceVersion, so a watch resumed from the list misses
/// nothing; their items are read as they are now (etcd would serve that old snapshot: a change
/// between pages shows up in the page that reads it, and again in the watch).
public enum ListPage {
    public struct Request: Sendable, Hashable {
        /// nil or 0: everything.
        public var limit: Int?
        public var token: ContinueToken?

        public init(limit: Int? = nil, token: ContinueToken? = nil) {
            self.limit = limit
            self.token = token
        }

        public init(query: [String: String]) throws(Status) {
            if let text = query["limit"], !text.isEmpty {
                guard let n = Int(text), n >= 0 else {
                    throw Status.badRequest("invalid limit \"\(text)\": it must be a non-negative whole number")
                }
                limit = n == 0 ? nil : n
            }
            if let text = query["continue"], !text.isEmpty {
                token = try ContinueToken(decoding: text)
            }
        }
    }

    public struct ContinueToken: Sendable, Hashable {
        public var resourceVersion: Int64
        /// The first key of the next page: `namespace/name` of the last item sent, plus NUL.
        public var start: String

        public init(resourceVersion: Int64, start: String) {
            self.resourceVersion = resourceVersion
            self.start = start
        }

        /// kube-apiserver's error texts for a token it cannot use.
        public init(decoding text: String) throws(Status) {
            var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while padded.count % 4 != 0 { padded += "=" }
            guard let data = Data(base64Encoded: padded), case .object(let o)? = try? JSONValue.parse(data) else {
                throw Status.badRequest("continue key is not valid: illegal base64 data or not a continue token")
            }
            guard o["v"]?.stringValue == "meta.k8s.io/v1" else {
                throw Status.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            guard case .int(let rv)? = o["rv"], rv > 0 else {
                throw Status.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            guard let start = o["start"]?.stringValue, !start.isEmpty else {
                throw Status.badRequest("continue key is not valid: encoded start key empty")
            }
            resourceVersion = rv
            self.start = start
        }

        public var encoded: String {
            let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .int(resourceVersion), "start": .string(start)]
            return Data(json.jsonText().utf8).base64EncodedString()
        }
    }

    /// The key objects are ordered by (the store lists by namespace, then name).
    static func key(_ o: StoredObject) -> String { "\(o.key.namespace)/\(o.key.name)" }

    /// One page of `items` (already filtered, in key order): the items, the token for the next page,
    /// how many matching items remain after it, and the resourceVersion to report.
    public static func slice(_ items: [StoredObject], currentVersion: Int64, request: Request)
        -> (items: ArraySlice<StoredObject>, next: ContinueToken?, remaining: Int, resourceVersion: Int64) {
        let listVersion = request.token?.resourceVersion ?? currentVersion
        var start = items.startIndex
        if let token = request.token {
            // Keys compare as kube-apiserver's etcd keys do: bytewise.
            start = items.firstIndex { Array(key($0).utf8).lexicographicallyPrecedes(Array(token.start.utf8)) == false } ?? items.endIndex
        }
        guard let limit = request.limit, items.endIndex - start > limit else {
            return (items[start...], nil, 0, listVersion)
        }
        let end = start + limit
        let next = ContinueToken(resourceVersion: listVersion, start: key(items[end - 1]) + "\u{0}")
        return (items[start..<end], next, items.endIndex - end, listVersion)
    }
}

/// A list as read for a GET: its page of stored objects and list metadata.
public struct ListResult: Sendable {
    public var items: [StoredObject]
    public var resourceVersion: Int64
    public var next: ListPage.ContinueToken?
    /// Set when more items remain and the list had no selector (as kube-apiserver reports it).
    public var remainingItemCount: Int?

    /// The List object's text, built from the stored texts without parsing them.
    func json(_ kind: Kind) -> String {
        var meta = "\"resourceVersion\":\"\(resourceVersion)\""
        if let next { meta = "\"continue\":\"\(next.encoded)\",\(meta)" }
        if let remainingItemCount { meta += ",\"remainingItemCount\":\(remainingItemCount)" }
        return "{\"apiVersion\":\"\(kind.apiVersion)\",\"items\":[\(items.map(\.json).joined(separator: ","))],\"kind\":\"\(kind.rawValue)List\",\"metadata\":{\(meta)}}"
    }
}
