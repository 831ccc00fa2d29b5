import CairnControl
import CairnCore
import CairnCrashPoint
import CairnStore
import Foundation

/// Performs what the planners decided, and nothing else: object writes through the write path (staged,
/// committed by the loop), history rows, events, and node work handed to the NodeWorker. A failed
/// action is logged and left for the next plan (level-triggered).
extension ControlPlane {
    func perform(_ action: Action, by controller: Controller) {
        do {
            try performOrThrow(action, by: controller)
            CrashPoint.reached(action.crashPoint(by: controller))
            logger.debug("controller acted", metadata: ["controller": "\(controller)", "action": "\(action.summary)"])
        } catch let s as Status where s.reason == .conflict || s.reason == .notFound {
            logger.debug("action will be planned again", metadata: ["controller": "\(controller)", "action": "\(action.summary)", "why": "\(s.message)"])
        } catch {
            logger.warning("action failed", metadata: ["controller": "\(controller)", "action": "\(action.summary)", "error": "\(error)"])
        }
    }

    private func performOrThrow(_ action: Action, by controller: Controller) throws {
        switch action {
        case .create(let obj):
            // Already there is success: the plan was made before an earlier create of it committed.
            if index.object(ObjectRef(obj)) == nil { try insert(obj) }
        case .update(let obj):
            try write(obj, requireVersion: true)
        case .delete(let kind, let namespace, let name, let uid):
            guard let obj = index.object(ObjectRef(kind, NamespacedName(kind.namespaced ? namespace : nil, name))), obj.uid == uid else { return }
            if obj.metadata.isDeleting {
                // Nothing left to wait for (no finalizers, no node work): remove it now.
                guard !waitsBeforeRemoval(obj) || isFinishedPod(obj) else { return }
                try remove(obj)
            } else {
                _ = try deleteObject(obj)
            }
        case .event(let object, let type, let reason, let message, let source):
            recordEvent(object, type: type, reason: reason, message: message, source: source ?? controller.rawValue)
        case .history(let what, let claim, let volume, let node, let pod, let detail):
            try store.stage { w in
                _ = try w.appendHistory(HistoryEntry(at: clock.now(), namespace: claim.namespace ?? "", claim: claim.name ?? "",
                                                     claimUID: claim.uid ?? "", volume: volume, node: node, pod: pod,
                                                     action: what, detail: detail))
            }
        case .recheck(let ref, let after):
            rechecks.append((Date().addingTimeInterval(after), controller, ref))
        case .provision(let volume, let directory, let succeeded):
            if sweeping { return heldBackBySweep.append((action, controller)) }
            startProvision(volume, directory, succeeded: succeeded, by: controller)
        case .reclaimDelete(let volume, let directory):
            startReclaim(volume, directory)
        case .mountPod(let pod, let mounts, let arrival):
            startMount(pod, mounts, arrival: arrival)
        case .unmountPod(let pod, let mounts):
            startUnmount(pod, mounts)
        case .resizeVolume(let volume, let node, let bytes):
            startResize(volume, node: node, bytes: bytes)
        }
    }

    /// A pod whose node agent work is done (its volumes unmounted): the kubelet's delete removes it.
    private func isFinishedPod(_ obj: any KubeObject) -> Bool {
        guard obj is Pod, (obj.metadata.finalizers ?? []).isEmpty else { return false }
        let key = NamespacedName(obj)
        return index.observed.mounted[key] == nil && !index.observed.inFlight.contains(.mount(key))
            && !index.observed.inFlight.contains(.unmount(key))
    }
}
