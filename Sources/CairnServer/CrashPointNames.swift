import CairnControl
import CairnCore

/// The crash point each performed action reaches (ActionExecutor), named `<controller>:<step>`:
/// `statefulset-controller:create-Pod`, `persistentvolume-controller:history-bound`,
/// `garbage-collector:delete-PersistentVolumeClaim`, `kubelet:node-mount-pod`. One name per kind of
/// step, so a crash test can stop a scale-up, a binding or a namespace deletion between any two of
/// its writes. The controller is its name's first word (`external-resizer`).
extension Action {
    func crashPoint(by controller: Controller) -> String {
        let who = controller.rawValue.split(separator: " ").first.map(String.init) ?? controller.rawValue
        return "\(who):\(crashStep)"
    }

    var crashStep: String {
        switch self {
        case .create(let o): "create-\(type(of: o).kind.rawValue)"
        case .update(let o): "update-\(type(of: o).kind.rawValue)"
        case .delete(let kind, _, _, _): "delete-\(kind.rawValue)"
        case .event: "event"
        case .history(let what, _, _, _, _, _): "history-\(what.rawValue)"
        case .recheck: "recheck"
        case .provision: "node-provision"
        case .reclaimDelete: "node-reclaim-delete"
        case .mountPod: "node-mount-pod"
        case .unmountPod: "node-unmount-pod"
        case .resizeVolume: "node-resize-volume"
        }
    }
}
