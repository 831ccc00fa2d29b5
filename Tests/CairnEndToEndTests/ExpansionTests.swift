import Foundation
import Testing

/// Online expansion in embedded mode, as a user does it: raise the claim's request.
@Suite(.serialized) struct ExpansionTests {
    static let manifest = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata:
          name: fixed
        provisioner: cairn.io/local-path
        volumeBindingMode: Immediate
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: grow
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: fast
          resources:
            requests:
              storage: 10Mi
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: stuck
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: fixed
          resources:
            requests:
              storage: 10Mi
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: user
        spec:
          containers:
          - name: c
            image: busybox
            volumeMounts:
            - {name: data, mountPath: /data}
          volumes:
          - name: data
            persistentVolumeClaim:
              claimName: grow
        """

    static func claim(_ d: TestDaemon, _ name: String) throws -> [String: Any] {
        try json(try http(d.socket, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/\(name)").body)
    }

    static func capacity(_ d: TestDaemon, _ name: String) throws -> String? {
        (((try claim(d, name))["status"] as? [String: Any])?["capacity"] as? [String: String])?["storage"]
    }

    static func resize(_ d: TestDaemon, _ name: String, to size: String) throws -> (status: Int, body: String) {
        try http(d.socket, "PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/\(name)",
                 body: #"{"spec":{"resources":{"requests":{"storage":"\#(size)"}}}}"#, contentType: "application/merge-patch+json")
    }

    @Test func aMountedVolumeGrowsAtOnceAndTheRulesHold() throws {
        let d = try TestDaemon(extraArgs: ["--node-capacity", "k8s-node1=64Mi", "--node-capacity", "k8s-node2=64Mi"])
        defer { d.stop() }
        let file = "\(d.dir)/expansion.yaml"
        try Self.manifest.write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try d.cairn(["apply", "-f", file])
        #expect(applied.status == 0, "\(applied)")
        try d.waitUntil("the pod runs") {
            try d.cairn(["get", "pod", "user", "-o", "jsonpath={.status.phase}"]).stdout == "Running"
        }
        // 15 MiB does not fit in 10Mi.
        let full = try d.cairn(["exec", "user", "--", "sh", "-c", "dd if=/dev/zero of=/data/big bs=1M count=15 2>&1; rm -f /data/big"])
        #expect(full.stdout.contains("No space left on device"), "\(full)")

        // Grown to 20Mi: df shows it, the write fits, the events and the history say so.
        let grown = try Self.resize(d, "grow", to: "20Mi")
        #expect(grown.status == 200, "\(grown.body)")
        try d.waitUntil("the claim's capacity is 20Mi") { try Self.capacity(d, "grow") == "20Mi" }
        let df = try d.cairn(["exec", "user", "--", "df", "-k", "/data"]).stdout
        #expect(df.contains(" 20480 "), "df: \(df)")
        let fits = try d.cairn(["exec", "user", "--", "dd", "if=/dev/zero", "of=/data/big", "bs=1M", "count=15"])
        #expect(fits.status == 0, "\(fits)")
        let events = try d.cairn(["get", "events"]).stdout
        #expect(events.contains("Resizing") && events.contains("FileSystemResizeSuccessful"), "\(events)")
        let pv = try d.cairn(["get", "pv", "-o", "jsonpath={.items[*].spec.capacity.storage}"]).stdout
        #expect(pv.contains("20Mi"), "\(pv)")
        #expect(try d.cairn(["describe", "pvc", "grow"]).stdout.contains("expanded"))

        // Shrinking is refused in kube-apiserver's words, and changes nothing.
        let shrink = try Self.resize(d, "grow", to: "5Mi")
        #expect(shrink.status == 422 && shrink.body.contains("spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"),
                "\(shrink.body)")
        // A class without allowVolumeExpansion refuses.
        let fixed = try Self.resize(d, "stuck", to: "20Mi")
        #expect(fixed.status == 403 && fixed.body.contains("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"),
                "\(fixed.body)")
        // More than the node has: VolumeResizeFailed, and the old size stays.
        let tooBig = try Self.resize(d, "grow", to: "1Gi")
        #expect(tooBig.status == 200)
        try d.waitUntil("VolumeResizeFailed") { try d.cairn(["get", "events"]).stdout.contains("VolumeResizeFailed") }
        #expect(try Self.capacity(d, "grow") == "20Mi")
        let df2 = try d.cairn(["exec", "user", "--", "df", "-k", "/data"]).stdout
        #expect(df2.contains(" 20480 "), "df: \(df2)")
    }
}
