import Foundation
import Testing

/// A StatefulSet at zero replicas: it can be patched and edited without pods coming and going.
let idleStatefulSet = """
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: web
    spec:
      replicas: 0
      selector:
        matchLabels:
          app: web
      serviceName: web
      template:
        metadata:
          labels:
            app: web
        spec:
          containers:
          - name: container
            image: kubetm/app
            env:
            - name: MODE
              value: blue
            volumeMounts:
            - name: data
              mountPath: /applog
      volumeClaimTemplates:
      - metadata:
          name: data
        spec:
          accessModes: [ReadWriteOnce]
          resources:
            requests:
              storage: 1G
          storageClassName: fast

    """

/// Round trips through kubectl's writing verbs, and bad input, against one daemon per kubectl
/// version; each check works on objects of its own.
@Suite(.serialized) struct EditingRoundTrips {
    @Test(arguments: Kubectl.all) func writingVerbsAndBadInput(_ kubectl: Kubectl) throws {
        let c = try Cluster(kubectl)
        defer { c.stop() }
        try applyTwiceIsUnchanged(c)
        try patchTypes(c)
        try labelAndAnnotate(c)
        try editWithEditor(c)
        try serverSideApplyConflicts(c)
        try badInputChangesNothing(c)
        try notFoundAndAlreadyExists(c)
    }

    /// Client-side apply: created, unchanged, configured (three-way merge with last-applied).
    func applyTwiceIsUnchanged(_ c: Cluster) throws {
        let pvc = try c.manifest("pvc.yaml", Seed.pvc)
        let service = try c.manifest("svc.yaml", String(Seed.statefulSet.split(separator: "---")[0]))
        let sts = try c.manifest("web.yaml", idleStatefulSet)
        #expect(try c.ok(["apply", "-f", pvc, "-f", service, "-f", sts])
                    == "persistentvolumeclaim/replica-pvc1 created\nservice/stateful-headless created\nstatefulset.apps/web created\n")
        #expect(try c.ok(["apply", "-f", pvc, "-f", service]) == "persistentvolumeclaim/replica-pvc1 unchanged\nservice/stateful-headless unchanged\n")
        // A StatefulSet with volumeClaimTemplates is "configured" at every apply on a real cluster too:
        // the list has no merge key, so kubectl compares it whole, and the live templates carry defaults.
        #expect(try c.ok(["apply", "-f", sts]) == "statefulset.apps/web configured\n")
        #expect(try c.ok(["diff", "-f", sts]) == "")
        let annotation = c.jsonpath(["sts", "web"], #"{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}"#) ?? ""
        #expect(annotation.contains(#""kind":"StatefulSet""#), "\(annotation)")

        // A field removed from the manifest is removed from the object (the env var), one changed changes.
        let changed = idleStatefulSet.replacingOccurrences(of: "        env:\n        - name: MODE\n          value: blue\n", with: "")
            .replacingOccurrences(of: "image: kubetm/app", with: "image: kubetm/app:v2")
        let sts2 = try c.manifest("web2.yaml", changed)
        #expect(try c.ok(["apply", "-f", sts2]) == "statefulset.apps/web configured\n")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].image}") == "kubetm/app:v2")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].env}") == "")
        #expect(try c.ok(["diff", "-f", sts2]) == "")
        #expect(try c.ok(["apply", "-f", sts]) == "statefulset.apps/web configured\n")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].env[0].value}") == "blue")
    }

    /// kubectl patch with each --type, and a patch that changes nothing.
    func patchTypes(_ c: Cluster) throws {
        // Strategic: the container is merged by its name, keeping its volumeMounts and env.
        #expect(try c.ok(["patch", "sts", "web", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"container","image":"kubetm/app:v3"}]}}}}"#])
                    == "statefulset.apps/web patched\n")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].volumeMounts[0].mountPath} {.spec.template.spec.containers[0].env[0].name}")
                    == "kubetm/app:v3 /applog MODE")
        // Strategic list directives: an env var deleted by its merge key.
        #expect(try c.ok(["patch", "sts", "web", "--type=strategic", "-p",
                          #"{"spec":{"template":{"spec":{"containers":[{"name":"container","env":[{"name":"MODE","$patch":"delete"}]}]}}}}"#])
                    == "statefulset.apps/web patched\n")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].env}") == "")
        // Merge: lists are replaced whole, maps merged, null deletes.
        #expect(try c.ok(["patch", "pvc", "replica-pvc1", "--type=merge", "-p", #"{"metadata":{"labels":{"tier":"db","team":"storage"}}}"#])
                    == "persistentvolumeclaim/replica-pvc1 patched\n")
        #expect(try c.ok(["patch", "pvc", "replica-pvc1", "--type=merge", "-p", #"{"metadata":{"labels":{"team":null}}}"#])
                    == "persistentvolumeclaim/replica-pvc1 patched\n")
        #expect(c.jsonpath(["pvc", "replica-pvc1"], "{.metadata.labels}") == #"{"tier":"db"}"#)
        // JSON patch: operations by path.
        #expect(try c.ok(["patch", "sts", "web", "--type=json", "-p",
                          #"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"kubetm/app:v4"},{"op":"add","path":"/metadata/labels","value":{"patched":"json"}}]"#])
                    == "statefulset.apps/web patched\n")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].image} {.metadata.labels.patched}") == "kubetm/app:v4 json")
        // A patch that changes nothing.
        #expect(try c.ok(["patch", "pvc", "replica-pvc1", "--type=merge", "-p", #"{"metadata":{"labels":{"tier":"db"}}}"#])
                    == "persistentvolumeclaim/replica-pvc1 patched (no change)\n")
        // kubectl scale and the scale subresource's view.
        #expect(c.jsonpath(["sts", "web"], "{.spec.replicas}") == "0")
    }

    /// kubectl 1.27 prints "annotate" where the others print "annotated" (its own printer's wording).
    func annotated(_ c: Cluster) -> String { c.kubectl.minor == 27 ? "annotate" : "annotated" }

    func labelAndAnnotate(_ c: Cluster) throws {
        #expect(try c.ok(["label", "pvc", "replica-pvc1", "env=test"]) == "persistentvolumeclaim/replica-pvc1 labeled\n")
        let refused = try c.fails(["label", "pvc", "replica-pvc1", "env=prod"])
        #expect(refused.stderr == "error: 'env' already has a value (test), and --overwrite is false\n", "\(refused)")
        #expect(try c.ok(["label", "pvc", "replica-pvc1", "env=prod", "--overwrite"]) == "persistentvolumeclaim/replica-pvc1 labeled\n")
        #expect(try c.ok(["get", "pvc", "-l", "env=prod", "-o", "name"]) == "persistentvolumeclaim/replica-pvc1\n")
        #expect(try c.ok(["get", "pvc", "-l", "env in (prod,dev),tier!=web", "-o", "name"]) == "persistentvolumeclaim/replica-pvc1\n")
        #expect(try c.ok(["label", "pvc", "replica-pvc1", "env-"]) == "persistentvolumeclaim/replica-pvc1 unlabeled\n")
        #expect(c.jsonpath(["pvc", "replica-pvc1"], "{.metadata.labels.env}") == "")
        #expect(try c.ok(["annotate", "pvc", "replica-pvc1", "owner=team-a"]) == "persistentvolumeclaim/replica-pvc1 \(annotated(c))\n")
        #expect(try c.ok(["annotate", "sts", "web", "note=hello world"]) == "statefulset.apps/web \(annotated(c))\n")
        #expect(c.jsonpath(["sts", "web"], "{.metadata.annotations.note}") == "hello world")
        #expect(cells(try c.ok(["get", "pvc", "replica-pvc1", "--show-labels"])).last?.last == "tier=db")
    }

    /// kubectl edit with EDITOR set to a script that edits the file kubectl hands it.
    func editWithEditor(_ c: Cluster) throws {
        let editor = try c.file("editor.sh", "#!/bin/sh\nsed -i 's#image: kubetm/app:v4#image: kubetm/app:v5#' \"$1\"\n")
        chmod(editor, 0o755)
        let edited = try c.kubectlRun(["edit", "sts", "web"], environment: ["EDITOR": editor])
        #expect(edited.status == 0 && edited.stdout == "statefulset.apps/web edited\n", "\(edited)")
        #expect(c.jsonpath(["sts", "web"], "{.spec.template.spec.containers[0].image}") == "kubetm/app:v5")
        // The same script finds nothing to change now.
        let unchanged = try c.kubectlRun(["edit", "sts", "web"], environment: ["EDITOR": editor])
        #expect(unchanged.status == 0 && unchanged.stderr == "Edit cancelled, no changes made.\n", "\(unchanged)")
        // An edit the server refuses: kubectl reports the server's words and the object keeps its spec.
        let invalid = try c.file("invalid.sh", "#!/bin/sh\nsed -i 's#^  replicas: 0#  replicas: -1#' \"$1\"\n")
        chmod(invalid, 0o755)
        let before = c.jsonpath(["sts", "web"], "{.metadata.resourceVersion}")
        let refused = try c.kubectlRun(["edit", "sts", "web"], environment: ["EDITOR": invalid])
        #expect(refused.status == 1, "\(refused)")
        // kubectl reopens the editor with the server's error on top; the script changes nothing more, so
        // kubectl gives up and keeps a copy.
        #expect(refused.stderr.contains("A copy of your changes has been stored to"), "\(refused)")
        #expect(refused.stderr.hasSuffix("error: Edit cancelled, no valid changes were saved.\n"), "\(refused)")
        #expect(c.jsonpath(["sts", "web"], "{.metadata.resourceVersion}") == before)
    }

    /// Server-side apply: two managers, a conflict in kube-apiserver's words, --force-conflicts.
    func serverSideApplyConflicts(_ c: Cluster) throws {
        func service(_ tier: String) -> String {
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: ssa
              labels:
                tier: \(tier)
            spec:
              clusterIP: None
              selector:
                app: ssa
              ports:
              - port: 80

            """
        }
        let alice = try c.manifest("ssa-alice.yaml", service("a"))
        let bob = try c.manifest("ssa-bob.yaml", service("b"))
        #expect(try c.ok(["apply", "--server-side", "--field-manager=alice", "-f", alice]) == "service/ssa serverside-applied\n")
        #expect(try c.ok(["apply", "--server-side", "--field-manager=alice", "-f", alice]) == "service/ssa serverside-applied\n")
        let conflict = try c.fails(["apply", "--server-side", "--field-manager=bob", "-f", bob])
        #expect(conflict.stderr.hasPrefix("""
            error: Apply failed with 1 conflict: conflict with "alice": .metadata.labels.tier
            Please review the fields above--they currently have other managers. Here
            are the ways you can resolve this warning:
            * If you intend to manage all of these fields, please re-run the apply
              command with the `--force-conflicts` flag.
            """), "\(conflict)")
        #expect(c.jsonpath(["svc", "ssa"], "{.metadata.labels.tier}") == "a")
        #expect(try c.ok(["apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", bob]) == "service/ssa serverside-applied\n")
        #expect(c.jsonpath(["svc", "ssa"], "{.metadata.labels.tier}") == "b")
        let managers = c.jsonpath(["svc", "ssa"], "{range .metadata.managedFields[*]}{.manager}:{.operation} {end}") ?? ""
        #expect(managers == "alice:Apply bob:Apply ", "\(managers)")
        let bobsFields = c.jsonpath(["svc", "ssa"], #"{.metadata.managedFields[?(@.manager=="bob")].fieldsV1}"#) ?? ""
        let alicesFields = c.jsonpath(["svc", "ssa"], #"{.metadata.managedFields[?(@.manager=="alice")].fieldsV1}"#) ?? ""
        #expect(bobsFields.contains(#""f:tier":{}"#), "\(bobsFields)")
        #expect(!alicesFields.contains(#""f:tier""#), "\(alicesFields)")
    }

    /// Each refused request gets kube-apiserver's text and leaves the object as it was.
    func badInputChangesNothing(_ c: Cluster) throws {
        let rv = { c.jsonpath(["sts", "web"], "{.metadata.resourceVersion}") }
        let before = rv()

        // An unknown field, under kubectl's default strict validation.
        let unknown = try c.manifest("unknown.yaml", idleStatefulSet.replacingOccurrences(of: "name: web\n", with: "name: strict\n")
            .replacingOccurrences(of: "  replicas: 0\n", with: "  replicas: 0\n  colour: red\n"))
        let strict = try c.fails(["apply", "-f", unknown])
        #expect(strict.stderr == #"Error from server (BadRequest): error when creating "\#(unknown)": StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.colour""# + "\n", "\(strict)")
        #expect(try c.fails(["get", "sts", "strict"]).stderr == "Error from server (NotFound): statefulsets.apps \"strict\" not found\n")
        let strictUpdate = try c.manifest("unknown-web.yaml", idleStatefulSet.replacingOccurrences(of: "  replicas: 0\n", with: "  replicas: 0\n  colour: red\n"))
        let strictPatch = try c.fails(["apply", "-f", strictUpdate])
        #expect(strictPatch.stderr.contains(#".spec.colour: field not declared in schema"#) || strictPatch.stderr.contains(#"unknown field "spec.colour""#), "\(strictPatch)")

        // A malformed JSON patch.
        let malformed = try c.fails(["patch", "sts", "web", "--type=json", "-p", #"{"op":"add"}"#])
        #expect(malformed.stderr == "Error from server (BadRequest): json: cannot unmarshal object into Go value of type jsonpatch.Patch\n", "\(malformed)")
        // A JSON patch whose operation fails.
        let failedOp = try c.fails(["patch", "sts", "web", "--type=json", "-p", #"[{"op":"remove","path":"/spec/nope"}]"#])
        #expect(failedOp.stderr.hasPrefix("The request is invalid: the server rejected our request due to an error in our request"), "\(failedOp)")
        // A strategic patch of the wrong type.
        let wrongType = try c.fails(["patch", "sts", "web", "-p", #"{"spec":{"replicas":"three"}}"#])
        #expect(wrongType.stderr.hasPrefix(#"The request is invalid: patch: Invalid value: "map[spec:map[replicas:three]]": "#), "\(wrongType)")
        #expect(rv() == before)

        // A stale resourceVersion: replace with what was read before someone else wrote.
        let stale = try c.manifest("stale.yaml", try c.ok(["get", "sts", "web", "-o", "yaml"]))
        #expect(try c.ok(["annotate", "sts", "web", "round=2"]) == "statefulset.apps/web \(annotated(c))\n")
        let afterAnnotate = rv()
        let conflict = try c.fails(["replace", "-f", stale])
        #expect(conflict.stderr == #"Error from server (Conflict): error when replacing "\#(stale)": Operation cannot be fulfilled on statefulsets.apps "web": the object has been modified; please apply your changes to the latest version and try again"# + "\n", "\(conflict)")
        #expect(rv() == afterAnnotate)
        #expect(afterAnnotate != before)

        // Bad selectors, on a list and on a watch.
        let badLabel = try c.fails(["get", "pods", "-l", "type in (web"])
        #expect(badLabel.stderr.hasPrefix("Error from server (BadRequest): "), "\(badLabel)")
        #expect(badLabel.stderr.contains("unable to parse requirement: found '', expected: ',' or ')'") || badLabel.stderr.contains("found '', expected: ',' or ')'"), "\(badLabel)")
        let badField = try c.fails(["get", "pods", "-w", "--field-selector", "spec.colour=red", "--request-timeout=20s"], timeout: 40)
        // kube-apiserver answers `field label not supported`; kubectl adds what it was looking for.
        #expect(badField.stderr == #"Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.colour=red": field label not supported: spec.colour"# + "\n", "\(badField)")

        // A body over kube-apiserver's 3 MiB limit.
        let huge = try c.manifest("huge.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: huge
              annotations:
                blob: \(String(repeating: "x", count: 3_200_000))
            spec:
              clusterIP: None

            """)
        let tooLarge = try c.fails(["create", "-f", huge, "--validate=false"])
        #expect(tooLarge.stderr.contains("Request entity too large: limit is 3145728"), "\(tooLarge)")
        #expect(try c.fails(["get", "svc", "huge"]).stderr == "Error from server (NotFound): services \"huge\" not found\n")
        #expect(rv() == afterAnnotate)
    }

    func notFoundAndAlreadyExists(_ c: Cluster) throws {
        #expect(try c.fails(["get", "pvc", "nope"]).stderr == "Error from server (NotFound): persistentvolumeclaims \"nope\" not found\n")
        #expect(try c.fails(["delete", "sts", "nope"]).stderr == "Error from server (NotFound): statefulsets.apps \"nope\" not found\n")
        #expect(try c.fails(["describe", "pod", "nope"]).stderr == "Error from server (NotFound): pods \"nope\" not found\n")
        #expect(try c.fails(["get", "sc", "nope"]).stderr == "Error from server (NotFound): storageclasses.storage.k8s.io \"nope\" not found\n")
        let pvc = try c.manifest("pvc-again.yaml", Seed.pvc)
        let exists = try c.fails(["create", "-f", pvc])
        #expect(exists.stderr == #"Error from server (AlreadyExists): error when creating "\#(pvc)": persistentvolumeclaims "replica-pvc1" already exists"# + "\n", "\(exists)")
        #expect(try c.ok(["delete", "pvc", "nope", "--ignore-not-found"]) == "")
    }
}
