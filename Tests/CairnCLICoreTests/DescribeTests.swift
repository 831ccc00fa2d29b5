@testable import CairnCLICore
import CairnCore
import Foundation
import Testing

/// `describe` layouts, whole: kubectl's fields as kubectl 1.32 prints them for the same objects (checked
/// against the real kubectl talking to a Cairn daemon), Cairn's storage facts, then the Events.
struct DescribeTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func context() -> DescribeContext { DescribeContext(now: Fixtures.now, timeZone: utc) }

    static func event(_ object: any KubeObject, _ reason: String, _ message: String, type: String = "Normal",
                      from: String, count: Int32 = 1, age: TimeInterval, firstAge: TimeInterval? = nil) -> Event {
        var e = Event(metadata: Fixtures.meta("\(object.name).\(reason)"), involvedObject: object.reference())
        e.reason = reason
        e.message = message
        e.type = type
        e.count = count
        e.source = EventSource(component: from)
        e.lastTimestamp = Time(Fixtures.now.addingTimeInterval(-age))
        e.firstTimestamp = Time(Fixtures.now.addingTimeInterval(-(firstAge ?? age)))
        return e
    }

    static var statefulPod: Pod {
        var p = Fixtures.pod("web-0", node: "k8s-node1", claim: "data-web-0", labels: ["app": "web", "statefulset.kubernetes.io/pod-name": "web-0"])
        p.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "uid-web", controller: true)]
        p.status?.hostIP = "127.0.0.1"
        p.status?.startTime = Time(Fixtures.now.addingTimeInterval(-290))
        p.status?.conditions = [PodCondition(type: "PodReadyToStartContainers", status: .true), PodCondition(type: "Ready", status: .true),
                                PodCondition(type: "PodScheduled", status: .true)]
        p.spec.containers[0].ports = try! JSONValue.parse(#"[{"containerPort": 80}]"#)
        return p
    }

    @Test func pod() {
        let p = Self.statefulPod
        var c = Self.context()
        c.events = [Self.event(p, "Scheduled", "Successfully assigned default/web-0 to k8s-node1", from: "default-scheduler", age: 290),
                    Self.event(p, "FailedMount", "waiting for the volume", type: "Warning", from: "kubelet", count: 3, age: 60, firstAge: 280),
                    Self.event(Fixtures.pod("other"), "Scheduled", "not about web-0", from: "default-scheduler", age: 10)]
        c.history = [("data-web-0", [HistoryEntry(at: Time(Fixtures.now.addingTimeInterval(-290)), action: "mounted", volume: "pvc-1",
                                                  node: "k8s-node1", pod: "web-0", detail: "/pods/web-0/volumes/data")])]
        #expect(Describer.describe(p, c) == """
        Name:           web-0
        Namespace:      default
        Node:           k8s-node1/127.0.0.1
        Start Time:     Fri, 15 Jan 2027 07:55:10 +0000
        Labels:         app=web
                        statefulset.kubernetes.io/pod-name=web-0
        Annotations:    <none>
        Status:         Running
        IP:             
        IPs:            <none>
        Controlled By:  StatefulSet/web
        Containers:
          app:
            Image:        nginx
            Port:         80/TCP
            Host Port:    0/TCP
            Environment:  <none>
            Mounts:
              /data from data (rw)
        Conditions:
          Type                        Status
          PodReadyToStartContainers   True 
          Ready                       True 
          PodScheduled                True 
        Volumes:
          data:
            Type:        PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)
            ClaimName:   data-web-0
            ReadOnly:    false
        QoS Class:       BestEffort
        Node-Selectors:  <none>
        Tolerations:     <none>
        Binding History:
          data-web-0:
            Time                  Action   Volume  Node       Pod    Detail
            ----                  ------   ------  ----       ---    ------
            2027-01-15T07:55:10Z  mounted  pvc-1   k8s-node1  web-0  /pods/web-0/volumes/data
        Events:
          Type     Reason       Age                  From               Message
          ----     ------       ----                 ----               -------
          Normal   Scheduled    4m50s                default-scheduler  Successfully assigned default/web-0 to k8s-node1
          Warning  FailedMount  60s (x3 over 4m40s)  kubelet            waiting for the volume

        """)
    }

    static var boundClaim: PersistentVolumeClaim {
        var c = Fixtures.claim("data-web-0", "1Gi", phase: .bound, volume: "pvc-1", labels: ["app": "web"])
        c.metadata.finalizers = ["kubernetes.io/pvc-protection"]
        c.metadata.annotations = ["pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/selected-node": "k8s-node1"]
        c.spec.volumeMode = "Filesystem"
        return c
    }

    @Test func claimWithItsStorage() {
        var c = Self.context()
        c.pods = [Self.statefulPod, Fixtures.pod("unrelated")]
        c.usage = [ClaimUsage(namespace: "default", claim: "data-web-0", volume: "pvc-1", node: "k8s-node1",
                              path: "/data/k8s-node1/pvc-1_default_data-web-0", usedBytes: 12288,
                              mounts: [.init(pod: "web-0", hostPath: "/pods/default/web-0/volumes/data")])]
        c.history = [("data-web-0", [])]
        #expect(Describer.describe(Self.boundClaim, c) == """
        Name:          data-web-0
        Namespace:     default
        StorageClass:  fast
        Status:        Bound
        Volume:        pvc-1
        Labels:        app=web
        Annotations:   pv.kubernetes.io/bind-completed: yes
                       volume.kubernetes.io/selected-node: k8s-node1
        Finalizers:    [kubernetes.io/pvc-protection]
        Capacity:      1Gi
        Access Modes:  RWO
        VolumeMode:    Filesystem
        Used By:       web-0
        Node:          k8s-node1
        Directory:     /data/k8s-node1/pvc-1_default_data-web-0
        Used:          12Ki (12288 bytes, as Cairn's filesystem counts them)
        Mounted At:    /pods/default/web-0/volumes/data (pod web-0)
        Binding History:
          <none>
        Events:  <none>

        """)
    }

    static func volume(_ name: String, node: String, claim: String?, size: String, phase: VolumePhase = .bound) -> PersistentVolume {
        var spec = PersistentVolumeSpec()
        spec.capacity = ["storage": try! Quantity(parsing: size)]
        spec.accessModes = ["ReadWriteOnce"]
        spec.persistentVolumeReclaimPolicy = "Delete"
        spec.storageClassName = "fast"
        spec.claimRef = claim.map { ObjectReference(kind: "PersistentVolumeClaim", namespace: "default", name: $0, uid: "uid-\($0)") }
        spec.local = LocalVolumeSource(path: "/data/\(node)/\(name)")
        spec.nodeAffinity = VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: [node])])]))
        spec.volumeMode = "Filesystem"
        var pv = PersistentVolume(metadata: Fixtures.meta(name, namespace: nil), spec: spec)
        pv.setTypeMeta()
        var status = PersistentVolumeStatus()
        status.phase = phase
        pv.status = status
        return pv
    }

    @Test func volume() {
        var pv = Self.volume("pvc-1", node: "k8s-node1", claim: "data-web-0", size: "1Gi")
        pv.metadata.finalizers = ["kubernetes.io/pv-protection"]
        pv.metadata.annotations = ["pv.kubernetes.io/provisioned-by": "cairn.io/local-path"]
        var c = Self.context()
        c.events = [Self.event(pv, "Released", "not about this volume", from: "x", age: 1)].map { e in var e = e; e.involvedObject.uid = "other"; return e }
        #expect(Describer.describe(pv, c) == """
        Name:              pvc-1
        Labels:            <none>
        Annotations:       pv.kubernetes.io/provisioned-by: cairn.io/local-path
        Finalizers:        [kubernetes.io/pv-protection]
        StorageClass:      fast
        Status:            Bound
        Claim:             default/data-web-0
        Reclaim Policy:    Delete
        Access Modes:      RWO
        VolumeMode:        Filesystem
        Capacity:          1Gi
        Node Affinity:     
          Required Terms:  
            Term 0:        kubernetes.io/hostname in [k8s-node1]
        Message:           
        Source:
            Type:  LocalVolume (a persistent volume backed by local storage on a node)
            Path:  /data/k8s-node1/pvc-1
        Events:    <none>

        """)
    }

    @Test func storageClass() {
        var sc = StorageClass(metadata: Fixtures.meta("standard", namespace: nil), provisioner: "cairn.io/local-path")
        sc.metadata.annotations = [StorageClass.defaultClassAnnotation: "true"]
        sc.parameters = ["placement": "spread"]
        sc.volumeBindingMode = "WaitForFirstConsumer"
        #expect(Describer.describe(sc, Self.context()) == """
        Name:                  standard
        IsDefaultClass:        Yes
        Annotations:           storageclass.kubernetes.io/is-default-class=true
        Provisioner:           cairn.io/local-path
        Parameters:            placement=spread
        AllowVolumeExpansion:  <unset>
        MountOptions:          <none>
        ReclaimPolicy:         Delete
        VolumeBindingMode:     WaitForFirstConsumer
        Events:                <none>

        """)
    }

    @Test func nodeWithItsStorageAndVolumes() {
        var n = CairnCore.Node(metadata: Fixtures.meta("k8s-node1", namespace: nil, labels: ["kubernetes.io/hostname": "k8s-node1"], age: 3600))
        n.metadata.annotations = [CairnCore.Node.dataRootAnnotation: "/data/k8s-node1"]
        var status = NodeStatus()
        status.capacity = ["ephemeral-storage": try! Quantity(parsing: "10Gi")]
        status.allocatable = ["ephemeral-storage": try! Quantity(parsing: "10Gi")]
        var ready = NodeCondition(type: "Ready", status: .true, reason: "KubeletReady", message: "cairn node agent is serving volumes")
        ready.lastHeartbeatTime = Time(Fixtures.now.addingTimeInterval(-10))
        ready.lastTransitionTime = Time(Fixtures.now.addingTimeInterval(-3600))
        status.conditions = [ready]
        status.addresses = [try! JSONValue.parse(#"{"type": "Hostname", "address": "k8s-node1"}"#)]
        n.status = status
        var released = Self.volume("pvc-2", node: "k8s-node1", claim: "old", size: "2G", phase: .released)
        released.spec.persistentVolumeReclaimPolicy = "Retain"
        var deleting = Self.volume("pvc-3", node: "k8s-node1", claim: nil, size: "1Gi")
        deleting.metadata.deletionTimestamp = Time(Fixtures.now)
        var waiting = Fixtures.claim("data-web-1", "512Mi", phase: .pending)
        waiting.metadata.annotations = [NodeStorage.selectedNodeAnnotation: "k8s-node1"]
        var c = Self.context()
        c.volumes = [Self.volume("pvc-1", node: "k8s-node1", claim: "data-web-0", size: "1Gi"), released, deleting,
                     Self.volume("pvc-9", node: "k8s-node2", claim: "elsewhere", size: "5Gi")]
        c.claims = [waiting]
        c.storageClasses = [StorageClass(metadata: Fixtures.meta("fast", namespace: nil), provisioner: "cairn.io/local-path")]
        c.pods = [Self.statefulPod, Fixtures.pod("elsewhere", node: "k8s-node2")]
        #expect(Describer.describe(n, c) == """
        Name:               k8s-node1
        Roles:              <none>
        Labels:             kubernetes.io/hostname=k8s-node1
        Annotations:        cairn.io/data-root: /data/k8s-node1
        CreationTimestamp:  Fri, 15 Jan 2027 07:00:00 +0000
        Taints:             <none>
        Unschedulable:      false
        Conditions:
          Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message
          ----    ------  -----------------                 ------------------                ------         -------
          Ready   True    Fri, 15 Jan 2027 07:59:50 +0000   Fri, 15 Jan 2027 07:00:00 +0000   KubeletReady   cairn node agent is serving volumes
        Addresses:
          Hostname:  k8s-node1
        Capacity:
          ephemeral-storage:  10Gi
        Allocatable:
          ephemeral-storage:  10Gi
        Non-terminated Pods:  (1 in total)
          Namespace           Name     Age
          ---------           ----     ---
          default             web-0    5m
        Storage:
          Data Root:    /data/k8s-node1
          Allocatable:  10Gi
          Provisioned:  2.9Gi (3073741824 bytes) in 2 volumes
          Reserved:     512Mi for 1 claim waiting for a volume
          Free:         6.6Gi (7126805504 bytes)
        Volumes:
          Name   Claim               Capacity  Status       Age
          ----   -----               --------  ------       ---
          pvc-1  default/data-web-0  1Gi       Bound        5m
          pvc-2  default/old         2G        Released     5m
          pvc-3  <none>              1Gi       Terminating  5m
        Events:  <none>

        """)
    }

    @Test func statefulSetAndReplicaSet() throws {
        let template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: Fixtures.pod("x", node: nil).spec)
        var spec = StatefulSetSpec(template: PodTemplateSpec(metadata: template.metadata, spec: PodSpec(containers: template.spec.containers)))
        spec.replicas = 2
        spec.selector = LabelSelector(matchLabels: ["app": "web"])
        var claimSpec = PersistentVolumeClaimSpec()
        claimSpec.accessModes = ["ReadWriteOnce"]
        claimSpec.resources = ResourceRequirements(requests: ["storage": try Quantity(parsing: "1Gi")])
        claimSpec.storageClassName = "fast"
        spec.volumeClaimTemplates = [PersistentVolumeClaimTemplate(metadata: ObjectMeta(name: "data"), spec: claimSpec)]
        spec.persistentVolumeClaimRetentionPolicy = .init(whenDeleted: "Delete", whenScaled: "Retain")
        var sts = StatefulSet(metadata: Fixtures.meta("web"), spec: spec)
        var status = StatefulSetStatus()
        status.replicas = 1
        sts.status = status
        var c = Self.context()
        c.pods = [Self.statefulPod]
        #expect(Describer.describe(sts, c) == """
        Name:               web
        Namespace:          default
        CreationTimestamp:  Fri, 15 Jan 2027 07:55:00 +0000
        Selector:           app=web
        Labels:             <none>
        Annotations:        <none>
        Replicas:           2 desired | 1 total
        Update Strategy:    RollingUpdate
          Partition:        0
        Pods Status:        1 Running / 0 Waiting / 0 Succeeded / 0 Failed
        Pod Template:
          Labels:  app=web
          Containers:
           app:
            Image:         nginx
            Port:          <none>
            Host Port:     <none>
            Environment:   <none>
            Mounts:        <none>
          Volumes:         <none>
          Node-Selectors:  <none>
          Tolerations:     <none>
        Volume Claims:
          Name:          data
          StorageClass:  fast
          Labels:        <none>
          Annotations:   <none>
          Capacity:      1Gi
          Access Modes:  [ReadWriteOnce]
        Claim Retention:  whenDeleted=Delete, whenScaled=Retain
        Events:           <none>

        """)

        var rsSpec = ReplicaSetSpec()
        rsSpec.replicas = 1
        rsSpec.selector = LabelSelector(matchLabels: ["app": "web"])
        rsSpec.template = template
        var rs = ReplicaSet(metadata: Fixtures.meta("web-rs"), spec: rsSpec)
        var rsStatus = ReplicaSetStatus()
        rsStatus.replicas = 1
        rs.status = rsStatus
        #expect(Describer.describe(rs, c).hasPrefix("""
        Name:         web-rs
        Namespace:    default
        Selector:     app=web
        Labels:       <none>
        Annotations:  <none>
        Replicas:     1 current / 1 desired
        Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed
        Pod Template:
          Labels:  app=web

        """))
    }

    @Test func serviceAndNamespace() throws {
        var svc = Service(metadata: Fixtures.meta("web"))
        svc.spec = try JSONValue.parse(#"{"selector": {"app": "web"}, "clusterIP": "None", "ports": [{"port": 80, "targetPort": 8080, "name": "http"}]}"#)
        #expect(Describer.describe(svc, Self.context()) == """
        Name:                     web
        Namespace:                default
        Labels:                   <none>
        Annotations:              <none>
        Selector:                 app=web
        Type:                     ClusterIP
        IP Families:              <none>
        IP:                       None
        IPs:                      None
        Port:                     http  80/TCP
        TargetPort:               8080/TCP
        Endpoints:                <none>
        Session Affinity:         None
        Internal Traffic Policy:  Cluster
        Events:                   <none>

        """)
        var ns = Namespace(metadata: Fixtures.meta("team-a", namespace: nil, labels: ["kubernetes.io/metadata.name": "team-a"]))
        ns.status = NamespaceStatus(phase: .active)
        #expect(Describer.describe(ns, Self.context()) == """
        Name:         team-a
        Labels:       kubernetes.io/metadata.name=team-a
        Annotations:  <none>
        Status:       Active

        No resource quota.

        No LimitRange resource.

        """)
    }

    static let figures: [(Int, String, String)] = [
        (1, "20Gi", "20Gi"),
        (2, "2G", "2G"),
        (3, "19474836480", "18.1Gi (19474836480 bytes)"),
        (4, "262258959Ki", "250.1Gi (268553174016 bytes)"),
        (5, "0", "0"),
    ]

    @Test(arguments: figures)
    func storageFiguresReadAsPeopleRead(_ n: Int, _ quantity: String, _ expected: String) throws {
        #expect(Describer.figure(try Quantity(parsing: quantity)) == expected, "case \(n)")
    }
}
