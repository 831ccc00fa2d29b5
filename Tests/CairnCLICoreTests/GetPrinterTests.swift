@testable import CairnCLICore
import CairnCore
import Foundation
import Testing

/// Objects as the daemon returns them, for the printers.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func meta(_ name: String, namespace: String? = "default", labels: [String: String]? = nil, age: TimeInterval = 300) -> ObjectMeta {
        var m = ObjectMeta(name: name, namespace: namespace, labels: labels)
        m.creationTimestamp = Time(now.addingTimeInterval(-age))
        m.uid = "uid-\(name)"
        return m
    }

    static func claim(_ name: String, _ request: String, phase: ClaimPhase, volume: String? = nil, labels: [String: String]? = nil,
                      namespace: String = "default") -> PersistentVolumeClaim {
        var spec = PersistentVolumeClaimSpec()
        spec.accessModes = ["ReadWriteOnce"]
        spec.resources = ResourceRequirements(requests: ["storage": try! Quantity(parsing: request)])
        spec.storageClassName = "fast"
        spec.volumeName = volume
        var c = PersistentVolumeClaim(metadata: meta(name, namespace: namespace, labels: labels), spec: spec)
        c.setTypeMeta()
        var status = PersistentVolumeClaimStatus()
        status.phase = phase
        if volume != nil {
            status.capacity = ["storage": try! Quantity(parsing: request)]
            status.accessModes = ["ReadWriteOnce"]
        }
        c.status = status
        return c
    }

    static func json<T: KubeObject>(_ o: T) -> JSONValue { try! JSONValue(encoding: o) }

    static func fetched<T: KubeObject>(_ kind: Kind, _ objects: [T]) -> GetPrinter.Fetched {
        GetPrinter.Fetched(kind: kind, objects: objects, json: objects.map(json))
    }

    static func pod(_ name: String, node: String? = "k8s-node1", claim: String? = nil, labels: [String: String]? = nil) -> Pod {
        var container = Container(name: "app", image: "nginx")
        container.volumeMounts = claim.map { _ in [VolumeMount(name: "data", mountPath: "/data")] }
        var spec = PodSpec(containers: [container])
        spec.nodeName = node
        spec.volumes = claim.map { [Volume(name: "data", persistentVolumeClaim: .init(claimName: $0))] }
        var p = Pod(metadata: meta(name, labels: labels), spec: spec)
        p.setTypeMeta()
        var status = PodStatus()
        status.phase = .running
        status.conditions = [PodCondition(type: "Ready", status: .true)]
        p.status = status
        return p
    }
}

struct GetPrinterTests {
    let claims = [
        Fixtures.claim("data-1", "500Mi", phase: .pending, labels: ["app": "db"]),
        Fixtures.claim("data-0", "1Gi", phase: .bound, volume: "pvc-a", labels: ["app": "db", "tier": "x"]),
        Fixtures.claim("logs", "2G", phase: .bound, volume: "pvc-b"),
    ]

    func render(_ printer: GetPrinter, _ fetched: [GetPrinter.Fetched]) throws -> GetPrinter.Output {
        try printer.render(fetched, now: Fixtures.now)
    }

    @Test func sortByQuantityAndShowLabels() throws {
        var p = GetPrinter(output: .table(wide: false))
        p.sortBy = ".spec.resources.requests.storage"
        p.showLabels = true
        let out = try render(p, [Fixtures.fetched(.persistentVolumeClaim, claims)])
        #expect(out.stdout == """
        NAME     STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE   LABELS
        data-1   Pending                                      fast           5m    app=db
        data-0   Bound     pvc-a    1Gi        RWO            fast           5m    app=db,tier=x
        logs     Bound     pvc-b    2G         RWO            fast           5m    <none>

        """)
    }

    @Test func severalKindsCarryTheirKindAndNamesHaveNoBlankLines() throws {
        var p = GetPrinter(output: .name)
        p.showKind = true
        let pods = [Fixtures.pod("web-0")]
        let out = try render(p, [Fixtures.fetched(.pod, pods), Fixtures.fetched(.statefulSet, [StatefulSet]()),
                                 Fixtures.fetched(.persistentVolumeClaim, claims)])
        #expect(out.stdout == "pod/web-0\npersistentvolumeclaim/data-1\npersistentvolumeclaim/data-0\npersistentvolumeclaim/logs\n")

        var table = GetPrinter(output: .table(wide: false))
        table.showKind = true
        let t = try render(table, [Fixtures.fetched(.pod, pods), Fixtures.fetched(.persistentVolumeClaim, Array(claims.prefix(1)))])
        #expect(t.stdout == """
        NAME        READY   STATUS    RESTARTS   AGE
        pod/web-0   1/1     Running   0          5m

        NAME                           STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE
        persistentvolumeclaim/data-1   Pending                                      fast           5m

        """)
    }

    @Test func nothingFoundSaysWhere() throws {
        let p = GetPrinter(output: .table(wide: false))
        #expect(try render(p, [Fixtures.fetched(.pod, [Pod]())]) == .init(stdout: "", stderr: "No resources found in default namespace.\n"))
        #expect(try render(p, [Fixtures.fetched(.node, [CairnCore.Node]())]) == .init(stdout: "", stderr: "No resources found.\n"))
    }

    @Test func jsonPathSeesAListUnlessOneObjectWasNamed() throws {
        let path = try JSONPath("{.kind} {.items[*].metadata.name}")
        let list = try render(GetPrinter(output: .jsonPath(path, asJSON: false)), [Fixtures.fetched(.persistentVolumeClaim, claims)])
        #expect(list.stdout == "List data-1 data-0 logs")
        var single = GetPrinter(output: .jsonPath(try JSONPath("{.metadata.name}"), asJSON: false))
        single.singleItem = true
        #expect(try render(single, [Fixtures.fetched(.persistentVolumeClaim, [claims[1]])]).stdout == "data-0")
        // --sort-by orders the list's items.
        var sorted = GetPrinter(output: .jsonPath(path, asJSON: false))
        sorted.sortBy = "{.metadata.name}"
        #expect(try render(sorted, [Fixtures.fetched(.persistentVolumeClaim, claims)]).stdout == "List data-0 data-1 logs")
    }

    @Test func customColumns() throws {
        let columns = try CustomColumns(spec: "NAME:.metadata.name,SIZE:spec.resources.requests.storage,VOLUME:{.spec.volumeName},MODES:.spec.accessModes")
        let out = try render(GetPrinter(output: .customColumns(columns)), [Fixtures.fetched(.persistentVolumeClaim, claims)])
        #expect(out.stdout == """
        NAME     SIZE    VOLUME   MODES
        data-1   500Mi   <none>   [ReadWriteOnce]
        data-0   1Gi     pvc-a    [ReadWriteOnce]
        logs     2G      pvc-b    [ReadWriteOnce]

        """)
        let empty = try render(GetPrinter(output: .customColumns(columns)), [Fixtures.fetched(.persistentVolumeClaim, [PersistentVolumeClaim]())])
        #expect(empty.stdout == "NAME   SIZE   VOLUME   MODES\n")
    }

    @Test func allNamespacesAddsTheNamespaceColumn() throws {
        var p = GetPrinter(output: .table(wide: false))
        p.allNamespaces = true
        p.noHeaders = true
        let out = try render(p, [Fixtures.fetched(.persistentVolumeClaim, [Fixtures.claim("x", "1Gi", phase: .pending, namespace: "team-a")])])
        #expect(out.stdout == "team-a   x     Pending                     fast   5m\n")
    }
}

struct OutputFormatTests {
    static let errors: [(Int, String, String)] = [
        (1, "bogus", "unable to match a printer suitable for the output format \"bogus\", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml"),
        (2, "jsonpath", "template format specified but no template given"),
        (3, "jsonpath=", "template format specified but no template given"),
        (4, "jsonpath={.items", "error parsing jsonpath {.items, unclosed action"),
        (5, "custom-columns=", "custom-columns format specified but no custom columns given"),
        (6, "custom-columns=NAME", "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"),
        (7, "custom-columns=A:{x", "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"),
        (8, "wide=x", "unable to match a printer suitable for the output format \"wide=x\", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml"),
    ]

    @Test(arguments: errors)
    func refuses(_ n: Int, _ value: String, _ message: String) {
        #expect(throws: CommandLineError(message), "case \(n)") { try OutputFormat.parse(value) { _ in "" } }
    }

    @Test func readsTemplateFiles() throws {
        let f = try OutputFormat.parse("jsonpath-file=/t") { path in path == "/t" ? "{.kind}" : "" }
        guard case .jsonPath(let p, false) = f else { Issue.record("not jsonpath: \(f)"); return }
        #expect(p.template == "{.kind}")
        let c = try OutputFormat.parse("custom-columns-file=/c") { _ in "NAME   PHASE\n.metadata.name   {.status.phase}\n" }
        guard case .customColumns(let columns) = c else { Issue.record("not custom-columns"); return }
        #expect(columns.columns.map(\.header) == ["NAME", "PHASE"])
        #expect(columns.columns.map(\.path.template) == ["{.metadata.name}", "{.status.phase}"])
    }
}

struct SortByTests {
    static let values: [(Int, [String], [Int])] = [
        // Quantities compare as quantities; other strings byte-wise; missing values first.
        (1, [#"{"v": "1Gi"}"#, #"{"v": "900Mi"}"#, #"{"v": "2G"}"#], [1, 0, 2]),
        (2, [#"{"v": "b"}"#, #"{"v": "B"}"#, #"{"v": "a"}"#], [1, 2, 0]),
        (3, [#"{"v": 3}"#, #"{}"#, #"{"v": 1}"#], [1, 2, 0]),
        (4, [#"{"v": "2026-01-02T00:00:00Z"}"#, #"{"v": "2025-12-31T00:00:00Z"}"#], [1, 0]),
        (5, [#"{"v": "x"}"#, #"{"v": "x"}"#, #"{"v": "a"}"#], [2, 0, 1]),
    ]

    @Test(arguments: values)
    func orders(_ n: Int, _ objects: [String], _ expected: [Int]) throws {
        #expect(try SortBy.order(objects.map { try JSONValue.parse($0) }, by: ".v") == expected, "case \(n)")
    }

    @Test func refusesAFieldNoObjectHas() {
        #expect(throws: JSONPathError("couldn't find any field with path \"{.nope}\" in the list of objects")) {
            try SortBy.order([.object([:]), .object([:])], by: "nope")
        }
        #expect(throws: (any Error).self) { try SortBy.order([.object(["v": .object([:])]), .object(["v": .object([:])])], by: ".v") }
    }
}
