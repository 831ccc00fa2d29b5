#if canImport(CairnCoreParts)
@testable import CairnCoreParts
#else
@testable import CairnCore
#endif
import CairnManifest
import Foundation
import Testing

/// The seed lesson's manifests, exactly as written there.
enum Seed {
    static let pvc = """
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: replica-pvc1
    spec:
      accessModes:
      - ReadWriteOnce
      resources:
        requests:
          storage: 1G
      storageClassName: "fast"
    """
    static let replicaSet = """
    apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: replica-pvc
    spec:
      replicas: 1
      selector:
        matchLabels:
          type: web2
      template:
        metadata:
          labels:
            type: web2
        spec:
          nodeSelector:
            kubernetes.io/hostname: k8s-node1
          containers:
          - name: container
            image: kubetm/init
            volumeMounts:
            - name: longhorn
              mountPath: /applog
          volumes:
          - name: longhorn
            persistentVolumeClaim:
              claimName: replica-pvc1
          terminationGracePeriodSeconds: 10
    """
    static let statefulSet = """
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: stateful-pvc
    spec:
      replicas: 1
      selector:
        matchLabels:
          type: db2
      serviceName: "stateful-headless"
      template:
        metadata:
          labels:
            type: db2
        spec:
          containers:
          - name: container
            image: kubetm/app
            volumeMounts:
            - name: volume
              mountPath: /applog
          terminationGracePeriodSeconds: 10
      volumeClaimTemplates:
      - metadata:
          name: volume
        spec:
          accessModes:
          - ReadWriteOnce
          resources:
            requests:
              storage: 1G
          storageClassName: "fast"
    """
    static let headlessService = """
    apiVersion: v1
    kind: Service
    metadata:
      name: stateful-headless
    spec:
      selector:
        type: db2
      ports:
        - port: 80
          targetPort: 8080
      clusterIP: None
    """
}

func readOne(_ text: String) throws -> ManifestDocument {
    let docs = try ManifestReader.read(text, source: "test.yaml")
    try #require(docs.count == 1)
    return docs[0]
}

/// Decodes and validates like `cairn apply` does; returns the messages with their line numbers.
func check(_ text: String) throws -> [String] {
    let doc = try readOne(text)
    switch ObjectDecoding.decodeAny(doc.json) {
    case .failure(let e):
        return e.errors.map { "\(doc.position(of: $0.field).line): \($0)" }
    case .success(let o):
        return Validation.validate(o).map { "\(doc.position(of: $0.field).line): \($0)" }
    }
}

@Suite struct SeedManifests {
    @Test(arguments: [Seed.pvc, Seed.replicaSet, Seed.statefulSet, Seed.headlessService])
    func seedManifestsAreValid(_ text: String) throws {
        #expect(try check(text) == [])
    }

    @Test func seedStatefulSetDecodesItsFields() throws {
        let doc = try readOne(Seed.statefulSet)
        let sts = try ObjectDecoding.decode(StatefulSet.self, from: doc.json).get()
        #expect(sts.replicas == 1)
        #expect(sts.spec.serviceName == "stateful-headless")
        #expect(sts.spec.volumeClaimTemplates?.first?.spec.requestedStorage?.bytes == 1_000_000_000)
        #expect(sts.spec.volumeClaimTemplates?.first?.spec.storageClassName == "fast")
        #expect(sts.spec.template.spec.terminationGracePeriodSeconds == 10)
    }

    @Test func seedRequestPodTypoIsReportedWithItsLine() throws {
        // The seed's request-pod manifest says "piVersion": both the missing apiVersion and the unknown
        // field are reported rather than guessed at.
        let doc = try readOne("piVersion: v1\nkind: Pod\nmetadata:\n  name: request-pod\nspec:\n  containers:\n  - name: container\n    image: kubetm/init\n")
        guard case .failure(let e) = ObjectDecoding.kind(of: doc.json) else { Issue.record("accepted"); return }
        #expect(e.field == "apiVersion")
        #expect(e.description.contains("Required value"))
    }
}

@Suite struct StrictDecoding {
    struct Case: CustomTestStringConvertible, Sendable {
        var id: Int
        var yaml: String
        var expected: [String]
        var testDescription: String { "case \(id)" }
    }

    static let cases: [Case] = [
        // 1: an unknown field is named with its full path and line.
        Case(id: 1, yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n  storageClass: fast\n",
             expected: ["10: unknown field \"spec.storageClass\""]),
        // 2: a wrong type names the field, the value and what was expected.
        Case(id: 2, yaml: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  replicas: three\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: c}]\n",
             expected: ["6: spec.replicas: Invalid value: \"three\": expected an integer, got string"]),
        // 3: an invalid quantity.
        Case(id: 3, yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1GB\n",
             expected: ["9: spec.resources.requests.storage: Invalid value: \"1GB\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]),
        // 4: an invalid name and a missing access mode, both reported.
        Case(id: 4, yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: Data_1\nspec:\n  resources:\n    requests:\n      storage: 1Gi\n",
             expected: ["4: metadata.name: Invalid value: \"Data_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                        "5: spec.accessModes: Required value: at least 1 access mode is required"]),
        // 5: selector that does not match the template's labels.
        Case(id: 5, yaml: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\nspec:\n  selector:\n    matchLabels: {type: web}\n  template:\n    metadata:\n      labels: {type: db}\n    spec:\n      containers: [{name: c}]\n",
             expected: ["10: spec.template.metadata.labels: Invalid value: map[string]string{\"type\":\"db\"}: `selector` does not match template `labels`"]),
        // 6: negative replicas.
        Case(id: 6, yaml: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\nspec:\n  replicas: -1\n  selector:\n    matchLabels: {type: web}\n  template:\n    metadata:\n      labels: {type: web}\n    spec:\n      containers: [{name: c}]\n",
             expected: ["6: spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
        // 7: an unsupported access mode.
        Case(id: 7, yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  accessModes: [ReadWriteSometimes]\n  resources:\n    requests:\n      storage: 1Gi\n",
             expected: ["6: spec.accessModes[0]: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\""]),
        // 8: a zero storage request.
        Case(id: 8, yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: \"0\"\n",
             expected: ["9: spec.resources.requests[storage]: Invalid value: \"0\": must be greater than zero"]),
        // 9: a volumeMount naming no volume.
        Case(id: 9, yaml: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    volumeMounts:\n    - name: missing\n      mountPath: /data\n",
             expected: ["9: spec.containers[0].volumeMounts[0].name: Not found: \"missing\""]),
        // 10: an unknown StorageClass parameter for Cairn's provisioner.
        Case(id: 10, yaml: "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: x\nprovisioner: cairn.io/local-path\nparameters:\n  fsType: ext4\n",
             expected: ["7: parameters.fsType: Unsupported value: \"fsType\": supported values: \"dirMode\", \"placement\""]),
        // 11: an unknown kind.
        Case(id: 11, yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n",
             expected: ["2: kind: Invalid value: \"Deployment\": no matches for kind \"Deployment\" in version \"apps/v1\"; Cairn serves StorageClass, PersistentVolume, PersistentVolumeClaim, Pod, Node, Event, Namespace, StatefulSet, ReplicaSet, Service"]),
        // 12: ReadWriteOncePod mixed with another mode.
        Case(id: 12, yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  accessModes: [ReadWriteOncePod, ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n",
             expected: ["6: spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"]),
    ]

    @Test(arguments: cases)
    func errorsNameFieldAndLine(_ c: Case) throws {
        #expect(try check(c.yaml) == c.expected)
    }
}

@Suite struct ManifestReading {
    @Test func multiDocumentYAMLKeepsDocumentsAndLines() throws {
        let docs = try ManifestReader.read(Seed.pvc + "\n---\n" + Seed.statefulSet, source: "seed.yaml")
        #expect(docs.count == 2)
        #expect(docs[1].json["kind"]?.stringValue == "StatefulSet")
        #expect(docs[1].position(of: "spec.serviceName").line == 22)
    }

    @Test func listsAreExpanded() throws {
        let json = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}]}"#
        let docs = try ManifestReader.read(json, source: "l.json")
        #expect(docs.map { $0.json["metadata"]?["name"]?.stringValue } == ["a", "b"])
    }

    @Test func scalarsResolveLikeKubernetes() throws {
        let doc = try readOne("a: 1\nb: \"1\"\nc: true\nd: 1.5\ne: null\nf: 2024-01-01\ng: yes\n")
        #expect(doc.json["a"] == .int(1))
        #expect(doc.json["b"] == .string("1"))
        #expect(doc.json["c"] == .bool(true))
        #expect(doc.json["d"] == .double(1.5))
        #expect(doc.json["e"] == .null)
        #expect(doc.json["f"] == .string("2024-01-01"))
    }

    @Test(arguments: ["a: [1, 2", "a: b: c", "key: value\n  bad indent: x\n", "a: 1\na: 2\n"])
    func malformedYAMLIsAnErrorWithAPosition(_ text: String) {
        #expect(throws: ManifestSyntaxError.self) { try ManifestReader.read(text, source: "bad.yaml") }
    }

    @Test func hugeDocumentsAreRefused() {
        let big = "a: \"" + String(repeating: "x", count: ManifestReader.maximumBytes) + "\"\n"
        #expect(throws: ManifestSyntaxError.self) { try ManifestReader.read(big, source: "big.yaml") }
    }
}

@Suite struct TimeFormat {
    static let times: [(String, Double)] = [("2026-11-27T18:32:26Z", 1795804346), ("2026-11-27T18:32:26.5Z", 1795804346.5),
                                            ("2026-11-27T20:32:26+02:00", 1795804346)]
    @Test(arguments: times)
    func parsesRFC3339(_ text: String, _ seconds: Double) {
        #expect(Time.parse(text)?.timeIntervalSince1970 == seconds)
    }

    @Test func printsSecondsInUTC() {
        #expect(Time(Date(timeIntervalSince1970: 1795804346.9)).description == "2026-11-27T18:32:26Z")
    }

    static let ages: [(Double, String)] = [(30, "30s"), (150, "2m30s"), (600, "10m"), (10800, "3h"), (259200, "3d"), (69120000, "2y70d")]
    @Test(arguments: ages)
    func agesLikeKubectl(_ seconds: Double, _ text: String) {
        #expect(humanDuration(seconds) == text)
    }
}
