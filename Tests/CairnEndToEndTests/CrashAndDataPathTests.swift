import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Pod volumes through the daemon's FUSE mounts, and what survives a kill -9.
@Suite(.serialized) struct CrashAndDataPathTests {
    static let smallSet = """
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: db
    spec:
      replicas: 2
      podManagementPolicy: Parallel
      selector:
        matchLabels: {app: db}
      template:
        metadata:
          labels: {app: db}
        spec:
          containers:
          - name: db
            image: postgres
            volumeMounts:
            - name: data
              mountPath: /var/lib/data
      volumeClaimTemplates:
      - metadata:
          name: data
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: standard
          resources:
            requests:
              storage: 8Mi
    """

    /// The pod's volume directory is a mount of Cairn's filesystem: df reports the claim's size, and
    /// writing past it fails with ENOSPC at the write.
    @Test func podVolumesEnforceAndReportTheirSize() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        _ = try d.cairn(["apply", "-f", try manifestFile(Self.smallSet, in: d.dir)])
        for i in 0..<2 { try d.waitUntil("db-\(i) Running") { try podPhase(d, "db-\(i)") == "Running/True" } }
        let host = "\(d.stateDir)/pods/default/db-0/volumes/data"
        var st = statvfs()
        #expect(statvfs(host, &st) == 0)
        #expect(Int64(st.f_blocks) * Int64(st.f_frsize) == 8 * 1024 * 1024)
        // 6 MiB fits, 4 MiB more does not.
        let w1 = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(host)/a", "bs=1M", "count=6", "conv=fsync"], timeout: 30)
        #expect(w1.status == 0, "\(w1)")
        let w2 = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(host)/b", "bs=1M", "count=4", "conv=fsync"], timeout: 30)
        #expect(w2.status != 0)
        #expect(w2.stderr.contains("No space left on device"), "\(w2)")
        // The same through cairn exec at the pod's mountPath.
        let df = try d.cairn(["exec", "db-0", "--", "df", "-B1", "/var/lib/data"])
        #expect(df.stdout.contains("8388608"), "\(df)")
        // The usage is reported per claim.
        try d.waitUntil("usage in bindings") {
            let b = try json(try d.cairn(["bindings", "-o", "json"]).stdout)
            let item = (b["items"] as? [[String: Any]])?.first { $0["claim"] as? String == "data-db-0" }
            return (item?["usedBytes"] as? Int ?? 0) >= 6 * 1024 * 1024
        }
    }

    /// kill -9 of the daemon while pods are running: after a restart every volume is mounted again
    /// before pods report Ready, fsync'ed data is there, and nothing is duplicated.
    @Test func killNineThenRestartConverges() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        _ = try d.cairn(["apply", "-f", try manifestFile(Self.smallSet, in: d.dir)])
        for i in 0..<2 { try d.waitUntil("db-\(i) Running") { try podPhase(d, "db-\(i)") == "Running/True" } }
        let w = try d.cairn(["exec", "db-1", "--", "sh", "-c", "echo committed > /var/lib/data/row && sync /var/lib/data/row"])
        #expect(w.status == 0, "\(w)")
        let before = try d.cairn(["get", "pvc,pv", "-o", "name"]).stdout

        d.crash()
        // The dead daemon's mounts answer ENOTCONN until the new one cleans them.
        try d.start()
        for i in 0..<2 { try d.waitUntil("db-\(i) Running after restart") { try podPhase(d, "db-\(i)") == "Running/True" } }
        #expect(try d.cairn(["get", "pvc,pv", "-o", "name"]).stdout == before, "no claim or volume lost or duplicated")
        let r = try d.cairn(["exec", "db-1", "--", "cat", "/var/lib/data/row"])
        #expect(r.stdout == "committed\n", "\(r)")

        // Crash again in the middle of scale-ups, at different moments (claims created, volumes being
        // provisioned, pods being mounted), then converge each time.
        for (replicas, delay) in [(4, 150_000), (6, 20_000), (8, 60_000), (9, 300_000)] as [(Int, UInt32)] {
            _ = try d.cairn(["scale", "sts", "db", "--replicas=\(replicas)"])
            usleep(delay)
            d.crash()
            try d.start()
            for i in 0..<replicas {
                try d.waitUntil("db-\(i) Running after a crash during the scale-up to \(replicas)") { try podPhase(d, "db-\(i)") == "Running/True" }
            }
            let claims = try d.cairn(["get", "pvc", "-o", "name"]).stdout.split(separator: "\n")
            #expect(claims.count == replicas)
            let volumes = try d.cairn(["get", "pv", "-o", "name"]).stdout.split(separator: "\n")
            #expect(volumes.count == replicas)
            // Every volume directory exists exactly once per claim: one an interrupted provisioning
            // left behind is swept at start.
            var dirs = 0
            for n in ["k8s-node1", "k8s-node2"] {
                dirs += ((try? FileManager.default.contentsOfDirectory(atPath: "\(d.dir)/data/\(n)")) ?? []).filter { $0.hasPrefix("pvc-") }.count
            }
            #expect(dirs == replicas, "volume directories after the crash during the scale-up to \(replicas)")
        }
        let r2 = try d.cairn(["exec", "db-1", "--", "cat", "/var/lib/data/row"])
        #expect(r2.stdout == "committed\n", "\(r2)")
    }

    /// Deleting a claim of a Delete class removes its directory; a Retain class leaves it Released.
    @Test func reclaimPolicies() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let claims = """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: gone
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: fast
          resources:
            requests:
              storage: 1Mi
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: kept
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: retain
          resources:
            requests:
              storage: 1Mi
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: user
        spec:
          containers:
          - name: c
            volumeMounts:
            - {name: k, mountPath: /k}
          volumes:
          - name: k
            persistentVolumeClaim:
              claimName: kept
        """
        _ = try d.cairn(["apply", "-f", try manifestFile(claims, in: d.dir)])
        try d.waitUntil("user Running") { try podPhase(d, "user") == "Running/True" }
        try d.waitUntil("gone bound") { try claimPhase(d, "gone")?.phase == "Bound" }
        let goneVolume = try #require(try claimPhase(d, "gone")?.volume)
        let keptVolume = try #require(try claimPhase(d, "kept")?.volume)
        let pvJSON = try json(try d.cairn(["get", "pv", goneVolume, "-o", "json"]).stdout)
        let gonePath = try #require(((pvJSON["spec"] as? [String: Any])?["local"] as? [String: Any])?["path"] as? String)
        #expect(FileManager.default.fileExists(atPath: gonePath))
        // A symlink inside the volume pointing outside must not be followed by the reclaim.
        let outside = "\(d.dir)/outside"
        try "precious".write(toFile: outside, atomically: true, encoding: .utf8)
        symlink(outside, "\(gonePath)/escape")
        symlink(d.dir, "\(gonePath)/escape-dir")

        _ = try d.cairn(["delete", "pvc", "gone"])
        try d.waitUntil("gone's volume deleted") { try d.cairn(["get", "pv", goneVolume]).status != 0 }
        #expect(!FileManager.default.fileExists(atPath: gonePath))
        #expect((try? String(contentsOfFile: outside, encoding: .utf8)) == "precious")

        // In use: the claim stays Terminating until its pod is gone (pvc-protection).
        _ = try d.cairn(["delete", "pvc", "kept"])
        usleep(1_500_000)
        let terminating = try d.cairn(["get", "pvc", "kept"]).stdout
        #expect(terminating.contains("Terminating"), "\(terminating)")
        _ = try d.cairn(["delete", "pod", "user"])
        try d.waitUntil("kept deleted") { try d.cairn(["get", "pvc", "kept"]).status != 0 }
        try d.waitUntil("kept volume Released") {
            let pv = try json(try d.cairn(["get", "pv", keptVolume, "-o", "json"]).stdout)
            return (pv["status"] as? [String: Any])?["phase"] as? String == "Released"
        }
    }
}
