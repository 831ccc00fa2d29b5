/// Cairn's one topology key: the node a volume lives on. NodeGetInfo reports it, the kubelet labels
/// the Node with it, CreateVolume returns it, and external-provisioner asks GetCapacity per value of it.
public enum NodeTopology {
    public static let key = "topology.cairn.io/node"

    public static func segments(node: String) -> [String: String] { [key: node] }

    /// Whether `node` is one of the topologies a CreateVolume's `accessibility_requirements` allow:
    /// with requisite topologies, one of them must be this node; with only preferred ones (or none),
    /// the plugin may choose, and it chooses its own node.
    public static func allows(requisite: [[String: String]], node: String) -> Bool {
        requisite.isEmpty || requisite.contains { $0[key] == node }
    }

    /// Whether a GetCapacity's `accessible_topology` names this node (nil: any topology, so this one).
    public static func describes(_ segments: [String: String]?, node: String) -> Bool {
        guard let segments, !segments.isEmpty else { return true }
        return segments == [key: node]
    }

    /// A node id must be a topology value: at most 63 characters, alphanumerics at both ends and
    /// `-`, `_`, `.` or alphanumerics between (the spec's rule, and a Kubernetes label value's).
    public static func problem(nodeID: String) -> String? {
        if nodeID.isEmpty { return "the node id is empty" }
        if nodeID.utf8.count > 63 {
            return "\"\(nodeID)\" is \(nodeID.utf8.count) characters; a topology value (the \(key) label) holds at most 63"
        }
        let chars = Array(nodeID.unicodeScalars)
        let alnum: (Unicode.Scalar) -> Bool = { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
        }
        guard alnum(chars.first!), alnum(chars.last!), chars.allSatisfy({ alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }) else {
            return "\"\(nodeID)\" must begin and end with a letter or digit and hold only letters, digits, '-', '_' and '.'"
        }
        return nil
    }
}
