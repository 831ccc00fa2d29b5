@testable import CairnAPIMachinery
import CairnCore
import Crypto
import Foundation
import Testing

struct DiscoveryTests {
    /// 1. Content negotiation, as kubectl and client-go write their Accept headers.
    @Test(arguments: [
        // kubectl get (1.27 .. 1.33)
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", ResponseFormat.table(version: "v1")),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", .table(version: "v1beta1")),
        ("application/json", .object),
        ("*/*", .object),
        (nil, .object),
        ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json", .object),
        ("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json", .object),
    ] as [(String?, ResponseFormat)])
    func resourceNegotiation(_ accept: String?, _ expected: ResponseFormat) throws {
        #expect(try ContentNegotiation.forResource(accept: accept) == expected)
    }

    @Test(arguments: [
        // client-go 1.30+
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", ResponseFormat.aggregatedDiscovery(version: "v2")),
        // client-go 1.27 .. 1.29
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", .aggregatedDiscovery(version: "v2beta1")),
        ("application/json, */*", .object),
    ] as [(String?, ResponseFormat)])
    func discoveryNegotiation(_ accept: String?, _ expected: ResponseFormat) throws {
        #expect(try ContentNegotiation.forDiscovery(accept: accept) == expected)
        #expect(expected.contentType.hasPrefix("application/json"))
    }

    @Test func notAcceptable() {
        #expect(throws: NotAcceptable.self) { try ContentNegotiation.forResource(accept: "application/vnd.kubernetes.protobuf") }
        #expect(ResponseFormat.aggregatedDiscovery(version: "v2").contentType == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        #expect(ResponseFormat.table(version: "v1").contentType == "application/json;as=Table;v=v1;g=meta.k8s.io")
    }

    /// 2. storageVersionHash is discovery.StorageVersionHash: base64(sha256("group/version/kind")[:8]).
    @Test(arguments: Kind.allCases)
    func storageVersionHashes(_ kind: Kind) {
        let digest = Array(SHA256.hash(data: Data("\(kind.group)/\(kind.version)/\(kind.rawValue)".utf8)))
        #expect(ResourceInfo.of(kind).storageVersionHash == Data(digest[0..<8]).base64EncodedString())
    }

    static func resource(_ list: JSONValue, _ name: String) -> JSONValue? {
        list["resources"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    /// 3. /api/v1: names, short names, categories, verbs and subresources as kube-apiserver lists them.
    @Test func coreResourceList() throws {
        let list = Discovery.apiResourceList(.core)
        #expect(list["kind"] == "APIResourceList")
        #expect(list["apiVersion"] == nil)
        #expect(list["groupVersion"] == "v1")
        let pods = try #require(Self.resource(list, "pods"))
        #expect(pods == [
            "name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            "shortNames": ["po"], "categories": ["all"], "storageVersionHash": "xPOwRZ+Yhw8=",
        ])
        #expect(Self.resource(list, "pods/exec") == ["name": "pods/exec", "singularName": "", "namespaced": true,
                                                     "kind": "PodExecOptions", "verbs": ["create", "get"]])
        #expect(Self.resource(list, "pods/eviction") == ["name": "pods/eviction", "singularName": "", "namespaced": true,
                                                         "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]])
        #expect(Self.resource(list, "pods/status")?["verbs"] == ["get", "patch", "update"])
        #expect(Self.resource(list, "namespaces")?["verbs"] == ["create", "delete", "get", "list", "patch", "update", "watch"])
        #expect(Self.resource(list, "persistentvolumes")?["namespaced"] == false)
        #expect(Self.resource(list, "services")?["categories"] == ["all"])
        #expect(Self.resource(list, "statefulsets") == nil)
        let names = list["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names == ["events", "namespaces", "namespaces/status", "nodes", "nodes/status", "persistentvolumeclaims",
                          "persistentvolumeclaims/status", "persistentvolumes", "persistentvolumes/status", "pods", "pods/eviction",
                          "pods/exec", "pods/log", "pods/status", "services", "services/status"])
    }

    @Test func appsResourceList() throws {
        let list = Discovery.apiResourceList(.apps)
        #expect(list["apiVersion"] == "v1")
        #expect(list["groupVersion"] == "apps/v1")
        #expect(Self.resource(list, "statefulsets")?["shortNames"] == ["sts"])
        #expect(Self.resource(list, "statefulsets")?["categories"] == ["all"])
        #expect(Self.resource(list, "statefulsets/scale") == ["name": "statefulsets/scale", "singularName": "", "namespaced": true,
                                                              "group": "autoscaling", "version": "v1", "kind": "Scale",
                                                              "verbs": ["get", "patch", "update"]])
        #expect(Self.resource(list, "replicasets/scale")?["kind"] == "Scale")
        let storage = Discovery.apiResourceList(.storage)
        #expect(Self.resource(storage, "storageclasses")?["shortNames"] == ["sc"])
        #expect(Self.resource(storage, "storageclasses")?["namespaced"] == false)
    }

    /// 4. The legacy root documents.
    @Test func legacyRoots() {
        #expect(Discovery.apiVersions(serverAddress: "127.0.0.1:6443") == [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"]],
        ])
        let groups = Discovery.apiGroupList()
        #expect(groups["kind"] == "APIGroupList")
        #expect(groups["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["apps", "storage.k8s.io"])
        #expect(groups["groups"]?.arrayValue?.first == [
            "name": "apps", "versions": [["groupVersion": "apps/v1", "version": "v1"]],
            "preferredVersion": ["groupVersion": "apps/v1", "version": "v1"],
        ])
        #expect(Discovery.apiGroup(.apps, document: true)["kind"] == "APIGroup")
    }

    /// 5. Aggregated discovery: one APIGroupDiscovery per group, resources with their subresources.
    @Test func aggregated() throws {
        let core = Discovery.aggregated(legacy: true)
        #expect(core["apiVersion"] == "apidiscovery.k8s.io/v2")
        #expect(core["kind"] == "APIGroupDiscoveryList")
        let item = try #require(core["items"]?.arrayValue?.first)
        #expect(item["metadata"] == ["creationTimestamp": .null])
        let version = try #require(item["versions"]?.arrayValue?.first)
        #expect(version["version"] == "v1")
        #expect(version["freshness"] == "Current")
        let pods = try #require(version["resources"]?.arrayValue?.first { $0["resource"] == "pods" })
        #expect(pods["scope"] == "Namespaced")
        #expect(pods["singularResource"] == "pod")
        #expect(pods["responseKind"] == ["group": "", "version": "v1", "kind": "Pod"])
        #expect(pods["shortNames"] == ["po"])
        #expect(pods["categories"] == ["all"])
        #expect(pods["subresources"]?.arrayValue?.compactMap { $0["subresource"]?.stringValue } == ["eviction", "exec", "log", "status"])

        let named = Discovery.aggregated(legacy: false, version: "v2beta1")
        #expect(named["apiVersion"] == "apidiscovery.k8s.io/v2beta1")
        #expect(named["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["apps", "storage.k8s.io"])
        let apps = named["items"]?.arrayValue?.first?["versions"]?.arrayValue?.first?["resources"]?.arrayValue ?? []
        let sts = try #require(apps.first { $0["resource"] == "statefulsets" })
        #expect(sts["subresources"]?.arrayValue?.first == [
            "subresource": "scale", "responseKind": ["group": "autoscaling", "version": "v1", "kind": "Scale"], "verbs": ["get", "patch", "update"],
        ])
        let sc = try #require(named["items"]?.arrayValue?.last?["versions"]?.arrayValue?.first?["resources"]?.arrayValue?.first)
        #expect(sc["scope"] == "Cluster")
        #expect(sc["subresources"] == nil)
    }
}
