/// The API server's defaulting (SetDefaults_* in k8s.io/kubernetes/pkg/apis/{core,apps,storage}/v1):
/// every request's object is defaulted before it is validated, compared with what is stored, or
/// stored, so a manifest that leaves a defaulted field out means the same as one that spells it out
/// (applying it twice is a no-op). Pure; the one place defaults are decided.
public enum Defaulting {
    public static func apply(_ object: any KubeObject) -> any KubeObject {
        switch object {
        case let o as Pod: return apply(o)
        case let o as PersistentVolumeClaim: return apply(o)
        case let o as PersistentVolume: return apply(o)
        case let o as StorageClass: return apply(o)
        case let o as StatefulSet: return apply(o)
        case let o as ReplicaSet: return apply(o)
        case let o as Namespace: return apply(o)
        case let o as Service: return apply(o)
        default: return object
        }
    }

    public static func apply(_ pod: Pod) -> Pod {
        var p = pod
        p.spec = podSpec(p.spec)
        return p
    }

    public static func apply(_ claim: PersistentVolumeClaim) -> PersistentVolumeClaim {
        var c = claim
        c.spec = claimSpec(c.spec)
        return c
    }

    public static func apply(_ volume: PersistentVolume) -> PersistentVolume {
        var v = volume
        if v.spec.persistentVolumeReclaimPolicy == nil { v.spec.persistentVolumeReclaimPolicy = "Retain" }
        if v.spec.volumeMode == nil { v.spec.volumeMode = "Filesystem" }
        return v
    }

    public static func apply(_ storageClass: StorageClass) -> StorageClass {
        var s = storageClass
        if s.reclaimPolicy == nil { s.reclaimPolicy = "Delete" }
        if s.volumeBindingMode == nil { s.volumeBindingMode = "Immediate" }
        return s
    }

    public static func apply(_ set: StatefulSet) -> StatefulSet {
        var s = set
        s.spec = statefulSetSpec(s.spec)
        return s
    }

    public static func apply(_ replicaSet: ReplicaSet) -> ReplicaSet {
        var r = replicaSet
        if r.spec.replicas == nil { r.spec.replicas = 1 }
        if let t = r.spec.template { r.spec.template?.spec = podSpec(t.spec) }
        return r
    }

    /// The namespace strategy's finalizer: the namespace controller removes it once the namespace is empty.
    public static let namespaceFinalizer = "kubernetes"

    public static func apply(_ namespace: Namespace) -> Namespace {
        var n = namespace
        var spec = n.spec?.objectValue ?? [:]
        if spec["finalizers"] == nil { spec["finalizers"] = .array([.string(namespaceFinalizer)]) }
        n.spec = .object(spec)
        return n
    }

    public static func apply(_ service: Service) -> Service {
        var s = service
        var spec = s.spec?.objectValue ?? [:]
        if spec["type"] == nil { spec["type"] = .string("ClusterIP") }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = .string("None") }
        let type = spec["type"]?.stringValue
        if spec["internalTrafficPolicy"] == nil, type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer" {
            spec["internalTrafficPolicy"] = .string("Cluster")
        }
        if case .array(let ports)? = spec["ports"] {
            spec["ports"] = .array(ports.map { port in
                guard case .object(var p) = port else { return port }
                if p["protocol"] == nil { p["protocol"] = .string("TCP") }
                if p["targetPort"] == nil, let number = p["port"] { p["targetPort"] = number }
                return .object(p)
            })
        }
        s.spec = .object(spec)
        return s
    }

    // MARK: specs

    public static func claimSpec(_ spec: PersistentVolumeClaimSpec) -> PersistentVolumeClaimSpec {
        var s = spec
        if s.volumeMode == nil { s.volumeMode = "Filesystem" }
        return s
    }

    public static func statefulSetSpec(_ spec: StatefulSetSpec) -> StatefulSetSpec {
        var s = spec
        if s.replicas == nil { s.replicas = 1 }
        if s.podManagementPolicy == nil { s.podManagementPolicy = "OrderedReady" }
        if s.revisionHistoryLimit == nil { s.revisionHistoryLimit = 10 }
        s.updateStrategy = updateStrategy(s.updateStrategy)
        var policy = s.persistentVolumeClaimRetentionPolicy ?? StatefulSetPersistentVolumeClaimRetentionPolicy()
        if policy.whenDeleted == nil { policy.whenDeleted = "Retain" }
        if policy.whenScaled == nil { policy.whenScaled = "Retain" }
        s.persistentVolumeClaimRetentionPolicy = policy
        s.template.spec = podSpec(s.template.spec)
        if let templates = s.volumeClaimTemplates {
            s.volumeClaimTemplates = templates.map { t in
                var t = t
                t.spec = claimSpec(t.spec)
                return t
            }
        }
        return s
    }

    /// type RollingUpdate; a RollingUpdate strategy gets rollingUpdate.partition 0.
    static func updateStrategy(_ strategy: JSONValue?) -> JSONValue {
        var s = strategy?.objectValue ?? [:]
        if s["type"] == nil { s["type"] = .string("RollingUpdate") }
        if s["type"]?.stringValue == "RollingUpdate" {
            var rolling = s["rollingUpdate"]?.objectValue ?? [:]
            if rolling["partition"] == nil { rolling["partition"] = .int(0) }
            s["rollingUpdate"] = .object(rolling)
        }
        return .object(s)
    }

    public static func podSpec(_ spec: PodSpec) -> PodSpec {
        var s = spec
        if s.restartPolicy == nil { s.restartPolicy = "Always" }
        if s.terminationGracePeriodSeconds == nil { s.terminationGracePeriodSeconds = 30 }
        if s.schedulerName == nil { s.schedulerName = "default-scheduler" }
        if s.dnsPolicy == nil { s.dnsPolicy = "ClusterFirst" }
        if s.securityContext == nil { s.securityContext = .object([:]) }
        s.containers = s.containers.map(container)
        if let initContainers = s.initContainers { s.initContainers = initContainers.map(container) }
        return s
    }

    public static func container(_ container: Container) -> Container {
        var c = container
        if c.terminationMessagePath == nil { c.terminationMessagePath = "/dev/termination-log" }
        if c.terminationMessagePolicy == nil { c.terminationMessagePolicy = "File" }
        if c.imagePullPolicy == nil, let image = c.image { c.imagePullPolicy = pullPolicy(image) }
        if case .array(let ports)? = c.ports {
            c.ports = .array(ports.map { port in
                guard case .object(var p) = port else { return port }
                if p["protocol"] == nil { p["protocol"] = .string("TCP") }
                return .object(p)
            })
        }
        c.livenessProbe = c.livenessProbe.map(probe)
        c.readinessProbe = c.readinessProbe.map(probe)
        c.startupProbe = c.startupProbe.map(probe)
        return c
    }

    /// Always for `:latest` or an untagged image (no digest), else IfNotPresent.
    static func pullPolicy(_ image: String) -> String {
        if image.contains("@") { return "IfNotPresent" }
        let lastComponent = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastComponent.lastIndex(of: ":") else { return "Always" }
        return lastComponent[lastComponent.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    /// SetDefaults_Probe, and the HTTPGet/GRPC handlers' own defaults.
    static func probe(_ value: JSONValue) -> JSONValue {
        guard case .object(var p) = value else { return value }
        for (key, number) in [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)]
            where p[key] == nil {
            p[key] = .int(Int64(number))
        }
        if case .object(var get)? = p["httpGet"] {
            if get["path"] == nil { get["path"] = .string("/") }
            if get["scheme"] == nil { get["scheme"] = .string("HTTP") }
            p["httpGet"] = .object(get)
        }
        if case .object(var grpc)? = p["grpc"], grpc["service"] == nil {
            grpc["service"] = .string("")
            p["grpc"] = .object(grpc)
        }
        return .object(p)
    }
}
