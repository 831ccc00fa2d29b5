import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The seed lesson's manifests, as written there: the same files the demo and README use.
enum SeedManifests {
    static func read(_ name: String) -> String {
        (try? String(contentsOfFile: "\(packageRoot)/examples/seed/\(name)", encoding: .utf8)) ?? ""
    }
    static let pvc = read("pvc.yaml")
    static let replicaSet = read("replicaset.yaml")
    /// The headless Service and the StatefulSet, in one file.
    static let statefulSetWithService = read("statefulset.yaml")
}

/// Lines of `cairn get` output after the header, split into columns.
func tableRows(_ output: String) -> [[String]] {
    output.split(separator: "\n").dropFirst().map { line in
        line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    }
}

func podPhase(_ d: TestDaemon, _ name: String) throws -> String? {
    let r = try d.cairn(["get", "pod", name, "-o", "json"])
    guard r.status == 0 else { return nil }
    let o = try json(r.stdout)
    let status = o["status"] as? [String: Any]
    let ready = (status?["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Ready" }?["status"] as? String
    let deleting = (o["metadata"] as? [String: Any])?["deletionTimestamp"] != nil
    if deleting { return "Terminating" }
    return "\(status?["phase"] as? String ?? "?")/\(ready ?? "?")"
}

func claimPhase(_ d: TestDaemon, _ name: String) throws -> (phase: String, volume: String?)? {
    let r = try d.cairn(["get", "pvc", name, "-o", "json"])
    guard r.status == 0 else { return nil }
    let o = try json(r.stdout)
    return ((o["status"] as? [String: Any])?["phase"] as? String ?? "?", (o["spec"] as? [String: Any])?["volumeName"] as? String)
}

func podNames(_ d: TestDaemon, selector: String) throws -> [String] {
    let r = try d.cairn(["get", "pods", "-l", selector, "-o", "name"])
    return r.stdout.split(separator: "\n").map { String($0.dropFirst("pod/".count)) }
}

@Suite(.serialized) struct SeedScenarios {
    /// The seed's StatefulSet scaled 1 -> 3 -> 0 -> 3: claims are kept, re-bound to the same pods and
    /// volumes, and the data each pod wrote is still there; `cairn verify retention` agrees.
    @Test func statefulSetScaleKeepsAndRebindsClaimsWithData() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let file = try manifestFile(SeedManifests.statefulSetWithService, in: d.dir)
        let applied = try d.cairn(["apply", "-f", file])
        #expect(applied.status == 0, "\(applied)")
        #expect(applied.stdout == "service/stateful-headless created\nstatefulset.apps/stateful-pvc created\n")

        try d.waitUntil("stateful-pvc-0 Running") { try podPhase(d, "stateful-pvc-0") == "Running/True" }
        #expect(try claimPhase(d, "volume-stateful-pvc-0")?.phase == "Bound")

        let scale3 = try d.cairn(["scale", "statefulset", "stateful-pvc", "--replicas=3"])
        #expect(scale3.stdout == "statefulset.apps/stateful-pvc scaled\n")
        for i in 0..<3 {
            try d.waitUntil("stateful-pvc-\(i) Running") { try podPhase(d, "stateful-pvc-\(i)") == "Running/True" }
        }
        var volumes: [String: String] = [:]
        for i in 0..<3 {
            let c = try #require(try claimPhase(d, "volume-stateful-pvc-\(i)"))
            #expect(c.phase == "Bound")
            volumes["volume-stateful-pvc-\(i)"] = c.volume
            // Each pod writes its own identity into its volume, through cairn exec at the seed's mountPath.
            let w = try d.cairn(["exec", "stateful-pvc-\(i)", "--", "sh", "-c", "echo pod-\(i) > /applog/identity && touch /applog/server.log"])
            #expect(w.status == 0, "\(w)")
        }

        // Ordered creation: pod 1 was created after pod 0 was Ready, pod 2 after pod 1.
        let events = try d.cairn(["get", "events"])
        #expect(events.stdout.contains("create Pod stateful-pvc-2 in StatefulSet stateful-pvc successful"))
        #expect(events.stdout.contains("create Claim volume-stateful-pvc-1 Pod stateful-pvc-1 in StatefulSet stateful-pvc success"))

        _ = try d.cairn(["scale", "sts", "stateful-pvc", "--replicas=0"])
        try d.waitUntil("all pods gone", timeout: 90) { try podNames(d, selector: "type=db2").isEmpty }
        for (claim, volume) in volumes {
            let c = try #require(try claimPhase(d, claim))
            #expect(c.phase == "Bound", "claim \(claim) after scale to 0")
            #expect(c.volume == volume)
        }
        let verifyAtZero = try d.cairn(["verify", "retention", "statefulset", "stateful-pvc", "--deep"])
        #expect(verifyAtZero.status == 0, "\(verifyAtZero)")
        #expect(verifyAtZero.stdout.contains("unchanged"))

        _ = try d.cairn(["scale", "sts/stateful-pvc", "--replicas=3"])
        for i in 0..<3 {
            try d.waitUntil("stateful-pvc-\(i) Running again") { try podPhase(d, "stateful-pvc-\(i)") == "Running/True" }
            let c = try #require(try claimPhase(d, "volume-stateful-pvc-\(i)"))
            #expect(c.volume == volumes["volume-stateful-pvc-\(i)"], "pod \(i) re-bound its own volume")
            let r = try d.cairn(["exec", "stateful-pvc-\(i)", "--", "cat", "/applog/identity"])
            #expect(r.stdout == "pod-\(i)\n", "\(r)")
        }
        let verify = try d.cairn(["verify", "retention", "statefulset", "stateful-pvc", "-o", "json"])
        #expect(verify.status == 0, "\(verify)")
        let report = try json(verify.stdout)
        #expect(report["ok"] as? Bool == true)
        #expect((report["items"] as? [[String: Any]])?.count == 3)

        // The bindings view shows each claim with its node, capacity, usage and pod.
        let bindings = try json(try d.cairn(["bindings", "-o", "json"]).stdout)
        let items = try #require(bindings["items"] as? [[String: Any]])
        #expect(items.count == 3)
        for item in items {
            #expect(item["phase"] as? String == "Bound")
            #expect(item["capacityBytes"] as? Int == 1_000_000_000)
            #expect((item["pods"] as? [[String: Any]])?.count == 1)
            #expect(item["node"] as? String != nil)
        }
    }

    /// The seed's ReplicaSet pinned to k8s-node1 while its claim lives on k8s-node2: the pod stays
    /// Pending with the scheduler's node affinity conflict message; once the selector allows the volume's
    /// node it runs, and the seed's `touch /applog/server.log` works through cairn exec.
    @Test func replicaSetShowsNodeAffinityConflict() throws {
        // k8s-node2 has more free storage, so the Immediate "fast" claim is provisioned there.
        let d = try TestDaemon(extraArgs: ["--node-capacity", "k8s-node1=5Gi", "--node-capacity", "k8s-node2=20Gi"])
        defer { d.stop() }
        let pvc = try manifestFile(SeedManifests.pvc, in: d.dir, name: "pvc.yaml")
        #expect(try d.cairn(["apply", "-f", pvc]).stdout == "persistentvolumeclaim/replica-pvc1 created\n")
        try d.waitUntil("claim bound") { try claimPhase(d, "replica-pvc1")?.phase == "Bound" }
        let pv = try d.cairn(["get", "pv", "-o", "json"])
        #expect(pv.stdout.contains("k8s-node2"))

        let rs = try manifestFile(SeedManifests.replicaSet, in: d.dir, name: "rs.yaml")
        #expect(try d.cairn(["apply", "-f", rs]).status == 0)
        try d.waitUntil("FailedScheduling event") {
            try d.cairn(["get", "events"]).stdout.contains("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict.")
        }
        let pods = try podNames(d, selector: "type=web2")
        #expect(pods.count == 1)
        #expect(pods.first?.hasPrefix("replica-pvc-") == true)
        #expect(pods.first.map { $0.count == "replica-pvc-".count + 5 } == true)
        #expect(try podPhase(d, pods[0]) == "Pending/?")

        // Point the ReplicaSet at the volume's node: the stuck pod is replaced by one that runs.
        let fixed = try manifestFile(SeedManifests.replicaSet.replacingOccurrences(of: "k8s-node1", with: "k8s-node2"), in: d.dir, name: "rs2.yaml")
        #expect(try d.cairn(["apply", "-f", fixed]).stdout == "replicaset.apps/replica-pvc configured\n")
        _ = try d.cairn(["delete", "pod", pods[0]])
        try d.waitUntil("a replica Running") {
            try podNames(d, selector: "type=web2").contains { try podPhase(d, $0) == "Running/True" }
        }
        let running = try podNames(d, selector: "type=web2").first { try podPhase(d, $0) == "Running/True" }!
        let touch = try d.cairn(["exec", running, "--", "touch", "/applog/server.log"])
        #expect(touch.status == 0, "\(touch)")
        let ls = try d.cairn(["exec", running, "--", "ls", "/applog"])
        #expect(ls.stdout.contains("server.log"))
        #expect(!FileManager.default.fileExists(atPath: "/applog"), "cairn exec leaves nothing on the host")
    }
}
