import CairnControl
import CairnCore
import CairnStore
import Foundation

/// What the daemon owns and keeps up: its own objects at start (Nodes, namespaces, the served
/// classes), the usage figures, and orphaned empty volume directories.
extension ControlPlane {
    /// Creates or refreshes an object the daemon owns (Nodes, the default namespaces, the served
    /// classes). A class's fixed fields may not change (as for any update).
    public func ensure(_ object: any KubeObject) throws(Status) {
        let kind = type(of: object).kind
        let desired = Defaulting.apply(object)
        guard let existing = index.object(ObjectRef(desired)) else {
            if kind != .node && kind != .namespace {
                let errors = Validation.validate(desired)
                if !errors.isEmpty { throw Status.invalid(kind, desired.name, errors) }
            }
            try insert(desired)
            return
        }
        var o = desired
        o.metadata.uid = existing.metadata.uid
        o.metadata.creationTimestamp = existing.metadata.creationTimestamp
        o.metadata.resourceVersion = existing.metadata.resourceVersion
        o.metadata.generation = existing.metadata.generation
        if var node = o as? Node, let old = existing as? Node {
            // The node lifecycle controller owns the Ready condition and the unreachable taint; the
            // daemon's other conditions (how capacity is enforced) are as it finds them now.
            let ready = old.status?.conditions?.filter { $0.type == NodeConditionType.ready } ?? []
            let others = (node.status?.conditions ?? []).filter { $0.type != NodeConditionType.ready }
            node.status?.conditions = ready + others
            node.spec = old.spec
            o = node
        }
        if var ns = o as? Namespace, let old = existing as? Namespace { ns.status = old.status; o = ns }
        if kind == .storageClass {
            let errors = Validation.validateUpdate(old: existing, new: o)
            if !errors.isEmpty { throw Status.invalid(kind, o.name, errors) }
        }
        if (try? JSONValue(encoding: existing)) != (try? JSONValue(encoding: o)) { try write(o, requireVersion: false) }
    }

    /// Commits what start-up staged.
    public func commitNow() throws(Status) {
        commitStaged()
    }

    /// The node agent reports the nodes it serves (at start; later the heartbeat does).
    public func observeServedNodes(_ served: Set<String>) {
        let now = clock.now()
        for node in index.localNodes where served.contains(node) && index.observed.servedNodes[node] == nil {
            index.observed.servedNodes[node] = now
            queues.merge(Triggers.observed(node: node, in: index))
        }
    }

    /// After a takeover of the node mounts, the pods whose volumes stayed mounted are observed as
    /// mounted, so they stay Ready and nothing is mounted twice (run at start, before the controllers).
    public func adoptMountedPods() -> Int {
        var adopted = 0
        for (key, pod) in index.pods where !pod.metadata.isDeleting && index.localNodes.contains(pod.spec.nodeName ?? "") {
            let resolved = NodeAgentPlanner.resolvedMounts(pod, in: index)
            guard let mounts = resolved, agent.adoptPod(namespace: key.namespace, pod: key.name, mounts: mounts) else { continue }
            index.observed.mounted[key] = NodeObservations.MountedPod(uid: pod.uid, mounts: mounts)
            adopted += 1
        }
        return adopted
    }

    /// Saves the filesystem's usage figures of mounted volumes, so `cairn bindings` shows them for
    /// unmounted ones too; a figure that did not change is not written again.
    func recordUsage() async {
        let names = index.volumes.keys.sorted()
        let live = await nodeWorker.run { [agent] in
            names.compactMap { name in agent.usage(volume: name).map { (name, $0) } }
        }
        guard !live.isEmpty, let recorded = try? store.read({ try $0.allUsage() }) else { return }
        let now = clock.now()
        let changed = live.filter { name, u in recorded[name].map { $0.usedBytes != u.used || $0.capacityBytes != u.capacity } ?? true }
        guard !changed.isEmpty else { return }
        _ = try? store.stage { w in
            for (name, u) in changed { try w.recordUsage(volume: name, used: u.used, capacity: u.capacity, at: now) }
        }
        commitStaged()
    }

    /// Removes empty volume directories that no PersistentVolume names (see
    /// NodeAgent.sweepOrphanDirectories); run when every write so far is committed.
    public func sweepOrphanDirectories(reportKept: Bool) async {
        commitStaged()
        var known = Set<String>()
        for pv in index.volumes.values {
            guard let path = pv.spec.local?.path else { continue }
            known.insert(String(path.split(separator: "/").last ?? ""))
        }
        // A directory being made has no volume yet: sweep only while no provisioning runs, and hold
        // new ones back until the sweep is over.
        if !index.observed.provisioning.isEmpty { return }
        sweeping = true
        let (removed, kept) = await nodeWorker.run { [agent, known] in agent.sweepOrphanDirectories(known: known) }
        sweeping = false
        let held = heldBackBySweep
        heldBackBySweep = []
        for (action, controller) in held { perform(action, by: controller) }
        for r in removed {
            logger.notice("removed an empty volume directory no PersistentVolume names (left by an interrupted provisioning)",
                          metadata: ["directory": "\(r)"])
        }
        if reportKept {
            for k in kept {
                logger.info("kept a volume directory that belongs to no PersistentVolume and holds data; remove it by hand if it is not wanted",
                            metadata: ["directory": "\(k)"])
            }
        }
    }
}
