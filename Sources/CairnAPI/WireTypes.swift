import CairnCore

// The wire types of Cairn's own API (`/cairn/v1/...`), shared by the daemon that serves them and the
// CLI that reads them. Their JSON shapes are documented in the README and kept stable.

/// One row of `cairn bindings`: a claim, the volume it is bound to, where it lives and who uses it.
public struct BindingRow: Codable, Sendable, Hashable {
    public struct PodUse: Codable, Sendable, Hashable {
        public var name: String
        /// The pod's phase, or "Terminating" while it is being deleted (as kubectl's STATUS column).
        public var phase: String
        /// Where the pod's volume is mounted on the host (kubelet's layout under the state dir).
        public var hostPath: String
        public init(name: String, phase: String, hostPath: String) {
            self.name = name
            self.phase = phase
            self.hostPath = hostPath
        }
    }
    public var namespace: String
    public var claim: String
    public var phase: ClaimPhase
    public var volume: String?
    public var node: String?
    public var capacityBytes: Int64?
    public var capacity: String?
    public var usedBytes: Int64?
    public var accessModes: [String]
    public var storageClass: String?
    public var reclaimPolicy: String?
    public var path: String?
    public var pods: [PodUse]
    public var boundAt: Time?

    public init(namespace: String, claim: String, phase: ClaimPhase, volume: String?, node: String?, capacityBytes: Int64?,
                capacity: String?, usedBytes: Int64?, accessModes: [String], storageClass: String?, reclaimPolicy: String?,
                path: String?, pods: [PodUse], boundAt: Time?) {
        self.namespace = namespace
        self.claim = claim
        self.phase = phase
        self.volume = volume
        self.node = node
        self.capacityBytes = capacityBytes
        self.capacity = capacity
        self.usedBytes = usedBytes
        self.accessModes = accessModes
        self.storageClass = storageClass
        self.reclaimPolicy = reclaimPolicy
        self.path = path
        self.pods = pods
        self.boundAt = boundAt
    }
}

public struct BindingList: Codable, Sendable {
    public var apiVersion = "cairn.io/v1"
    public var kind = "BindingList"
    public var items: [BindingRow]
    public init(items: [BindingRow]) { self.items = items }
}

/// A claim's binding history as `cairn describe` shows it.
public struct HistoryRow: Codable, Sendable, Hashable {
    public var at: Time
    public var action: BindingAction
    public var volume: String?
    public var node: String?
    public var pod: String?
    public var detail: String?
    public init(at: Time, action: BindingAction, volume: String?, node: String?, pod: String?, detail: String?) {
        self.at = at
        self.action = action
        self.volume = volume
        self.node = node
        self.pod = pod
        self.detail = detail
    }
}

/// `cairn verify retention statefulset`: what is wrong with one claim, if anything.
public enum RetentionVerdict: String, Codable, Sendable, CaseIterable {
    case ok
    case missing
    case rebound
    case directoryMissing = "directory-missing"
    case changed
    case unbound
}

/// What `cairn verify retention` knows of a claim's contents.
public enum RetentionContents: String, Codable, Sendable, CaseIterable {
    /// What the last pod left is still there, byte for byte as far as the fingerprint tells.
    case unchanged
    case changed
    /// A pod is using it, and it was unchanged when that pod arrived.
    case inUse = "in-use"
    /// No pod has left it yet.
    case neverLeft = "never-left"
    case unknown
}

/// One row per claim the set has ever stamped out.
public struct RetentionRow: Codable, Sendable, Hashable {
    public var claim: String
    public var ordinal: Int?
    public var verdict: RetentionVerdict
    public var phase: ClaimPhase?
    public var volume: String?
    public var firstVolume: String?
    public var directoryPresent: Bool
    public var usedBytes: Int64?
    public var pod: String?
    public var contents: RetentionContents
    public var detail: String?
    public init(claim: String, ordinal: Int?, firstVolume: String?) {
        self.claim = claim
        self.ordinal = ordinal
        self.verdict = .ok
        self.firstVolume = firstVolume
        self.directoryPresent = false
        self.contents = .unknown
    }
}

public struct RetentionReport: Codable, Sendable {
    public var apiVersion = "cairn.io/v1"
    public var kind = "RetentionReport"
    public var namespace: String
    public var statefulSet: String
    public var deep: Bool
    public var ok: Bool
    public var items: [RetentionRow]
    public init(namespace: String, statefulSet: String, deep: Bool, items: [RetentionRow]) {
        self.namespace = namespace
        self.statefulSet = statefulSet
        self.deep = deep
        self.ok = items.allSatisfy { $0.verdict == .ok }
        self.items = items
    }
}

/// Mounts `cairn exec` needs for one container of a pod.
public struct ExecPlan: Codable, Sendable {
    public struct Mount: Codable, Sendable {
        public var hostPath: String
        public var mountPath: String
        public var readOnly: Bool
        public var subPath: String?
        public init(hostPath: String, mountPath: String, readOnly: Bool, subPath: String?) {
            self.hostPath = hostPath
            self.mountPath = mountPath
            self.readOnly = readOnly
            self.subPath = subPath
        }
    }
    public var pod: String
    public var namespace: String
    public var container: String
    public var workingDir: String?
    public var mounts: [Mount]
    public init(pod: String, namespace: String, container: String, workingDir: String?, mounts: [Mount]) {
        self.pod = pod
        self.namespace = namespace
        self.container = container
        self.workingDir = workingDir
        self.mounts = mounts
    }
}

public enum CairnVersion {
    public static let version = "0.2.0"
    /// /version, as kube-apiserver answers it (version.Info), with Cairn's own version beside.
    public struct Info: Codable, Sendable {
        public var major = "1"
        public var minor = "32"
        public var gitVersion = "v1.32.0-cairn.\(CairnVersion.version)"
        public var gitCommit = ""
        public var gitTreeState = "clean"
        public var buildDate = "2026-12-01T00:00:00Z"
        public var goVersion = "swift6"
        public var compiler = "swiftc"
        public var platform = "linux/amd64"
        public var cairnVersion = CairnVersion.version
    }
    public static let info = Info()
}

/// The paths of Cairn's own API, in one place for the server's router and the CLI.
public enum CairnPath {
    public static let prefix = "/cairn/v1/"
    public static let bindings = "/cairn/v1/bindings"
    /// `cairn kubeconfig`: the admin kubeconfig for the daemon's HTTPS listener (`?server=URL`).
    public static let kubeconfig = "/cairn/v1/kubeconfig"
    public static func claimHistory(namespace: String, claim: String) -> String {
        "/cairn/v1/namespaces/\(namespace)/claims/\(claim)/history"
    }
    public static func retention(namespace: String, statefulSet: String) -> String {
        "/cairn/v1/namespaces/\(namespace)/statefulsets/\(statefulSet)"
    }
    public static func execPlan(namespace: String, pod: String) -> String {
        "/cairn/v1/namespaces/\(namespace)/pods/\(pod)/exec"
    }

    /// A parsed view path.
    public enum View: Equatable, Sendable {
        case bindings
        case claimHistory(namespace: String, claim: String)
        case retention(namespace: String, statefulSet: String)
        case execPlan(namespace: String, pod: String)
    }

    public static func parse(_ path: String) -> View? {
        guard path.hasPrefix(prefix) else { return nil }
        let p = path.dropFirst(prefix.count).split(separator: "/").map(String.init)
        switch p.count {
        case 1 where p[0] == "bindings": return .bindings
        case 5 where p[0] == "namespaces" && p[2] == "claims" && p[4] == "history": return .claimHistory(namespace: p[1], claim: p[3])
        case 4 where p[0] == "namespaces" && p[2] == "statefulsets": return .retention(namespace: p[1], statefulSet: p[3])
        case 5 where p[0] == "namespaces" && p[2] == "pods" && p[4] == "exec": return .execPlan(namespace: p[1], pod: p[3])
        default: return nil
        }
    }
}
