import CairnCore

/// A group/version/kind, as discovery and OpenAPI name types.
public struct GroupVersionKind: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }
    public var json: JSONValue { .object(["group": .string(group), "version": .string(version), "kind": .string(kind)]) }
}

/// A subresource as discovery lists it (`pods/exec`, `statefulsets/scale`).
public struct SubresourceInfo: Sendable, Hashable {
    public var name: String
    public var responseKind: GroupVersionKind
    public var verbs: [String]
}

/// What discovery says about one resource: kube-apiserver's verbs, short names, categories and the
/// subresources Cairn serves (or answers with a clear error, like `pods/log`).
public struct ResourceInfo: Sendable, Hashable {
    public var kind: Kind
    public var verbs: [String]
    public var categories: [String]
    public var subresources: [SubresourceInfo]

    /// The verbs of every resource kube-apiserver stores (sorted, as it lists them).
    static let storedVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public static func of(_ kind: Kind) -> ResourceInfo {
        let same = GroupVersionKind(group: kind.group, version: kind.version, kind: kind.rawValue)
        let statusOnly = [SubresourceInfo(name: "status", responseKind: same, verbs: ["get", "patch", "update"])]
        let scale = SubresourceInfo(name: "scale", responseKind: GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale"),
                                    verbs: ["get", "patch", "update"])
        switch kind {
        case .pod:
            return ResourceInfo(kind: kind, verbs: storedVerbs, categories: ["all"], subresources: [
                SubresourceInfo(name: "eviction", responseKind: GroupVersionKind(group: "policy", version: "v1", kind: "Eviction"), verbs: ["create"]),
                SubresourceInfo(name: "exec", responseKind: GroupVersionKind(group: "", version: "v1", kind: "PodExecOptions"), verbs: ["create", "get"]),
                SubresourceInfo(name: "log", responseKind: same, verbs: ["get"]),
            ] + statusOnly)
        case .statefulSet, .replicaSet:
            return ResourceInfo(kind: kind, verbs: storedVerbs, categories: ["all"], subresources: [scale] + statusOnly)
        case .service:
            return ResourceInfo(kind: kind, verbs: storedVerbs, categories: ["all"], subresources: statusOnly)
        case .namespace:
            // Namespaces have no deletecollection upstream.
            return ResourceInfo(kind: kind, verbs: storedVerbs.filter { $0 != "deletecollection" }, categories: [], subresources: statusOnly)
        case .persistentVolume, .persistentVolumeClaim, .node:
            return ResourceInfo(kind: kind, verbs: storedVerbs, categories: [], subresources: statusOnly)
        case .event, .storageClass:
            return ResourceInfo(kind: kind, verbs: storedVerbs, categories: [], subresources: [])
        }
    }

    /// `discovery.StorageVersionHash(group, version, kind)`: base64 of the first 8 bytes of the SHA-256
    /// of "group/version/kind". Constants, because this library computes no digests; a test checks them.
    public var storageVersionHash: String {
        switch kind {
        case .pod: "xPOwRZ+Yhw8="
        case .node: "XwShjMxG9Fs="
        case .event: "r2yiGXH7wu8="
        case .namespace: "Q3oi5N2YM8M="
        case .service: "0/CO1lhkEBI="
        case .persistentVolume: "HN/zwEC+JgM="
        case .persistentVolumeClaim: "QWTyNDq0dC4="
        case .statefulSet: "H+vl74LkKdo="
        case .replicaSet: "P1RzHs8/mWQ="
        case .storageClass: "K+m6uJwbjGY="
        }
    }
}

/// The group versions Cairn serves, in the order kube-apiserver lists them.
public struct GroupVersion: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public init(group: String, version: String) {
        self.group = group
        self.version = version
    }
    public var description: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var kinds: [Kind] { Kind.allCases.filter { $0.group == group && $0.version == version }.sorted { $0.resource < $1.resource } }

    public static let core = GroupVersion(group: "", version: "v1")
    public static let apps = GroupVersion(group: "apps", version: "v1")
    public static let storage = GroupVersion(group: "storage.k8s.io", version: "v1")
    /// The named groups under /apis, in kube-apiserver's priority order.
    public static let namedGroups = [apps, storage]
    public static let all = [core] + namedGroups

    /// The group version served at a path's prefix: "/api/v1" or "/apis/apps/v1".
    public static func served(_ group: String, _ version: String) -> GroupVersion? {
        all.first { $0.group == group && $0.version == version }
    }
}

/// The discovery documents kubectl reads before anything else.
public enum Discovery {
    /// GET /api (legacy): `APIVersions`. `serverAddress` is host:port as the client reached the server.
    public static func apiVersions(serverAddress: String) -> JSONValue {
        .object([
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ])
    }

    static func groupVersionEntry(_ gv: GroupVersion) -> JSONValue {
        ["groupVersion": .string(gv.description), "version": .string(gv.version)]
    }

    /// One named group: the entry of /apis, or the document at /apis/{group} (with kind APIGroup).
    public static func apiGroup(_ gv: GroupVersion, document: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(gv.group),
            "versions": [groupVersionEntry(gv)],
            "preferredVersion": groupVersionEntry(gv),
        ]
        if document {
            o["kind"] = "APIGroup"
            o["apiVersion"] = "v1"
        }
        return .object(o)
    }

    /// GET /apis (legacy): `APIGroupList`.
    public static func apiGroupList() -> JSONValue {
        .object(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(GroupVersion.namedGroups.map { apiGroup($0) })])
    }

    /// GET /api/v1, /apis/apps/v1, /apis/storage.k8s.io/v1: `APIResourceList`. The core list carries
    /// no apiVersion, as kube-apiserver writes it.
    public static func apiResourceList(_ gv: GroupVersion) -> JSONValue {
        var resources: [JSONValue] = []
        for kind in gv.kinds {
            let info = ResourceInfo.of(kind)
            var r: [String: JSONValue] = [
                "name": .string(kind.resource),
                "singularName": .string(kind.singular),
                "namespaced": .bool(kind.namespaced),
                "kind": .string(kind.rawValue),
                "verbs": .array(info.verbs.map { .string($0) }),
                "storageVersionHash": .string(info.storageVersionHash),
            ]
            if !kind.shortNames.isEmpty { r["shortNames"] = .array(kind.shortNames.map { .string($0) }) }
            if !info.categories.isEmpty { r["categories"] = .array(info.categories.map { .string($0) }) }
            resources.append(.object(r))
            for sub in info.subresources.sorted(by: { $0.name < $1.name }) {
                var s: [String: JSONValue] = [
                    "name": .string("\(kind.resource)/\(sub.name)"),
                    "singularName": "",
                    "namespaced": .bool(kind.namespaced),
                    "kind": .string(sub.responseKind.kind),
                    "verbs": .array(sub.verbs.map { .string($0) }),
                ]
                if sub.responseKind.group != gv.group || sub.responseKind.version != gv.version {
                    s["group"] = .string(sub.responseKind.group)
                    s["version"] = .string(sub.responseKind.version)
                }
                resources.append(.object(s))
            }
        }
        var o: [String: JSONValue] = ["kind": "APIResourceList", "groupVersion": .string(gv.description), "resources": .array(resources)]
        if !gv.group.isEmpty { o["apiVersion"] = "v1" }
        return .object(o)
    }

    /// GET /api or /apis with aggregated discovery asked for: `APIGroupDiscoveryList` in `version`
    /// (v2, or v2beta1: the same shape). `legacy` true for /api (the core group), false for /apis.
    public static func aggregated(legacy: Bool, version: String = "v2") -> JSONValue {
        let groups = legacy ? [GroupVersion.core] : GroupVersion.namedGroups
        let items: [JSONValue] = groups.map { gv in
            var metadata: [String: JSONValue] = ["creationTimestamp": .null]
            if !gv.group.isEmpty { metadata["name"] = .string(gv.group) }
            return .object([
                "metadata": .object(metadata),
                "versions": [.object([
                    "version": .string(gv.version),
                    "resources": .array(gv.kinds.map(resourceDiscovery)),
                    "freshness": "Current",
                ])],
            ])
        }
        return .object([
            "kind": "APIGroupDiscoveryList",
            "apiVersion": .string("apidiscovery.k8s.io/\(version)"),
            "metadata": .object([:]),
            "items": .array(items),
        ])
    }

    static func resourceDiscovery(_ kind: Kind) -> JSONValue {
        let info = ResourceInfo.of(kind)
        var r: [String: JSONValue] = [
            "resource": .string(kind.resource),
            "responseKind": GroupVersionKind(group: kind.group, version: kind.version, kind: kind.rawValue).json,
            "scope": kind.namespaced ? "Namespaced" : "Cluster",
            "singularResource": .string(kind.singular),
            "verbs": .array(info.verbs.map { .string($0) }),
        ]
        if !kind.shortNames.isEmpty { r["shortNames"] = .array(kind.shortNames.map { .string($0) }) }
        if !info.categories.isEmpty { r["categories"] = .array(info.categories.map { .string($0) }) }
        if !info.subresources.isEmpty {
            r["subresources"] = .array(info.subresources.sorted(by: { $0.name < $1.name }).map { sub in
                .object(["subresource": .string(sub.name), "responseKind": sub.responseKind.json,
                         "verbs": .array(sub.verbs.map { .string($0) })])
            })
        }
        return .object(r)
    }

    /// GET /version: kube-apiserver's version.Info. Cairn answers as the Kubernetes minor release
    /// whose API it follows, with its own build in gitVersion.
    public static func version(gitVersion: String = "v1.32.0-cairn", platform: String = "linux/amd64",
                               buildDate: String = "1970-01-01T00:00:00Z") -> JSONValue {
        .object([
            "major": "1", "minor": "32", "gitVersion": .string(gitVersion), "gitCommit": "", "gitTreeState": "clean",
            "buildDate": .string(buildDate), "goVersion": "", "compiler": "swift", "platform": .string(platform),
        ])
    }
}
