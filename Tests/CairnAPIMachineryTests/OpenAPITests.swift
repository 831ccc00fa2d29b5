@testable import CairnAPIMachinery
import CairnCore
import Foundation
import Testing

struct OpenAPITests {
    static func schema(_ doc: JSONValue, _ name: String) -> JSONValue? { doc["components"]?["schemas"]?[name] }
    static let sts = "io.k8s.api.apps.v1.StatefulSet"

    @Test func index() throws {
        let index = OpenAPI.index()
        let paths = try #require(index["paths"]?.objectValue)
        #expect(paths.keys.sorted() == ["api/v1", "apis/apps/v1", "apis/storage.k8s.io/v1"])
        let url = try #require(paths["apis/apps/v1"]?["serverRelativeURL"]?.stringValue)
        #expect(url.hasPrefix("/openapi/v3/apis/apps/v1?hash="))
        #expect(url == "/openapi/v3/apis/apps/v1?hash=\(OpenAPI.document(.apps).hash)")
        #expect(OpenAPI.groupVersion(forPath: "/openapi/v3/api/v1") == .core)
        #expect(OpenAPI.groupVersion(forPath: "/openapi/v3/apis/batch/v1") == nil)
    }

    /// The kind's schema is generated from Cairn's type: its fields, required ones, GVK.
    @Test func kindsCarryTheirGroupVersionKind() throws {
        for gv in GroupVersion.all {
            let doc = OpenAPI.document(gv).json
            for kind in gv.kinds {
                let s = try #require(Self.schema(doc, OpenAPI.componentName(UpstreamSchema.root(kind))), "\(kind)")
                #expect(s["x-kubernetes-group-version-kind"] == [["group": .string(kind.group), "kind": .string(kind.rawValue), "version": "v1"]])
                #expect(s["properties"]?["metadata"]?["allOf"] == [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]])
                #expect(s["properties"]?["apiVersion"]?["type"] == "string")
            }
        }
    }

    @Test func statefulSetSchema() throws {
        let doc = OpenAPI.document(.apps).json
        let spec = try #require(Self.schema(doc, "io.k8s.api.apps.v1.StatefulSetSpec"))
        #expect(spec["required"] == ["template"])
        #expect(spec["properties"]?["replicas"] == ["type": "integer", "format": "int32",
                                                   "description": .string(OpenAPI.docs["apps.v1.StatefulSetSpec"]!["replicas"]!)])
        let vct = try #require(spec["properties"]?["volumeClaimTemplates"])
        #expect(vct["type"] == "array")
        #expect(vct["items"] == ["$ref": "#/components/schemas/io.k8s.api.core.v1.PersistentVolumeClaim"])
        #expect(vct["x-kubernetes-list-type"] == "atomic")
        let pvc = try #require(Self.schema(doc, "io.k8s.api.core.v1.PersistentVolumeClaim"))
        #expect(pvc["properties"]?["spec"] != nil)
        #expect(pvc["properties"]?["status"] == nil, "a template has no status in Cairn's type")
        #expect(Self.schema(doc, "io.k8s.api.core.v1.PersistentVolumeClaimSpec")?["properties"]?["resources"]?["allOf"] != nil)
        let requests = Self.schema(doc, "io.k8s.api.core.v1.VolumeResourceRequirements")?["properties"]?["requests"]
            ?? Self.schema(doc, "io.k8s.api.core.v1.ResourceRequirements")?["properties"]?["requests"]
        #expect(requests?["additionalProperties"] == ["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"])
        #expect(Self.schema(doc, OpenAPI.quantityName)?["oneOf"] == [["type": "string"], ["type": "number"]])
        #expect(Self.schema(doc, OpenAPI.timeName)?["format"] == "date-time")
    }

    /// List extensions kubectl's client-side apply reads, on Cairn-typed and opaque fields alike.
    @Test func patchMetadataExtensions() throws {
        let doc = OpenAPI.document(.core).json
        let podSpec = try #require(Self.schema(doc, "io.k8s.api.core.v1.PodSpec"))
        let containers = try #require(podSpec["properties"]?["containers"])
        #expect(containers["x-kubernetes-patch-merge-key"] == "name")
        #expect(containers["x-kubernetes-patch-strategy"] == "merge")
        #expect(containers["x-kubernetes-list-type"] == "map")
        #expect(containers["x-kubernetes-list-map-keys"] == ["name"])
        #expect(podSpec["properties"]?["volumes"]?["x-kubernetes-patch-strategy"] == "merge,retainKeys")
        // env is opaque JSON in Cairn; its schema is Kubernetes' EnvVar list, merged by name.
        let container = try #require(Self.schema(doc, "io.k8s.api.core.v1.Container"))
        let env = try #require(container["properties"]?["env"])
        #expect(env["items"] == ["$ref": "#/components/schemas/io.k8s.api.core.v1.EnvVar"])
        #expect(env["x-kubernetes-patch-merge-key"] == "name")
        #expect(Self.schema(doc, "io.k8s.api.core.v1.EnvVar")?["properties"]?["valueFrom"] != nil)
        #expect(container["properties"]?["volumeMounts"]?["x-kubernetes-patch-merge-key"] == "mountPath")
        #expect(container["required"] == ["name"])
        let meta = try #require(Self.schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"))
        #expect(meta["properties"]?["finalizers"]?["x-kubernetes-list-type"] == "set")
        #expect(meta["properties"]?["labels"]?["additionalProperties"] == ["type": "string"])
    }

    /// kubectl's QueryParamVerifierV3: a PATCH carrying the kind's GVK and a fieldValidation query parameter.
    @Test func patchOperationsAdvertiseFieldValidation() throws {
        for gv in GroupVersion.all {
            let doc = OpenAPI.document(gv).json
            for kind in gv.kinds {
                let base = kind.group.isEmpty ? "/api/v1" : "/apis/\(kind.group)/v1"
                let item = kind.namespaced ? "\(base)/namespaces/{namespace}/\(kind.resource)/{name}" : "\(base)/\(kind.resource)/{name}"
                let patch = try #require(doc["paths"]?[item]?["patch"], "\(item)")
                #expect(patch["x-kubernetes-group-version-kind"]?["kind"] == .string(kind.rawValue))
                let names = patch["parameters"]?.arrayValue?.compactMap { p -> String? in p["in"] == "query" ? p["name"]?.stringValue : nil }
                #expect(names == ["dryRun", "fieldManager", "fieldValidation", "force"])
            }
        }
    }

    @Test func documentsAreStable() {
        var builder = OpenAPIBuilder(.apps)
        #expect(builder.build() == OpenAPI.document(.apps).json)
        #expect(OpenAPI.document(.apps).hash.count == 32)
    }
}
