import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One multi-step operation the crash matrix interrupts: a setup the daemon reaches undisturbed, the
/// client's requests (each retried after a crash until it is answered, as a client would), and the
/// state the operation ends in.
struct CrashScenario: Sendable {
    let name: String
    /// Brings a fresh daemon to the state the operation starts from; returns what it fsync'ed.
    let setup: @Sendable (TestDaemon) throws -> WrittenData
    /// The client's requests in order; each returns whether it was answered with success.
    let steps: [@Sendable (TestDaemon) throws -> Bool]
    /// What the requests do to the data's claims (deleted ones).
    let effect: @Sendable (inout WrittenData) -> Void
    /// The state the operation ends in, and how to say it is not reached.
    let goal: @Sendable (ClusterView, TestDaemon) -> Bool
    let goalDescription: String
}

/// Manifests and waits the scenarios share.
enum Manifests {
    static func claim(_ name: String, class storageClass: String, size: String = "8Mi", namespace: String = "default") -> String {
        """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: \(storageClass)
          resources: {requests: {storage: \(size)}}

        """
    }

    static func pod(_ name: String, claim: String, namespace: String = "default", nodeSelector: String? = nil) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
        \(nodeSelector.map { "  nodeSelector: {kubernetes.io/hostname: \($0)}\n" } ?? "")  containers:
          - name: c
            image: busybox
            volumeMounts: [{name: data, mountPath: /data}]
          volumes:
          - name: data
            persistentVolumeClaim: {claimName: \(claim)}

        """
    }

    static func statefulSet(_ name: String, replicas: Int, parallel: Bool = false, deleteClaimsWithSet: Bool = false,
                            storageClass: String = "standard") -> String {
        """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: \(name)}
        spec:
          replicas: \(replicas)
          podManagementPolicy: \(parallel ? "Parallel" : "OrderedReady")
        \(deleteClaimsWithSet ? "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Retain}\n" : "")  selector:
            matchLabels: {app: \(name)}
          template:
            metadata:
              labels: {app: \(name)}
            spec:
              containers:
              - name: c
                image: busybox
                volumeMounts: [{name: data, mountPath: /data}]
          volumeClaimTemplates:
          - metadata: {name: data}
            spec:
              accessModes: [ReadWriteOnce]
              storageClassName: \(storageClass)
              resources: {requests: {storage: 8Mi}}

        """
    }

    static func namespace(_ name: String) -> String {
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n---\n"
    }
}

/// Client requests as the scenarios send them.
enum Client {
    static func apply(_ d: TestDaemon, _ yaml: String) throws -> Bool {
        let file = try manifestFile(yaml, in: d.dir, name: "apply-\(UUID().uuidString.prefix(8)).yaml")
        return try d.cairn(["apply", "-f", file], timeout: 30).status == 0
    }

    static func mustApply(_ d: TestDaemon, _ yaml: String) throws {
        let file = try manifestFile(yaml, in: d.dir, name: "apply-\(UUID().uuidString.prefix(8)).yaml")
        let r = try d.cairn(["apply", "-f", file], timeout: 60)
        guard r.status == 0 else { throw TestFailure("apply failed: \(r)") }
    }

    static func delete(_ d: TestDaemon, _ args: [String]) throws -> Bool {
        try d.cairn(["delete"] + args + ["--ignore-not-found"], timeout: 30).status == 0
    }

    static func scale(_ d: TestDaemon, _ set: String, _ replicas: Int) throws -> Bool {
        try d.cairn(["scale", "statefulset", set, "--replicas=\(replicas)"], timeout: 30).status == 0
    }

    /// Waits until `condition` holds on the cluster as read over the socket.
    static func wait(_ d: TestDaemon, _ what: String, timeout: TimeInterval = 90, _ condition: (ClusterView) -> Bool) throws {
        try d.waitUntil(what, timeout: timeout) { condition(try ClusterView.read(d)) }
    }

    /// Writes files through a Running pod's mount of `volume`, fsync'ed, and says which claim holds them.
    static func write(_ d: TestDaemon, pod: String, namespace: String = "default", volume: String = "data", claim: String,
                      files: [String: String], into data: inout WrittenData) throws {
        let host = "\(d.stateDir)/pods/\(namespace)/\(pod)/volumes/\(volume)"
        for (path, content) in files.sorted(by: { $0.key < $1.key }) {
            if let slash = path.lastIndex(of: "/") {
                try FileManager.default.createDirectory(atPath: "\(host)/\(path[..<slash])", withIntermediateDirectories: true)
            }
            try writeSynced("\(host)/\(path)", content)
        }
        let view = try ClusterView.read(d)
        guard let c = view.claim("\(namespace)/\(claim)"), let v = c.volume.flatMap(view.volume) else {
            throw TestFailure("claim \(namespace)/\(claim) is not bound")
        }
        let key = "\(namespace)/\(claim)"
        var entry = data.claims[key] ?? WrittenData.Claim(uid: c.uid, reclaimPolicy: v.reclaimPolicy, files: [:])
        for (p, content) in files { entry.files[p] = content }
        data.claims[key] = entry
    }
}

extension ClusterView {
    func podReady(_ key: String) -> Bool { pods.first { $0.key == key }?.runningAndReady == true }
    func podGone(_ key: String) -> Bool { !pods.contains { $0.key == key } }
    func claimBound(_ key: String) -> Bool { claims.first { $0.key == key }?.phase == "Bound" }
    func claimGone(_ key: String) -> Bool { !claims.contains { $0.key == key } }
    /// Every pod Running and Ready (none terminating) and every claim Bound.
    var allRunningAndBound: Bool {
        pods.allSatisfy(\.runningAndReady) && claims.allSatisfy { $0.phase == "Bound" && !$0.deleting }
    }
}

/// The scenarios of the crash matrix: every multi-step operation the issue names.
enum CrashScenarios {
    static let all: [CrashScenario] = [provision, podStart, podStop, reclaim, retain, expand, scaleUp, scaleDown, garbageCollection, namespaceDeletion]

    static func named(_ name: String) -> CrashScenario? { all.first { $0.name == name } }

    /// A claim and a Running pod using it, with a file fsync'ed through the pod's mount.
    static func podWithData(_ d: TestDaemon, claim: String, class storageClass: String, pod: String = "app",
                            namespace: String = "default") throws -> WrittenData {
        try Client.mustApply(d, Manifests.claim(claim, class: storageClass, namespace: namespace) + "---\n"
                             + Manifests.pod(pod, claim: claim, namespace: namespace))
        try Client.wait(d, "\(pod) Running") { $0.podReady("\(namespace)/\(pod)") }
        var data = WrittenData()
        try Client.write(d, pod: pod, namespace: namespace, claim: claim, files: ["committed": "fsync'ed by \(pod)\n"], into: &data)
        return data
    }

    /// A StatefulSet with every pod Running and a file fsync'ed in each claim.
    static func setWithData(_ d: TestDaemon, _ name: String, replicas: Int, parallel: Bool, deleteClaimsWithSet: Bool = false) throws -> WrittenData {
        try Client.mustApply(d, Manifests.statefulSet(name, replicas: replicas, parallel: parallel, deleteClaimsWithSet: deleteClaimsWithSet))
        try Client.wait(d, "\(name) Running") { v in (0..<replicas).allSatisfy { v.podReady("default/\(name)-\($0)") } }
        var data = WrittenData()
        for i in 0..<replicas {
            try Client.write(d, pod: "\(name)-\(i)", claim: "data-\(name)-\(i)", files: ["row": "row of \(name)-\(i)\n"], into: &data)
        }
        return data
    }

    static let provision = CrashScenario(
        name: "provision",
        setup: { _ in WrittenData() },
        steps: [{ d in try Client.apply(d, Manifests.claim("c1", class: "fast") + "---\n" + Manifests.claim("c2", class: "fast")) }],
        effect: { _ in },
        goal: { v, _ in v.claimBound("default/c1") && v.claimBound("default/c2") },
        goalDescription: "claims c1 and c2 Bound")

    static let podStart = CrashScenario(
        name: "pod-start",
        setup: { _ in WrittenData() },
        steps: [{ d in try Client.apply(d, Manifests.claim("data", class: "standard") + "---\n" + Manifests.pod("app", claim: "data")) }],
        effect: { _ in },
        goal: { v, _ in v.podReady("default/app") && v.claimBound("default/data") },
        goalDescription: "pod app Running and Ready, claim data Bound")

    static let podStop = CrashScenario(
        name: "pod-stop",
        setup: { d in try podWithData(d, claim: "data", class: "standard") },
        steps: [{ d in try Client.delete(d, ["pod", "app"]) }],
        effect: { _ in },
        goal: { v, _ in v.podGone("default/app") && v.claimBound("default/data") },
        goalDescription: "pod app gone, claim data Bound")

    /// The tree the reclaim scenario deletes: enough entries that a crash lands midway.
    static let largeTree: [String: String] = {
        var files: [String: String] = [:]
        for dir in 0..<20 { for f in 0..<30 { files["tree/d\(dir)/f\(f)"] = "\(dir)-\(f)\n" } }
        return files
    }()

    static let reclaim = CrashScenario(
        name: "reclaim",
        setup: { d in
            var data = try podWithData(d, claim: "scratch", class: "fast")
            try Client.write(d, pod: "app", claim: "scratch", files: largeTree, into: &data)
            guard try Client.delete(d, ["pod", "app"]) else { throw TestFailure("delete pod app failed") }
            try Client.wait(d, "pod app gone") { $0.podGone("default/app") }
            return data
        },
        steps: [{ d in try Client.delete(d, ["pvc", "scratch"]) }],
        effect: { $0.deletedClaims.insert("default/scratch") },
        goal: { v, _ in v.claimGone("default/scratch") && v.volumes.isEmpty && v.directories.isEmpty },
        goalDescription: "claim scratch, its volume and its directory gone")

    static let retain = CrashScenario(
        name: "retain",
        setup: { d in
            let data = try podWithData(d, claim: "keep", class: "retain")
            guard try Client.delete(d, ["pod", "app"]) else { throw TestFailure("delete pod app failed") }
            try Client.wait(d, "pod app gone") { $0.podGone("default/app") }
            return data
        },
        steps: [{ d in try Client.delete(d, ["pvc", "keep"]) }],
        effect: { $0.deletedClaims.insert("default/keep") },
        goal: { v, _ in v.claimGone("default/keep") && v.volumes.count == 1 && v.volumes.allSatisfy { $0.phase == "Released" } },
        goalDescription: "claim keep gone, its volume Released")

    static let expand = CrashScenario(
        name: "expand",
        setup: { d in try podWithData(d, claim: "grow", class: "fast") },
        steps: [{ d in try Client.apply(d, Manifests.claim("grow", class: "fast", size: "16Mi")) }],
        effect: { _ in },
        goal: { v, d in
            guard v.podReady("default/app"), v.claimBound("default/grow"),
                  let o = try? json(try http(d.socket, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/grow").body),
                  ((o["status"] as? [String: Any])?["capacity"] as? [String: Any])?["storage"] as? String == "16Mi" else { return false }
            var st = statvfs()
            return statvfs("\(d.stateDir)/pods/default/app/volumes/data", &st) == 0 && Int64(st.f_blocks) * Int64(st.f_frsize) == 16 << 20
        },
        goalDescription: "claim grow at 16Mi, and df in its pod says so")

    static let scaleUp = CrashScenario(
        name: "scale-up",
        setup: { d in try setWithData(d, "db", replicas: 1, parallel: false) },
        steps: [{ d in try Client.scale(d, "db", 3) }],
        effect: { _ in },
        goal: { v, _ in (0..<3).allSatisfy { v.podReady("default/db-\($0)") && v.claimBound("default/data-db-\($0)") } },
        goalDescription: "db-0..2 Running and Ready, their claims Bound")

    static let scaleDown = CrashScenario(
        name: "scale-down",
        setup: { d in try setWithData(d, "db", replicas: 3, parallel: true) },
        steps: [{ d in try Client.scale(d, "db", 1) }],
        effect: { _ in },
        goal: { v, _ in v.podReady("default/db-0") && v.podGone("default/db-1") && v.podGone("default/db-2")
            && (0..<3).allSatisfy { v.claimBound("default/data-db-\($0)") } },
        goalDescription: "only db-0 left, all three claims Bound")

    static let garbageCollection = CrashScenario(
        name: "gc",
        setup: { d in try setWithData(d, "gc", replicas: 2, parallel: true, deleteClaimsWithSet: true) },
        steps: [{ d in try Client.delete(d, ["statefulset", "gc"]) }],
        effect: { data in for k in data.claims.keys { data.deletedClaims.insert(k) } },
        goal: { v, _ in v.pods.isEmpty && v.claims.isEmpty && v.volumes.isEmpty && v.directories.isEmpty },
        goalDescription: "set gc's pods, claims, volumes and directories gone")

    static let namespaceDeletion = CrashScenario(
        name: "namespace",
        setup: { d in
            try Client.mustApply(d, Manifests.namespace("team"))
            return try podWithData(d, claim: "data", class: "standard", namespace: "team")
        },
        steps: [{ d in try Client.delete(d, ["namespace", "team"]) }],
        effect: { $0.deletedNamespaces.insert("team") },
        goal: { v, d in
            (try? http(d.socket, "GET", "/api/v1/namespaces/team").status) == 404 && v.pods.isEmpty && v.claims.isEmpty && v.volumes.isEmpty
        },
        goalDescription: "namespace team and everything in it gone")
}
