import CairnCore

/// The node lifecycle controller (kubernetes `pkg/controller/nodelifecycle`) together with kubelet's
/// node status, for the nodes of this host. A node is served when this daemon's node agent runs it
/// and its filesystem session is alive; the agent's heartbeat is that observation, kept in memory
/// (`NodeObservations.servedNodes`), so an idle daemon writes nothing, and the Node object changes
/// only when the answer changes:
///
/// - served: Ready True (`KubeletReady`, "kubelet is posting ready status"), `lastHeartbeatTime` when
///   serving began, and no unreachable taint;
/// - not served (another daemon's `--node` set, or a filesystem session that died): Ready Unknown
///   (`NodeStatusUnknown`, "Kubelet stopped posting node status."), the taints
///   `node.kubernetes.io/unreachable` NoSchedule and NoExecute, so the scheduler places nothing there,
///   and every pod on it Ready False (MarkPodsNotReady).
public enum NodeLifecyclePlanner {
    public static let readyReason = "KubeletReady"
    public static let readyMessage = "kubelet is posting ready status"
    public static let unknownReason = "NodeStatusUnknown"
    public static let unknownMessage = "Kubelet stopped posting node status."

    public static func plan(_ s: ClusterSnapshot) -> [Action] {
        let index = ClusterIndex(s)
        return plan(index, keys: keys(index), now: s.now)
    }

    public static func keys(_ index: ClusterIndex) -> [ObjectRef] {
        index.nodes.keys.map { ObjectRef(.node, NamespacedName(nil, $0)) }
    }

    public static func plan(_ index: ClusterIndex, keys: [ObjectRef], now: Time) -> [Action] {
        keys.filter { $0.kind == .node }.map(\.key.name).sorted().compactMap { index.nodes[$0] }.flatMap { node in
            plan(index, node, now: now)
        }
    }

    static func plan(_ index: ClusterIndex, _ node: Node, now: Time) -> [Action] {
        let servedSince = index.localNodes.contains(node.name) ? index.observed.servedNodes[node.name] : nil
        var updated = node
        var status = node.status ?? NodeStatus()
        let previous = node.condition(NodeConditionType.ready)
        let ready: NodeCondition
        if let servedSince {
            ready = NodeCondition(type: NodeConditionType.ready, status: .true, reason: readyReason, message: readyMessage,
                                  lastHeartbeatTime: servedSince,
                                  lastTransitionTime: previous?.status == .true ? previous?.lastTransitionTime : now)
        } else {
            ready = NodeCondition(type: NodeConditionType.ready, status: .unknown, reason: unknownReason, message: unknownMessage,
                                  lastHeartbeatTime: previous?.lastHeartbeatTime,
                                  lastTransitionTime: previous?.status == .unknown ? previous?.lastTransitionTime : now)
        }
        var conditions = (status.conditions ?? []).filter { $0.type != NodeConditionType.ready }
        conditions.insert(ready, at: 0)
        status.conditions = conditions
        updated.status = status
        var spec = node.spec ?? NodeSpec()
        var taints = (spec.taints ?? []).filter { $0.key != Taint.unreachableKey }
        if servedSince == nil {
            for effect in [Taint.Effect.noSchedule, .noExecute] {
                let existing = spec.taints?.first { $0.key == Taint.unreachableKey && $0.effect == effect }
                taints.append(existing ?? Taint(key: Taint.unreachableKey, effect: effect, timeAdded: now))
            }
        }
        spec.taints = taints.isEmpty ? nil : taints
        updated.spec = node.spec == nil && spec == NodeSpec() ? nil : spec
        guard updated != node else { return [] }
        var actions: [Action] = [.update(updated)]
        if previous?.status != ready.status {
            let word = servedSince == nil ? "NodeNotReady" : "NodeReady"
            actions.append(.event(object: node.reference(), type: .normal, reason: word,
                                  message: "Node \(node.name) status is now: \(word)"))
        }
        if servedSince == nil {
            actions += markPodsNotReady(index, node: node.name, now: now)
        }
        return actions
    }

    /// MarkPodsNotReady: every pod on the node that still says Ready gets Ready False.
    static func markPodsNotReady(_ index: ClusterIndex, node: String, now: Time) -> [Action] {
        index.pods(index.podsByNode[node]).sorted { NamespacedName($0) < NamespacedName($1) }.compactMap { pod in
            guard pod.isReady, !pod.storageIsTerminal else { return nil }
            var updated = pod
            updated.status?.conditions = pod.status?.conditions?.map { c in
                guard c.type == PodConditionType.ready else { return c }
                var c = c
                c.status = .false
                c.lastTransitionTime = now
                return c
            }
            return .update(updated)
        }
    }
}
