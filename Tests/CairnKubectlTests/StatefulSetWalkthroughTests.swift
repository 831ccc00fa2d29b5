import Foundation
import Testing

/// The seed lesson's StatefulSet walk-through, command for command, with kubectl: what each command
/// prints is compared with what kubectl prints against a real cluster (kube-apiserver 1.32) for the
/// same objects, ages masked.
@Suite(.serialized) struct StatefulSetWalkthrough {
    @Test(arguments: Kubectl.all) func statefulSetWalkthrough(_ kubectl: Kubectl) throws {
        let c = try Cluster(kubectl)
        defer { c.stop() }
        let manifest = try c.manifest("statefulset.yaml", Seed.statefulSet)

        // kubectl apply -f: the headless Service and the StatefulSet.
        #expect(try c.ok(["apply", "-f", manifest]) == "service/stateful-headless created\nstatefulset.apps/stateful-pvc created\n")
        let rollout = try c.ok(["rollout", "status", "statefulset/stateful-pvc", "--timeout=120s"], timeout: 150)
        #expect(rollout.hasSuffix("partitioned roll out complete: 1 new pods have been updated...\n"), "\(rollout)")

        #expect(cells(try c.ok(["get", "pods"])) == cells("""
            NAME             READY   STATUS    RESTARTS   AGE
            stateful-pvc-0   1/1     Running   0          10s

            """))
        #expect(cells(try c.ok(["get", "sts"])) == cells("""
            NAME           READY   AGE
            stateful-pvc   1/1     10s

            """))
        #expect(cells(try c.ok(["get", "pvc"])) == cells("""
            NAME                    STATUS   VOLUME                                     CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE
            volume-stateful-pvc-0   Bound    pvc-3f98c60c-1d2e-4c4b-9a55-0a1b2c3d4e5f   1G         RWO            fast           <unset>                 10s

            """))
        #expect(cells(try c.ok(["get", "pv"])) == cells("""
            NAME                                       CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM                           STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE
            pvc-3f98c60c-1d2e-4c4b-9a55-0a1b2c3d4e5f   1G         RWO            Delete           Bound    default/volume-stateful-pvc-0   fast           <unset>                          10s

            """))
        #expect(cells(try c.ok(["get", "svc"])) == cells("""
            NAME                TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
            stateful-headless   ClusterIP   None         <none>        80/TCP    10s

            """))

        // The lesson's command, as written: the pod's volume is at its mountPath.
        #expect(try c.ok(["exec", "stateful-pvc-0", "--", "touch", "/applog/server.log"]) == "")
        #expect(try c.ok(["exec", "stateful-pvc-0", "--", "ls", "/applog"]) == "server.log\n")

        // Scale 1 -> 3: pods one at a time, a claim each.
        #expect(try c.ok(["scale", "sts", "stateful-pvc", "--replicas=3"]) == "statefulset.apps/stateful-pvc scaled\n")
        let rollout3 = try c.ok(["rollout", "status", "sts/stateful-pvc", "--timeout=180s"], timeout: 200)
        #expect(rollout3.hasSuffix("partitioned roll out complete: 3 new pods have been updated...\n"), "\(rollout3)")
        #expect(cells(try c.ok(["get", "pods"])) == cells("""
            NAME             READY   STATUS    RESTARTS   AGE
            stateful-pvc-0   1/1     Running   0          60s
            stateful-pvc-1   1/1     Running   0          30s
            stateful-pvc-2   1/1     Running   0          10s

            """))
        #expect(cells(try c.ok(["get", "sts", "-o", "wide"])) == cells("""
            NAME           READY   AGE   CONTAINERS   IMAGES
            stateful-pvc   3/3     60s   container    kubetm/app

            """))
        let claims = try c.ok(["get", "pvc", "--no-headers", "-o", "custom-columns=NAME:.metadata.name,STATUS:.status.phase"])
        #expect(claims == "volume-stateful-pvc-0   Bound\nvolume-stateful-pvc-1   Bound\nvolume-stateful-pvc-2   Bound\n")
        var volumes: [String] = []
        for i in 0..<3 {
            volumes.append(c.jsonpath(["pvc", "volume-stateful-pvc-\(i)"], "{.spec.volumeName}") ?? "")
            // Each pod writes its identity into its own volume.
            try c.ok(["exec", "stateful-pvc-\(i)", "--", "sh", "-c", "echo pod-\(i) > /applog/identity"])
        }
        #expect(Set(volumes).count == 3 && !volumes.contains(""), "\(volumes)")

        // Scale 3 -> 0: the pods go, the claims stay Bound to their volumes.
        #expect(try c.ok(["scale", "sts", "stateful-pvc", "--replicas=0"]) == "statefulset.apps/stateful-pvc scaled\n")
        // kubectl wait --for=delete on the pod deleted last (ordinal 0, highest first): it exists now.
        try c.ok(["wait", "--for=delete", "pod/stateful-pvc-0", "--timeout=120s"], timeout: 150)
        try c.waitFor(["pods", "-l", "type=db2"], "{.items[*].metadata.name}", toBe: "", timeout: 120)
        let none = try c.kubectlRun(["get", "pods"])
        #expect(none.status == 0 && none.stdout == "" && none.stderr == "No resources found in default namespace.\n", "\(none)")
        #expect(cells(try c.ok(["get", "sts"])) == cells("""
            NAME           READY   AGE
            stateful-pvc   0/0     60s

            """))
        #expect(try c.ok(["get", "pvc", "--no-headers", "-o", "custom-columns=NAME:.metadata.name,STATUS:.status.phase,VOLUME:.spec.volumeName"])
                    .split(separator: "\n").map { tableCells(String($0)) } == (0..<3).map { ["volume-stateful-pvc-\($0)", "Bound", volumes[$0]] })

        // Scale 0 -> 3: pod N binds claim N again, with the data it wrote.
        #expect(try c.ok(["scale", "sts", "stateful-pvc", "--replicas=3"]) == "statefulset.apps/stateful-pvc scaled\n")
        try c.ok(["rollout", "status", "sts/stateful-pvc", "--timeout=180s"], timeout: 200)
        for i in 0..<3 {
            #expect(c.jsonpath(["pod", "stateful-pvc-\(i)"], "{.spec.volumes[0].persistentVolumeClaim.claimName}") == "volume-stateful-pvc-\(i)")
            #expect(c.jsonpath(["pvc", "volume-stateful-pvc-\(i)"], "{.spec.volumeName}") == volumes[i])
            #expect(try c.ok(["exec", "stateful-pvc-\(i)", "--", "cat", "/applog/identity"]) == "pod-\(i)\n")
        }
        #expect(try c.ok(["exec", "stateful-pvc-0", "--", "ls", "/applog"]) == "identity\nserver.log\n")

        // describe: kubectl's layout from the server's objects and events.
        let sts = try c.ok(["describe", "sts", "stateful-pvc"])
        for (key, value, indent) in [("Name", "stateful-pvc", 0), ("Namespace", "default", 0), ("Selector", "type=db2", 0),
                                     ("Replicas", "3 desired | 3 total", 0), ("Update Strategy", "RollingUpdate", 0), ("Partition", "0", 2),
                                     ("Pods Status", "3 Running / 0 Waiting / 0 Succeeded / 0 Failed", 0), ("Volume Claims", "", 0),
                                     ("Name", "volume", 2), ("StorageClass", "fast", 2), ("Capacity", "1G", 2), ("Access Modes", "[ReadWriteOnce]", 2)] {
            #expect(describeHas(sts, key, value, indent: indent), "describe sts lacks \(key): \(value):\n\(sts)")
        }
        #expect(sts.contains("create Pod stateful-pvc-2 in StatefulSet stateful-pvc successful"), "\(sts)")
        #expect(sts.contains("create Claim volume-stateful-pvc-1 Pod stateful-pvc-1 in StatefulSet stateful-pvc success"), "\(sts)")
        let pvc = try c.ok(["describe", "pvc", "volume-stateful-pvc-0"])
        for (key, value) in [("Name", "volume-stateful-pvc-0"), ("StorageClass", "fast"), ("Status", "Bound"), ("Volume", volumes[0]),
                             ("Capacity", "1G"), ("Access Modes", "RWO"), ("VolumeMode", "Filesystem"), ("Used By", "stateful-pvc-0"),
                             ("Finalizers", "[kubernetes.io/pvc-protection]")] {
            #expect(describeHas(pvc, key, value), "describe pvc lacks \(key): \(value):\n\(pvc)")
        }
        let pod = try c.ok(["describe", "pod", "stateful-pvc-1"])
        for (key, value, indent) in [("Name", "stateful-pvc-1", 0), ("Status", "Running", 0), ("Controlled By", "StatefulSet/stateful-pvc", 0),
                                     ("ClaimName", "volume-stateful-pvc-1", 4), ("Type", "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)", 4)] {
            #expect(describeHas(pod, key, value, indent: indent), "describe pod lacks \(key): \(value):\n\(pod)")
        }

        let node = try c.ok(["describe", "node", "k8s-node1"])
        for (key, value, indent) in [("Name", "k8s-node1", 0), ("Roles", "<none>", 0), ("Taints", "<none>", 0), ("Unschedulable", "false", 0),
                                     ("HolderIdentity", "k8s-node1", 2), ("pods", "110", 2)] {
            #expect(describeHas(node, key, value, indent: indent), "describe node lacks \(key): \(value):\n\(node)")
        }
        let sc = try c.ok(["describe", "sc", "fast"])
        for (key, value) in [("Name", "fast"), ("IsDefaultClass", "No"), ("Provisioner", "cairn.io/local-path"), ("ReclaimPolicy", "Delete"),
                             ("VolumeBindingMode", "Immediate"), ("AllowVolumeExpansion", "True")] {
            #expect(describeHas(sc, key, value), "describe sc lacks \(key): \(value):\n\(sc)")
        }
        let pv = try c.ok(["describe", "pv", volumes[1]])
        for (key, value) in [("Name", volumes[1]), ("StorageClass", "fast"), ("Status", "Bound"), ("Claim", "default/volume-stateful-pvc-1"),
                             ("Reclaim Policy", "Delete"), ("Access Modes", "RWO"), ("VolumeMode", "Filesystem"), ("Capacity", "1G")] {
            #expect(describeHas(pv, key, value), "describe pv lacks \(key): \(value):\n\(pv)")
        }
        let svc = try c.ok(["describe", "svc", "stateful-headless"])
        for (key, value) in [("Name", "stateful-headless"), ("Selector", "type=db2"), ("Type", "ClusterIP"), ("IP", "None"), ("Port", "<unset>  80/TCP"),
                             ("TargetPort", "8080/TCP")] {
            #expect(describeHas(svc, key, value), "describe svc lacks \(key): \(value):\n\(svc)")
        }

        // delete -f: the set and its pods go; the claims stay (whenDeleted: Retain), until deleted too.
        #expect(try c.ok(["delete", "-f", manifest], timeout: 150) == "service \"stateful-headless\" deleted\nstatefulset.apps \"stateful-pvc\" deleted\n")
        // (Polled rather than `kubectl wait -l`, which fails with "no matching resources found" once they are gone.)
        try c.waitFor(["pods", "-l", "type=db2"], "{.items[*].metadata.name}", toBe: "", timeout: 120)
        let gone = try c.kubectlRun(["get", "sts,svc"])
        #expect(gone.stdout == "" && gone.stderr == "No resources found in default namespace.\n", "\(gone)")
        #expect(try c.ok(["get", "pvc", "-o", "name"]) == "persistentvolumeclaim/volume-stateful-pvc-0\npersistentvolumeclaim/volume-stateful-pvc-1\npersistentvolumeclaim/volume-stateful-pvc-2\n")
        #expect(try c.ok(["delete", "pvc", "--all"], timeout: 150)
                    == "persistentvolumeclaim \"volume-stateful-pvc-0\" deleted\npersistentvolumeclaim \"volume-stateful-pvc-1\" deleted\npersistentvolumeclaim \"volume-stateful-pvc-2\" deleted\n")
        try c.waitFor(["pv"], "{.items[*].metadata.name}", toBe: "")
        let nothing = try c.kubectlRun(["get", "pv"])
        #expect(nothing.stdout == "" && nothing.stderr == "No resources found\n", "\(nothing)")
    }
}
