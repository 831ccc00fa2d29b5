import CairnCore
import Foundation

/// `GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/NODE`, which kubectl describe
/// node reads: a kubelet renews its node's Lease every 10 s; Cairn's node agent heartbeat is in
/// memory, so the Lease is answered from the Node (held by the node, renewed now while it is Ready,
/// else at its last heartbeat). Nothing else of the coordination group is served.
enum NodeLeases {
    static let prefix = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/"

    static func answer(_ request: APIRequest, plane: ControlPlane) async throws -> APIResponse? {
        guard request.path.hasPrefix("/apis/coordination.k8s.io") else { return nil }
        let name = request.path.hasPrefix(prefix) ? String(request.path.dropFirst(prefix.count)) : ""
        guard request.method == "GET", !name.isEmpty, !name.contains("/") else {
            throw Status(code: 404, reason: .notFound, message: "the server could not find the requested resource")
        }
        guard let node = await plane.get(CairnCore.Node.self, namespace: nil, name: name) else {
            throw Status(code: 404, reason: .notFound, message: "leases.coordination.k8s.io \"\(name)\" not found",
                         details: .init(name: name, group: "coordination.k8s.io", kind: "leases"))
        }
        let ready = node.condition(NodeConditionType.ready)
        let renewed = ready?.status == .true ? Date() : (ready?.lastHeartbeatTime?.date ?? Date())
        let lease: JSONValue = [
            "kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
            "metadata": [
                "name": .string(name), "namespace": "kube-node-lease", "uid": .string(node.uid),
                "resourceVersion": .string(node.metadata.resourceVersion ?? ""),
                "creationTimestamp": .string(node.metadata.creationTimestamp?.description ?? ""),
                "ownerReferences": [["apiVersion": "v1", "kind": "Node", "name": .string(name), "uid": .string(node.uid)]],
            ],
            "spec": ["holderIdentity": .string(name), "leaseDurationSeconds": 40, "renewTime": .string(microTime(renewed))],
        ]
        return .json(lease)
    }

    /// metav1.MicroTime: RFC 3339 with microseconds.
    static func microTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
        return f.string(from: d)
    }
}
