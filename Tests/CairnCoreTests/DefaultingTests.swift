import CairnCore
import CairnManifest
import Foundation
import Testing

/// Defaulting, as the API server applies it before validating and comparing.
@Suite struct DefaultingTests {
    static func manifests() throws -> [ManifestDocument] {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        var docs: [ManifestDocument] = []
        for dir in ["examples/seed", "storage-classes"] {
            let path = url.appendingPathComponent(dir).path
            for file in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where file.hasSuffix(".yaml") {
                docs += try ManifestReader.read(try String(contentsOfFile: "\(path)/\(file)", encoding: .utf8), source: "\(dir)/\(file)")
            }
        }
        return docs
    }

    /// Defaulting twice is defaulting once, for every example and seed manifest.
    @Test func defaultingIsIdempotent() throws {
        for doc in try Self.manifests() {
            guard case .success(let object) = ObjectDecoding.decodeAny(doc.json) else { continue }
            let a = Defaulting.apply(object), b = Defaulting.apply(a)
            let once = try JSONValue(encoding: a)
            let twice = try JSONValue(encoding: b)
            #expect(once == twice, "\(doc.source)")
        }
    }

    /// The fields kube-apiserver defaults, numbered as the table they come from.
    @Test func theSeedStatefulSetGetsUpstreamsDefaults() throws {
        let doc = try #require(try Self.manifests().first { $0.json["kind"]?.stringValue == "StatefulSet" })
        let set = try #require(try ObjectDecoding.decodeAny(doc.json).get() as? StatefulSet)
        let d = Defaulting.apply(set)
        #expect(d.spec.podManagementPolicy == "OrderedReady")                       // 1
        #expect(d.spec.revisionHistoryLimit == 10)                                  // 2
        #expect(d.spec.updateStrategy == .object(["type": .string("RollingUpdate"),  // 3
                                                  "rollingUpdate": .object(["partition": .int(0)])]))
        #expect(d.spec.persistentVolumeClaimRetentionPolicy?.whenScaled == "Retain") // 4
        #expect(d.spec.volumeClaimTemplates?.first?.spec.volumeMode == "Filesystem") // 5
        let c = try #require(d.spec.template.spec.containers.first)
        #expect(c.terminationMessagePath == "/dev/termination-log")                 // 6
        #expect(c.terminationMessagePolicy == "File")                               // 7
        #expect(c.imagePullPolicy == "Always")                                      // 8: kubetm/app has no tag
        #expect(d.spec.template.spec.dnsPolicy == "ClusterFirst")                   // 9
        #expect(d.spec.template.spec.schedulerName == "default-scheduler")          // 10
        #expect(d.spec.template.spec.securityContext == .object([:]))               // 11
    }

    @Test(arguments: [("busybox", "Always"), ("busybox:latest", "Always"), ("busybox:1.36", "IfNotPresent"),
                      ("registry:5000/app", "Always"), ("registry:5000/app:v1", "IfNotPresent"), ("app@sha256:abc", "IfNotPresent")])
    func imagePullPolicy(_ image: String, _ policy: String) {
        #expect(Defaulting.container(Container(name: "c", image: image)).imagePullPolicy == policy)
    }

    @Test func aServiceGetsItsDefaults() throws {
        var s = Service(metadata: ObjectMeta(name: "web"))
        s.spec = .object(["ports": .array([.object(["port": .int(80)])])])
        let d = Defaulting.apply(s)
        #expect(d.spec?["type"] == .string("ClusterIP"))
        #expect(d.spec?["sessionAffinity"] == .string("None"))
        #expect(d.spec?["ports"]?.arrayValue?.first?["protocol"] == .string("TCP"))
        #expect(d.spec?["ports"]?.arrayValue?.first?["targetPort"] == .int(80))
    }
}

/// fieldSelector, as kube-apiserver parses and applies it.
@Suite struct FieldSelectorTests {
    static let pod: JSONValue = .object([
        "metadata": .object(["name": .string("web-0"), "namespace": .string("shop")]),
        "spec": .object(["nodeName": .string("node1")]),
        "status": .object(["phase": .string("Running")]),
    ])

    @Test(arguments: [("metadata.name=web-0", true), ("metadata.name==web-0", true), ("metadata.name!=web-0", false),
                      ("spec.nodeName=node1,status.phase=Running", true), ("spec.nodeName=node2", false),
                      ("metadata.namespace=shop", true), ("spec.nodeName=", false), ("", true)])
    func matches(_ text: String, _ expected: Bool) throws {
        #expect(try FieldSelector.parse(text, kind: .pod).matches(Self.pod) == expected)
    }

    @Test func anUnsupportedFieldIsRefusedInKubernetesWords() {
        #expect(throws: SelectorError("field label not supported: spec.colour")) { try FieldSelector.parse("spec.colour=red", kind: .pod) }
        #expect(throws: SelectorError("field label not supported: spec.nodeName")) { try FieldSelector.parse("spec.nodeName=x", kind: .service) }
        #expect(throws: SelectorError.self) { try FieldSelector.parse("metadata.name", kind: .pod) }
    }
}
