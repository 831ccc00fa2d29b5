import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The command line as a kubectl user types it, against a live daemon (and, for usage errors, without one).
@Suite(.serialized) struct CLITests {
    /// Runs cairn with no daemon behind the socket.
    func cairnAlone(_ args: [String], stdin: String? = nil) throws -> RunResult {
        try runProgram(cairnBinary, args, stdin: stdin, timeout: 30, environment: ["CAIRN_SOCKET": "/nonexistent/cairn.sock"])
    }

    /// A daemon with the seed's StatefulSet (one pod, Running) and claim, and fixed node sizes.
    func seededDaemon() throws -> TestDaemon {
        let d = try TestDaemon(extraArgs: ["--node-capacity", "k8s-node1=10Gi", "--node-capacity", "k8s-node2=20Gi"])
        let sts = try manifestFile(SeedManifests.statefulSetWithService, in: d.dir, name: "sts.yaml")
        let pvc = try manifestFile(SeedManifests.pvc, in: d.dir, name: "pvc.yaml")
        let applied = try d.cairn(["apply", "-f", sts, "-f", pvc])
        guard applied.status == 0 else { d.stop(); throw TestFailure("apply failed: \(applied)") }
        do {
            try d.waitUntil("stateful-pvc-0 Running") { try podPhase(d, "stateful-pvc-0") == "Running/True" }
            try d.waitUntil("replica-pvc1 Bound") { try claimPhase(d, "replica-pvc1")?.phase == "Bound" }
        } catch {
            d.stop()
            throw error
        }
        return d
    }

    @Test func usageErrorsExitOneWithKubectlsWords() throws {
        let unknown = try cairnAlone(["get", "pods", "--bogus"])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.stderr == "Error: unknown flag: --bogus\nSee 'cairn get --help' for usage.\n")
        let shorthand = try cairnAlone(["get", "pods", "-x"])
        #expect(shorthand.status == 1)
        #expect(shorthand.stderr.hasPrefix("Error: unknown shorthand flag: 'x' in -x\n"), "\(shorthand)")
        let missing = try cairnAlone(["get", "pods", "-o"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("Error: flag needs an argument: 'o' in -o\n"), "\(missing)")
        let nested = try cairnAlone(["verify", "retention", "sts", "x", "--bogus"])
        #expect(nested.stderr == "Error: unknown flag: --bogus\nSee 'cairn verify retention --help' for usage.\n", "\(nested)")
        let command = try cairnAlone(["bogus"])
        #expect(command.status == 1)
        #expect(command.stderr == "Error: unknown command \"bogus\" for \"cairn\"\nRun 'cairn --help' for usage.\n", "\(command)")
        // Help is not an error.
        let help = try cairnAlone(["get", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--sort-by"))

        let printer = try cairnAlone(["get", "pods", "-o", "bogus"])
        #expect(printer.status == 1)
        #expect(printer.stderr == "error: unable to match a printer suitable for the output format \"bogus\", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml\n")
        let badPath = try cairnAlone(["get", "pods", "-o", "jsonpath={.items["])
        #expect(badPath.status == 1)
        #expect(badPath.stderr == "error: error parsing jsonpath {.items[, unterminated array\n")

        // apply without -f names only what exists.
        let apply = try cairnAlone(["apply"])
        #expect(apply.status == 1)
        #expect(apply.stderr == "error: must specify -f: a manifest file, a directory of manifests, or - for standard input\n")
        #expect(!apply.stderr.contains("-k"))

        // exec POD COMMAND without --: kubectl 1.32's message, before any daemon is asked.
        let exec = try cairnAlone(["exec", "stateful-pvc-0", "ls", "/applog"])
        #expect(exec.status == 1)
        #expect(exec.stderr == "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'cairn exec -h' for help and examples\n")
    }

    @Test func serveRefusesAnUnknownLogLevel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-loglevel-\(getpid())").path
        // Should a daemon start after all, it is killed at the deadline and its mounts are undone here.
        defer {
            unmountEverything(under: dir)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let r = try runProgram(cairnBinary, ["serve", "--state-dir", dir, "--log-level", "bogus"], timeout: 15)
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr == "Error: invalid argument \"bogus\" for \"--log-level\" flag: must be one of trace, debug, info, notice, warning, error, critical\nSee 'cairn serve --help' for usage.\n", "\(r)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/cairn.sock"), "nothing started")
    }

    @Test func kubectlFlagSpellingsAndPrinters() throws {
        let d = try seededDaemon()
        defer { d.stop() }

        // -owide / -o wide / -o=wide print the same; so do -ojson and --output=json.
        let wide = try d.cairn(["get", "pods", "-owide"])
        #expect(wide.status == 0, "\(wide)")
        #expect(wide.stdout.hasPrefix("NAME             READY   STATUS    RESTARTS   AGE"), "\(wide)")
        #expect(wide.stdout.contains("NODE"))
        let equalsWide = try d.cairn(["get", "pods", "-o=wide"])
        #expect(equalsWide.stdout.split(separator: "\n").first == wide.stdout.split(separator: "\n").first, "\(equalsWide)")
        let json = try d.cairn(["get", "sts", "stateful-pvc", "-ojson"])
        #expect(json.status == 0)
        #expect(try d.cairn(["get", "sts", "stateful-pvc", "--output=json"]).stdout == json.stdout)
        #expect(try d.cairn(["get", "pods", "-oname"]).stdout == "pod/stateful-pvc-0\n")
        #expect(try d.cairn(["get", "pods", "-ltype=db2", "-oname"]).stdout == "pod/stateful-pvc-0\n")
        #expect(try d.cairn(["get", "pods", "-ltype=other", "-oname"]).stdout == "")

        // Namespaces: attached, before the verb, with =.
        #expect(try d.cairn(["get", "pods", "-ndefault", "-oname"]).stdout == "pod/stateful-pvc-0\n")
        #expect(try d.cairn(["-n", "default", "get", "pvc", "-oname"]).stdout
                == "persistentvolumeclaim/replica-pvc1\npersistentvolumeclaim/volume-stateful-pvc-0\n")
        let other = try d.cairn(["-n", "team-a", "get", "pvc"])
        #expect(other.stderr == "No resources found in team-a namespace.\n", "\(other)")
        #expect(try d.cairn(["get", "pods", "--namespace=default", "-oname"]).stdout == "pod/stateful-pvc-0\n")
        // --socket before the verb wins over $CAIRN_SOCKET.
        let socket = try runProgram(cairnBinary, ["--socket", d.socket, "get", "pods", "-oname"], environment: ["CAIRN_SOCKET": "/nonexistent"])
        #expect(socket.stdout == "pod/stateful-pvc-0\n", "\(socket)")

        // get all: kubectl's category, kind/name names, a blank line between kinds, no empty kinds.
        let all = try d.cairn(["get", "all"])
        #expect(all.status == 0, "\(all)")
        let blocks = all.stdout.components(separatedBy: "\n\n")
        try #require(blocks.count == 3, "\(all)")
        #expect(blocks[0].hasPrefix("NAME                 READY   STATUS    RESTARTS   AGE\npod/stateful-pvc-0   1/1     Running   0"), "\(blocks[0])")
        #expect(blocks[1].hasPrefix("NAME                        TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\nservice/stateful-headless   ClusterIP   None         <none>        80/TCP"), "\(blocks[1])")
        #expect(blocks[2].hasPrefix("NAME                            READY   AGE\nstatefulset.apps/stateful-pvc   1/1"), "\(blocks[2])")
        #expect(try d.cairn(["get", "all", "-oname"]).stdout
                == "pod/stateful-pvc-0\nservice/stateful-headless\nstatefulset.apps/stateful-pvc\n")
        // -o name across types: no blank line between them.
        #expect(try d.cairn(["get", "pods,pvc", "-o", "name"]).stdout
                == "pod/stateful-pvc-0\npersistentvolumeclaim/replica-pvc1\npersistentvolumeclaim/volume-stateful-pvc-0\n")

        // --show-labels, --sort-by, jsonpath, custom-columns.
        let labels = try d.cairn(["get", "pvc", "--show-labels"])
        #expect(labels.stdout.split(separator: "\n").first?.hasSuffix("AGE   LABELS") == true, "\(labels)")
        #expect(labels.stdout.contains("type=db2"))
        let byName = try d.cairn(["get", "pvc", "--sort-by=.metadata.name", "-o", "custom-columns=NAME:.metadata.name,SIZE:.spec.resources.requests.storage,CLASS:spec.storageClassName"])
        #expect(byName.stdout == """
        NAME                    SIZE   CLASS
        replica-pvc1            1G     fast
        volume-stateful-pvc-0   1G     fast

        """, "\(byName)")
        let byAge = try d.cairn(["get", "pvc", "--sort-by={.metadata.creationTimestamp}", "-o", "name"])
        #expect(byAge.status == 0, "\(byAge)")
        let names = try d.cairn(["get", "pvc", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase}{\"\\n\"}{end}"])
        #expect(names.stdout == "replica-pvc1=Bound\nvolume-stateful-pvc-0=Bound\n", "\(names)")
        let node = try d.cairn(["get", "pod", "stateful-pvc-0", "-o", "jsonpath={.spec.nodeName}"])
        #expect(node.stdout.hasPrefix("k8s-node"), "\(node)")
        let filter = try d.cairn(["get", "pvc", "-o", "jsonpath={.items[?(@.metadata.labels.type==\"db2\")].metadata.name}"])
        #expect(filter.stdout == "volume-stateful-pvc-0", "\(filter)")
        let missing = try d.cairn(["get", "pvc", "--sort-by=.spec.nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: couldn't find any field with path \"{.spec.nope}\" in the list of objects\n", "\(missing)")
    }

    @Test func deleteBySelectorAndAll() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        func claim(_ name: String, _ labels: String) -> String {
            """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: \(name), namespace: team-a, labels: {\(labels)}}
            spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
            """
        }
        let manifest = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}",
                        claim("scratch-a", "app: scratch"), claim("scratch-b", "app: scratch"),
                        claim("keep-1", "app: keep"), claim("keep-2", "app: keep")].joined(separator: "\n---\n")
        let applied = try d.cairn(["apply", "-f", try manifestFile(manifest, in: d.dir)])
        #expect(applied.status == 0, "\(applied)")

        let bySelector = try d.cairn(["-nteam-a", "delete", "pvc", "-lapp=scratch"])
        #expect(bySelector.status == 0, "\(bySelector)")
        #expect(bySelector.stdout == "persistentvolumeclaim \"scratch-a\" deleted\npersistentvolumeclaim \"scratch-b\" deleted\n")
        let none = try d.cairn(["delete", "pvc", "-l", "app=scratch", "-n", "team-a"])
        #expect(none.stdout == "No resources found\n", "\(none)")
        let both = try d.cairn(["delete", "pvc", "--all", "-l", "app=keep"])
        #expect(both.status == 1)
        #expect(both.stderr == "error: setting 'all' parameter but found a non empty selector.\n")
        let named = try d.cairn(["delete", "pvc", "keep-1", "-l", "app=keep", "-n", "team-a"])
        #expect(named.stderr == "error: name cannot be provided when a selector is specified\n", "\(named)")

        let all = try d.cairn(["delete", "pvc", "--all", "-n", "team-a"])
        #expect(all.stdout == "persistentvolumeclaim \"keep-1\" deleted\npersistentvolumeclaim \"keep-2\" deleted\n", "\(all)")
        try d.waitUntil("team-a's claims gone") { try d.cairn(["get", "pvc", "-n", "team-a", "-o", "name"]).stdout.isEmpty }
    }

    @Test func execLikeKubectl() throws {
        let d = try seededDaemon()
        defer { d.stop() }
        let write = try d.cairn(["exec", "pod/stateful-pvc-0", "--", "sh", "-c", "echo via-type-name > /applog/who"])
        #expect(write.status == 0, "\(write)")
        #expect(try d.cairn(["exec", "stateful-pvc-0", "--", "cat", "/applog/who"]).stdout == "via-type-name\n")
        // A StatefulSet names one of its pods, as kubectl exec sts/NAME does.
        #expect(try d.cairn(["exec", "sts/stateful-pvc", "--", "cat", "/applog/who"]).stdout == "via-type-name\n")
        let svc = try d.cairn(["exec", "svc/stateful-headless", "--", "true"])
        #expect(svc.status == 1)
        #expect(svc.stderr.contains("cannot exec into services"), "\(svc)")

        // Standard input reaches the command only with -i.
        let withStdin = try d.cairn(["exec", "-i", "stateful-pvc-0", "--", "cat"], stdin: "hello\n")
        #expect(withStdin.stdout == "hello\n", "\(withStdin)")
        #expect(withStdin.stderr == "")
        let without = try d.cairn(["exec", "stateful-pvc-0", "--", "cat"], stdin: "hello\n")
        #expect(without.status == 0)
        #expect(without.stdout == "", "\(without)")
        // -it from a pipe: kubectl's warning, and the command still runs with stdin.
        let tty = try d.cairn(["exec", "-it", "stateful-pvc-0", "--", "cat"], stdin: "piped\n")
        #expect(tty.stdout == "piped\n", "\(tty)")
        #expect(tty.stderr == "Unable to use a TTY - input is not a terminal or the right kind of file\n")
        let quiet = try d.cairn(["exec", "-itq", "stateful-pvc-0", "--", "true"], stdin: "")
        #expect(quiet.stderr == "", "\(quiet)")
        // Global flags before the verb, and the command's own flags left alone after --.
        let ls = try d.cairn(["-n", "default", "exec", "-c", "container", "stateful-pvc-0", "--", "ls", "-a", "/applog"])
        #expect(ls.stdout.contains("who"), "\(ls)")
    }

    @Test func describeEveryKindInKubectlsLayout() throws {
        let d = try seededDaemon()
        defer { d.stop() }
        /// Every "Key:  value" line of the top block starts its value in one column.
        func expectAligned(_ text: String, _ keys: [String], sourceLocation: SourceLocation = #_sourceLocation) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var columns: Set<Int> = []
            for key in keys {
                guard let line = lines.first(where: { $0.hasPrefix(key + ":") }) else {
                    Issue.record("no \(key): line in\n\(text)", sourceLocation: sourceLocation)
                    continue
                }
                let afterKey = line.dropFirst(key.count + 1)
                columns.insert(key.count + 1 + afterKey.prefix { $0 == " " }.count)
            }
            #expect(columns.count == 1, "values start in columns \(columns.sorted()):\n\(text)", sourceLocation: sourceLocation)
        }

        let pod = try d.cairn(["describe", "pod", "stateful-pvc-0"])
        #expect(pod.status == 0, "\(pod)")
        expectAligned(pod.stdout, ["Name", "Namespace", "Node", "Start Time", "Labels", "Annotations", "Status", "IP", "IPs", "Controlled By"])
        expectAligned(pod.stdout, ["QoS Class", "Node-Selectors", "Tolerations"])
        #expect(pod.stdout.contains("Controlled By:  StatefulSet/stateful-pvc\n"))
        #expect(pod.stdout.contains("      /applog from volume (rw)\n"), "\(pod.stdout)")
        // The conditions table aligns however long the type names are.
        let afterConditions = pod.stdout.components(separatedBy: "Conditions:\n")
        try #require(afterConditions.count == 2, "\(pod)")
        let conditions = afterConditions[1].split(separator: "\n").prefix { $0.hasPrefix("  ") }
        let statusColumn = Set(conditions.map { line in line.distance(from: line.startIndex, to: line.range(of: "True")?.lowerBound ?? line.range(of: "Status")?.lowerBound ?? line.endIndex) })
        #expect(statusColumn.count == 1, "\(conditions)")
        #expect(field(pod.stdout, "    ClaimName") == "volume-stateful-pvc-0")

        let pvc = try d.cairn(["describe", "pvc", "replica-pvc1"])
        expectAligned(pvc.stdout, ["Name", "Namespace", "StorageClass", "Status", "Volume", "Labels", "Annotations", "Finalizers", "Capacity", "Access Modes", "VolumeMode", "Used By", "Node", "Directory", "Used"])
        #expect(pvc.stdout.contains("Finalizers:    [kubernetes.io/pvc-protection]\n"), "\(pvc.stdout)")
        #expect(pvc.stdout.contains("Binding History:"))
        #expect(pvc.stdout.contains("ProvisioningSucceeded"))

        // describe pvc with no name describes every claim, separated as kubectl separates them.
        let allClaims = try d.cairn(["describe", "pvc"])
        #expect(allClaims.stdout.components(separatedBy: "\n\n\nName:").count == 2, "\(allClaims.stdout)")
        #expect(allClaims.stdout.contains("Name:          replica-pvc1\n"))
        #expect(allClaims.stdout.contains("Name:          volume-stateful-pvc-0\n"))
        // A name that matches nothing describes the objects whose names begin with it.
        let prefix = try d.cairn(["describe", "pod", "stateful"])
        #expect(prefix.stdout.hasPrefix("Name:           stateful-pvc-0\n"), "\(prefix)")
        let nothing = try d.cairn(["describe", "pod", "nope"])
        #expect(nothing.status == 1)
        #expect(nothing.stderr == "Error from server (NotFound): pods \"nope\" not found\n", "\(nothing)")

        let volumeName = try #require(try claimPhase(d, "replica-pvc1")?.volume)
        let pv = try d.cairn(["describe", "pv", volumeName])
        expectAligned(pv.stdout, ["Name", "Labels", "Annotations", "Finalizers", "StorageClass", "Status", "Claim", "Reclaim Policy", "Access Modes", "VolumeMode", "Capacity", "Node Affinity", "Message"])
        #expect(field(pv.stdout, "Claim") == "default/replica-pvc1", "\(pv.stdout)")
        #expect(pv.stdout.contains("    Type:  LocalVolume (a persistent volume backed by local storage on a node)\n"))

        let sc = try d.cairn(["describe", "sc", "fast"])
        #expect(sc.stdout.hasPrefix("Name:                  fast\nIsDefaultClass:        No\n"), "\(sc.stdout)")
        #expect(sc.stdout.contains("VolumeBindingMode:     Immediate\n"))
        #expect(sc.stdout.hasSuffix("Events:                <none>\n") || sc.stdout.contains("Events:\n"))

        let svc = try d.cairn(["describe", "svc", "stateful-headless"])
        expectAligned(svc.stdout, ["Name", "Namespace", "Labels", "Annotations", "Selector", "Type", "IP Families", "IP", "IPs", "Port", "TargetPort", "Endpoints", "Session Affinity"])
        #expect(field(svc.stdout, "Port") == "<unset>  80/TCP", "\(svc.stdout)")
        #expect(field(svc.stdout, "TargetPort") == "8080/TCP")
        #expect(field(svc.stdout, "IP") == "None")

        let ns = try d.cairn(["describe", "ns", "default"])
        #expect(ns.stdout.hasSuffix("Status:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n"), "\(ns.stdout)")

        let sts = try d.cairn(["describe", "sts", "stateful-pvc"])
        expectAligned(sts.stdout, ["Name", "Namespace", "CreationTimestamp", "Selector", "Labels", "Annotations", "Replicas", "Update Strategy", "Pods Status"])
        #expect(sts.stdout.contains("Pods Status:        1 Running / 0 Waiting / 0 Succeeded / 0 Failed\n"), "\(sts.stdout)")
        #expect(sts.stdout.contains("  Containers:\n   container:\n    Image:        kubetm/app\n"), "\(sts.stdout)")
        #expect(sts.stdout.contains("Volume Claims:\n  Name:          volume\n  StorageClass:  fast\n"), "\(sts.stdout)")

        let rsManifest = try manifestFile(SeedManifests.replicaSet.replacingOccurrences(of: "k8s-node1", with: try #require(try claimNode(d, "replica-pvc1"))), in: d.dir, name: "rs.yaml")
        #expect(try d.cairn(["apply", "-f", rsManifest]).status == 0)
        try d.waitUntil("a replica Running") { try podNames(d, selector: "type=web2").contains { try podPhase(d, $0) == "Running/True" } }
        let rs = try d.cairn(["describe", "rs", "replica-pvc"])
        expectAligned(rs.stdout, ["Name", "Namespace", "Selector", "Labels", "Annotations", "Replicas", "Pods Status"])
        #expect(rs.stdout.contains("Replicas:     1 current / 1 desired\n"), "\(rs.stdout)")
        #expect(rs.stdout.contains("Pod Template:\n  Labels:  type=web2\n"), "\(rs.stdout)")

        // A node: kubectl's fields, then the storage Cairn gives it and the volumes on it.
        let claimNodeName = try #require(try claimNode(d, "replica-pvc1"))
        let node = try d.cairn(["describe", "node", claimNodeName])
        expectAligned(node.stdout, ["Name", "Roles", "Labels", "Annotations", "CreationTimestamp", "Taints", "Unschedulable"])
        #expect(node.stdout.contains("  ephemeral-storage:  \(claimNodeName == "k8s-node1" ? "10Gi" : "20Gi")\n"), "\(node.stdout)")
        #expect(node.stdout.contains(volumeName))
        #expect(node.stdout.contains("default/replica-pvc1"))
        let capacity: Int64 = claimNodeName == "k8s-node1" ? 10 << 30 : 20 << 30
        let nodes = try d.cairn(["get", "pv", "-o", "jsonpath={range .items[*]}{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}{\"\\n\"}{end}"])
        let volumesHere = nodes.stdout.split(separator: "\n").filter { $0 == claimNodeName }.count
        #expect(volumesHere >= 1, "\(nodes)")
        #expect(field(node.stdout, "  Provisioned") == "\(volumesHere)G in \(volumesHere) volume\(volumesHere == 1 ? "" : "s")", "\(node.stdout)")
        let free = capacity - Int64(volumesHere) * 1_000_000_000
        #expect(field(node.stdout, "  Free")?.hasSuffix("(\(free) bytes)") == true, "\(node.stdout)")
    }

    /// The value of the first `Key:  value` line for `key` (leading spaces part of the key).
    func field(_ text: String, _ key: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
        return String(line.dropFirst(key.count + 1).drop { $0 == " " })
    }

    func claimNode(_ d: TestDaemon, _ claim: String) throws -> String? {
        let bindings = try json(try d.cairn(["bindings", "-o", "json"]).stdout)
        return (bindings["items"] as? [[String: Any]])?.first { $0["claim"] as? String == claim }?["node"] as? String
    }
}
