import CairnControl
import CairnCore

/// What the API server does to an object on its way in, after validation: defaults, finalizers and the
/// default StorageClass (the DefaultStorageClass and StorageObjectInUseProtection admission plugins).
/// Objects the controllers create go through the same function, so both paths agree.
enum Admission {
    static func admitCreate(_ object: any KubeObject, classes: [StorageClass]) -> any KubeObject {
        switch object {
        case var pvc as PersistentVolumeClaim:
            if pvc.spec.storageClassName == nil, let def = defaultClass(classes) {
                pvc.spec.storageClassName = def.name
            }
            pvc.metadata.addFinalizer(Well.pvcProtection)
            if pvc.spec.volumeMode == nil { pvc.spec.volumeMode = "Filesystem" }
            pvc.status = PersistentVolumeClaimStatus()
            pvc.status?.phase = "Pending"
            return pvc
        case var pv as PersistentVolume:
            pv.metadata.addFinalizer(Well.pvProtection)
            if pv.spec.persistentVolumeReclaimPolicy == nil { pv.spec.persistentVolumeReclaimPolicy = "Retain" }
            if pv.spec.volumeMode == nil { pv.spec.volumeMode = "Filesystem" }
            if pv.status?.phase == nil {
                pv.status = PersistentVolumeStatus()
                pv.status?.phase = pv.spec.claimRef == nil ? "Available" : "Bound"
            }
            return pv
        case var pod as Pod:
            pod.spec = defaultPodSpec(pod.spec)
            if pod.status?.phase == nil {
                pod.status = PodStatus()
                pod.status?.phase = "Pending"
            }
            return pod
        case var sts as StatefulSet:
            sts.spec = defaultStatefulSetSpec(sts.spec)
            return sts
        case var rs as ReplicaSet:
            if rs.spec.replicas == nil { rs.spec.replicas = 1 }
            if let t = rs.spec.template { rs.spec.template?.spec = defaultPodSpec(t.spec) }
            return rs
        case var sc as StorageClass:
            if sc.reclaimPolicy == nil { sc.reclaimPolicy = "Delete" }
            if sc.volumeBindingMode == nil { sc.volumeBindingMode = "Immediate" }
            return sc
        case var ns as Namespace:
            ns.status = NamespaceStatus(phase: "Active")
            return ns
        default:
            return object
        }
    }

    static func defaultClass(_ classes: [StorageClass]) -> StorageClass? {
        // Several defaults: Kubernetes picks the newest one.
        classes.filter { $0.isDefault && !$0.metadata.isDeleting }
            .max { ($0.metadata.creationTimestamp?.date ?? .distantPast, $0.name) < ($1.metadata.creationTimestamp?.date ?? .distantPast, $1.name) }
    }

    static func defaultPodSpec(_ spec: PodSpec) -> PodSpec {
        var s = spec
        if s.restartPolicy == nil { s.restartPolicy = "Always" }
        if s.terminationGracePeriodSeconds == nil { s.terminationGracePeriodSeconds = 30 }
        if s.schedulerName == nil { s.schedulerName = "default-scheduler" }
        if s.dnsPolicy == nil { s.dnsPolicy = "ClusterFirst" }
        return s
    }

    static func defaultStatefulSetSpec(_ spec: StatefulSetSpec) -> StatefulSetSpec {
        var s = spec
        if s.replicas == nil { s.replicas = 1 }
        if s.podManagementPolicy == nil { s.podManagementPolicy = "OrderedReady" }
        if s.revisionHistoryLimit == nil { s.revisionHistoryLimit = 10 }
        if s.updateStrategy == nil {
            s.updateStrategy = .object(["type": .string("RollingUpdate"), "rollingUpdate": .object(["partition": .int(0)])])
        }
        var policy = s.persistentVolumeClaimRetentionPolicy ?? StatefulSetPersistentVolumeClaimRetentionPolicy()
        if policy.whenDeleted == nil { policy.whenDeleted = "Retain" }
        if policy.whenScaled == nil { policy.whenScaled = "Retain" }
        s.persistentVolumeClaimRetentionPolicy = policy
        s.template.spec = defaultPodSpec(s.template.spec)
        for i in (s.volumeClaimTemplates ?? []).indices where s.volumeClaimTemplates?[i].spec.volumeMode == nil {
            s.volumeClaimTemplates?[i].spec.volumeMode = "Filesystem"
        }
        return s
    }
}
