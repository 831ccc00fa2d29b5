import CairnControl
import CairnCore

/// What the API server does to a new object after defaulting and validation: the DefaultStorageClass
/// and StorageObjectInUseProtection admission plugins, and each kind's initial status (the registry
/// strategies' PrepareForCreate). Objects the controllers create go through the same function, so both
/// paths agree.
enum Admission {
    static func admitCreate(_ object: any KubeObject, defaultClass: StorageClass?) -> any KubeObject {
        switch object {
        case var pvc as PersistentVolumeClaim:
            if pvc.spec.storageClassName == nil, let defaultClass { pvc.spec.storageClassName = defaultClass.name }
            pvc.metadata.addFinalizer(Well.pvcProtection)
            pvc.status = PersistentVolumeClaimStatus()
            pvc.status?.phase = .pending
            return pvc
        case var pv as PersistentVolume:
            pv.metadata.addFinalizer(Well.pvProtection)
            if pv.status?.phase == nil {
                pv.status = PersistentVolumeStatus()
                pv.status?.phase = pv.spec.claimRef == nil ? .available : .bound
            }
            return pv
        case var pod as Pod:
            if pod.status?.phase == nil {
                pod.status = PodStatus()
                pod.status?.phase = .pending
            }
            return pod
        case var ns as Namespace:
            ns.status = NamespaceStatus(phase: .active)
            return ns
        default:
            return object
        }
    }
}
