@testable import CairnAPIMachinery
import CairnCore
import Foundation
import Testing

/// The real kubectl against a throwaway server that answers with the machinery's documents: what
/// kubectl prints is what it prints on a real cluster for the same objects.
@Suite(.serialized) struct KubectlTests {
    static func kubectl(_ kubectl: String, _ args: [String], cluster: TestCluster = TestCluster(objects: Fixtures.all)) async throws -> RunResult {
        let dir = try temporaryDirectory("kubectl")
        defer { try? FileManager.default.removeItem(at: dir) }
        nonisolated(unsafe) var result = RunResult(status: -1, stdout: "", stderr: "")
        try await FakeAPIServer.serve({ cluster.handle($0) }) { server in
            let config = try FakeAPIServer.kubeconfig(server, in: dir)
            // A cache dir of its own, so each run discovers afresh.
            result = try await runDetached(kubectl, ["--kubeconfig", config, "--cache-dir", dir.appendingPathComponent("cache").path] + args)
        }
        return result
    }

    @Test func kubectlIsInstalled() {
        #expect(!kubectlBinaries.isEmpty, "kubectl is not installed (tools/setup.sh puts it on PATH)")
    }

    /// `kubectl get` for each kind, default and wide, with every kubectl version on the machine.
    static let gets: [(Int, [String], String)] = [
        (1, ["get", "pods"], """
            NAME             READY   STATUS    RESTARTS   AGE
            stateful-pvc-0   1/1     Running   0          2d
            request-pod      0/1     Pending   0          2d

            """),
        (2, ["get", "po", "-o", "wide"], """
            NAME             READY   STATUS    RESTARTS   AGE   IP         NODE        NOMINATED NODE   READINESS GATES
            stateful-pvc-0   1/1     Running   0          2d    10.1.0.5   k8s-node2   <none>           <none>
            request-pod      0/1     Pending   0          2d    <none>     <none>      <none>           <none>

            """),
        (3, ["get", "statefulset,rs"], """
            NAME                            READY   AGE
            statefulset.apps/stateful-pvc   1/3     2d

            NAME                     DESIRED   CURRENT   READY   AGE
            replicaset.apps/rs-pvc   2         2         1       2d

            """),
        (4, ["get", "sts", "-o", "wide"], """
            NAME           READY   AGE   CONTAINERS   IMAGES
            stateful-pvc   1/3     2d    app          busybox

            """),
        (5, ["get", "rs", "-o", "wide"], """
            NAME     DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES               SELECTOR
            rs-pvc   2         2         1       2d    app,side     nginx:1.27,busybox   app=rs

            """),
        (6, ["get", "pvc"], """
            NAME                    STATUS    VOLUME    CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE
            volume-stateful-pvc-0   Bound     pvc-u-c   1G         RWO            fast           <unset>                 2d
            waiting                 Pending                                       standard       <unset>                 2d

            """),
        (7, ["get", "pv"], """
            NAME      CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM                           STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE
            pvc-u-c   1G         RWO            Delete           Bound    default/volume-stateful-pvc-0   fast           <unset>                          2d

            """),
        (8, ["get", "sc"], """
            NAME                 PROVISIONER           RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE
            standard (default)   cairn.io/local-path   Delete          WaitForFirstConsumer   false                  2d
            fast                 cairn.io/local-path   Delete          Immediate              true                   2d

            """),
        (9, ["get", "nodes"], """
            NAME        STATUS                     ROLES           AGE   VERSION
            k8s-node1   Ready,SchedulingDisabled   <none>          2d    v1.32.0
            k8s-node2   NotReady                   control-plane   2d    v1.32.0

            """),
        (10, ["get", "ns"], """
            NAME      STATUS   AGE
            default   Active   2d

            """),
        (11, ["get", "svc", "-o", "wide"], """
            NAME           TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE   SELECTOR
            stateful-pvc   ClusterIP   None         <none>        80/TCP    2d    app=stateful-pvc

            """),
        (12, ["get", "events"], """
            LAST SEEN   TYPE      REASON             OBJECT            MESSAGE
            2d          Warning   FailedScheduling   pod/request-pod   0/2 nodes are available: 2 node(s) had volume node affinity conflict.

            """),
        (13, ["get", "pod", "stateful-pvc-0", "--no-headers"], """
            stateful-pvc-0   1/1   Running   0     2d

            """),
        (14, ["get", "pods", "--sort-by=.metadata.name"], """
            NAME             READY   STATUS    RESTARTS   AGE
            request-pod      0/1     Pending   0          2d
            stateful-pvc-0   1/1     Running   0          2d

            """),
        (15, ["get", "pods", "-o", "name"], """
            pod/stateful-pvc-0
            pod/request-pod

            """),
    ]

    static let getCases: [(String, (Int, [String], String))] = kubectlBinaries.flatMap { k in gets.map { (k, $0) } }

    @Test(arguments: getCases)
    func get(_ kubectl: String, _ c: (Int, [String], String)) async throws {
        let r = try await Self.kubectl(kubectl, c.1)
        #expect(r.status == 0, "case \(c.0) with \(kubectl): \(r)")
        #expect(r.stdout == c.2, "case \(c.0) with \(kubectl)")
    }

    /// `kubectl get all` finds pods, services, statefulsets and replicasets through the `all` category.
    @Test(arguments: kubectlBinaries)
    func getAll(_ kubectl: String) async throws {
        let r = try await Self.kubectl(kubectl, ["get", "all"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("pod/stateful-pvc-0"))
        #expect(r.stdout.contains("service/stateful-pvc"))
        #expect(r.stdout.contains("statefulset.apps/stateful-pvc"))
        #expect(r.stdout.contains("replicaset.apps/rs-pvc"))
        #expect(!r.stdout.contains("persistentvolumeclaim"))
    }

    /// `kubectl api-resources` lists exactly Cairn's kinds with their short names.
    @Test(arguments: kubectlBinaries)
    func apiResources(_ kubectl: String) async throws {
        let r = try await Self.kubectl(kubectl, ["api-resources"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout == """
            NAME                     SHORTNAMES   APIVERSION          NAMESPACED   KIND
            events                   ev           v1                  true         Event
            namespaces               ns           v1                  false        Namespace
            nodes                    no           v1                  false        Node
            persistentvolumeclaims   pvc          v1                  true         PersistentVolumeClaim
            persistentvolumes        pv           v1                  false        PersistentVolume
            pods                     po           v1                  true         Pod
            services                 svc          v1                  true         Service
            replicasets              rs           apps/v1             true         ReplicaSet
            statefulsets             sts          apps/v1             true         StatefulSet
            storageclasses           sc           storage.k8s.io/v1   false        StorageClass

            """, "\(kubectl)")
    }

    /// A name that is not there: kubectl's NotFound line.
    @Test(arguments: kubectlBinaries)
    func notFound(_ kubectl: String) async throws {
        let r = try await Self.kubectl(kubectl, ["get", "pvc", "nope"])
        #expect(r.status == 1)
        #expect(r.stderr == "Error from server (NotFound): persistentvolumeclaims \"nope\" not found\n", "\(kubectl)")
    }
}

/// kubectl explain, apply and create through OpenAPI, strict validation and server-side apply.
@Suite(.serialized) struct KubectlWriteTests {
    static func run(_ kubectl: String, _ steps: [[String]], stdin: [String: String] = [:]) async throws -> [RunResult] {
        let dir = try temporaryDirectory("kubectl-write")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in stdin { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let cluster = TestCluster(objects: [], store: WritableStore())
        nonisolated(unsafe) var results: [RunResult] = []
        try await FakeAPIServer.serve({ cluster.handle($0) }) { server in
            let config = try FakeAPIServer.kubeconfig(server, in: dir)
            for step in steps {
                let args = step.map { $0.replacingOccurrences(of: "DIR", with: dir.path) }
                results.append(try await runDetached(kubectl, ["--kubeconfig", config, "--cache-dir", dir.appendingPathComponent("cache").path] + args))
            }
        }
        return results
    }

    static let statefulSet = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: stateful-pvc
        spec:
          replicas: 1
          serviceName: stateful-pvc
          selector:
            matchLabels:
              app: stateful-pvc
          template:
            metadata:
              labels:
                app: stateful-pvc
            spec:
              containers:
              - name: app
                image: busybox
          volumeClaimTemplates:
          - metadata:
              name: volume
            spec:
              accessModes: ["ReadWriteOnce"]
              resources:
                requests:
                  storage: 1G

        """

    /// `kubectl explain statefulset.spec.volumeClaimTemplates` from the generated OpenAPI.
    @Test(arguments: kubectlV3Binaries)
    func explain(_ kubectl: String) async throws {
        let r = try await Self.run(kubectl, [["explain", "statefulset.spec.volumeClaimTemplates"]])[0]
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("KIND:"))
        #expect(r.stdout.contains("StatefulSet"))
        #expect(r.stdout.contains("volumeClaimTemplates"))
        #expect(r.stdout.contains("PersistentVolumeClaim"))
        #expect(r.stdout.contains("volumeClaimTemplates is a list of claims that pods are allowed to reference."), "\(r.stdout)")
        let spec = try await Self.run(kubectl, [["explain", "pvc.spec.resources.requests"]])[0]
        #expect(spec.status == 0, "\(spec)")
    }

    /// kubectl apply's default strict validation reaches the server, whose BadRequest kubectl prints;
    /// then a good apply, then another manager's server-side apply conflicting with client-side apply.
    @Test(arguments: kubectlV3Binaries)
    func applyFlow(_ kubectl: String) async throws {
        let typo = Self.statefulSet.replacingOccurrences(of: "  serviceName: stateful-pvc", with: "  serviceName: stateful-pvc\n  colour: blue")
        let scaled = Self.statefulSet.replacingOccurrences(of: "replicas: 1", with: "replicas: 3")
        let results = try await Self.run(kubectl, [
            ["apply", "-f", "DIR/typo.yaml"],
            ["apply", "-f", "DIR/sts.yaml"],
            // kube-apiserver lets kubectl's own first server-side apply take over what its
            // last-applied configuration holds (lastAppliedManager); another manager conflicts.
            ["apply", "--server-side", "--field-manager=ci", "-f", "DIR/scaled.yaml"],
            ["apply", "--server-side", "--field-manager=ci", "--force-conflicts", "-f", "DIR/scaled.yaml"],
        ], stdin: ["typo.yaml": typo, "sts.yaml": Self.statefulSet, "scaled.yaml": scaled])
        #expect(results[0].status == 1)
        #expect(results[0].stderr.contains(#"StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.colour""#), "\(results[0])")
        #expect(results[1].status == 0, "\(results[1])")
        #expect(results[1].stdout == "statefulset.apps/stateful-pvc created\n")
        #expect(results[2].status == 1)
        #expect(results[2].stderr.contains(#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#), "\(results[2])")
        #expect(results[3].status == 0, "\(results[3])")
        #expect(results[3].stdout == "statefulset.apps/stateful-pvc serverside-applied\n")
    }

    /// Duplicate fields reach the server only in raw bodies; kubectl create --raw sends one.
    @Test func duplicateFieldsThroughRawCreate() async throws {
        let kubectl = try #require(kubectlBinaries.first)
        let body = #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"},"spec":{"replicas":1,"replicas":2,"template":{"spec":{"containers":[]}}}}"#
        let r = try await Self.run(kubectl, [["create", "--raw", "/apis/apps/v1/namespaces/default/statefulsets?fieldValidation=Strict", "-f", "DIR/dup.json"]],
                                   stdin: ["dup.json": body])[0]
        #expect(r.status == 1)
        #expect(r.stderr.contains(#"strict decoding error: duplicate field "spec.replicas""#), "\(r)")
    }
}
