/// Validation as the API server does it, for the fields Cairn reads. Each function returns every error
/// it finds (not just the first), with Kubernetes' field paths and wording.
public enum Validation {
    /// The provisioner Cairn implements.
    public static let provisionerName = "cairn.io/local-path"

    public static func validate(_ object: any KubeObject) -> [FieldError] {
        var errors = validateMeta(object.metadata, kind: type(of: object).kind)
        switch object {
        case let o as StorageClass: errors += validateStorageClass(o)
        case let o as PersistentVolumeClaim: errors += validateClaimSpec(o.spec, path: "spec")
        case let o as PersistentVolume: errors += validatePersistentVolume(o)
        case let o as Pod: errors += validatePodSpec(o.spec, path: "spec")
        case let o as StatefulSet: errors += validateStatefulSet(o)
        case let o as ReplicaSet: errors += validateReplicaSet(o)
        default: break
        }
        return errors
    }

    /// Checks a change to an existing object: fields Kubernetes makes immutable stay as they were.
    public static func validateUpdate(old: any KubeObject, new: any KubeObject) -> [FieldError] {
        var errors = validate(new)
        switch (old, new) {
        case let (o as PersistentVolumeClaim, n as PersistentVolumeClaim):
            var a = o.spec, b = n.spec
            // Binding fills volumeName; expansion changes the request. Everything else is fixed.
            a.resources = nil; b.resources = nil
            if a.volumeName == nil { b.volumeName = nil }
            if a.storageClassName == nil { b.storageClassName = nil }
            let resized = o.spec.requestedStorage?.bytes != n.spec.requestedStorage?.bytes
            if a != b || (resized && o.phase != .bound) {
                errors.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
            } else if let now = n.spec.requestedStorage?.bytes {
                // RecoverVolumeExpansionFailure: a request may come back down, but not below what the
                // volume already is.
                if let capacity = o.status?.capacity?["storage"]?.bytes, now < capacity {
                    errors.append(.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"))
                } else if o.status?.capacity?["storage"] == nil, let was = o.spec.requestedStorage?.bytes, now < was {
                    errors.append(.forbidden("spec.resources.requests.storage", "field can not be less than previous value"))
                }
            }
        case let (o as StatefulSet, n as StatefulSet):
            var a = o.spec, b = n.spec
            a.replicas = nil; b.replicas = nil
            a.template = b.template
            a.updateStrategy = nil; b.updateStrategy = nil
            a.persistentVolumeClaimRetentionPolicy = nil; b.persistentVolumeClaimRetentionPolicy = nil
            a.minReadySeconds = nil; b.minReadySeconds = nil
            a.ordinals = nil; b.ordinals = nil
            a.revisionHistoryLimit = nil; b.revisionHistoryLimit = nil
            if a != b {
                errors.append(.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
            }
        case let (o as ReplicaSet, n as ReplicaSet):
            if o.spec.selector != n.spec.selector {
                errors.append(.invalid("spec.selector", "\(n.spec.selector.map { "\($0)" } ?? "null")", "field is immutable"))
            }
        case let (o as StorageClass, n as StorageClass):
            if o.provisioner != n.provisioner || o.parameters != n.parameters || o.effectiveReclaimPolicy != n.effectiveReclaimPolicy
                || o.effectiveBindingMode != n.effectiveBindingMode {
                errors.append(.forbidden("parameters", "updates to parameters, provisioner, reclaimPolicy and volumeBindingMode are forbidden."))
            }
        case let (o as Pod, n as Pod):
            var a = o.spec, b = n.spec
            if a.nodeName == nil { b.nodeName = nil }
            a.containers = a.containers.map { var c = $0; c.image = nil; return c }
            b.containers = b.containers.map { var c = $0; c.image = nil; return c }
            if a != b {
                errors.append(.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
            }
        default:
            break
        }
        return errors
    }

    // MARK: metadata

    public static func validateMeta(_ meta: ObjectMeta, kind: Kind) -> [FieldError] {
        var errors: [FieldError] = []
        if let name = meta.name, !name.isEmpty {
            let problems: [String]
            switch kind {
            case .namespace: problems = Names.isDNS1123Label(name)
            case .service: problems = Names.isDNS1035Label(name)
            default: problems = Names.isDNS1123Subdomain(name)
            }
            for p in problems { errors.append(.invalid("metadata.name", string: name, p)) }
        } else if meta.generateName == nil {
            errors.append(.required("metadata.name", "name or generateName is required"))
        }
        if kind.namespaced, let ns = meta.namespace {
            for p in Names.isDNS1123Label(ns) { errors.append(.invalid("metadata.namespace", string: ns, p)) }
        }
        for (k, v) in (meta.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            for p in Names.isQualifiedName(k) { errors.append(.invalid("metadata.labels", string: k, p)) }
            for p in Names.isValidLabelValue(v) { errors.append(.invalid("metadata.labels", string: v, p)) }
        }
        for k in (meta.annotations ?? [:]).keys.sorted() {
            for p in Names.isQualifiedName(k.lowercased()) { errors.append(.invalid("metadata.annotations", string: k, p)) }
        }
        let totalAnnotations = (meta.annotations ?? [:]).reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if totalAnnotations > 256 * 1024 {
            errors.append(FieldError(.tooLong, "metadata.annotations", "may not be more than 262144 bytes"))
        }
        return errors
    }

    // MARK: StorageClass

    /// StorageClass parameters Cairn's provisioner understands (see README, "StorageClass parameters").
    public static let storageClassParameters: [String: String] = [
        "placement": "how Immediate claims pick a node: `spread` (most free storage, the default) or `pack` (least free storage that fits)",
        "dirMode": "octal mode of a new volume's directory, e.g. \"0770\" (default \"0777\", as local-path-provisioner)",
    ]

    public static func validateStorageClass(_ sc: StorageClass) -> [FieldError] {
        var errors: [FieldError] = []
        if sc.provisioner.isEmpty {
            errors.append(.required("provisioner"))
        } else {
            for p in Names.isQualifiedName(sc.provisioner.lowercased()) {
                errors.append(.invalid("provisioner", string: sc.provisioner, p))
            }
        }
        if let r = sc.reclaimPolicy, !["Delete", "Retain"].contains(r) {
            errors.append(.notSupported("reclaimPolicy", r, supported: ["Delete", "Retain"]))
        }
        if let m = sc.volumeBindingMode, !["Immediate", "WaitForFirstConsumer"].contains(m) {
            errors.append(.notSupported("volumeBindingMode", m, supported: ["Immediate", "WaitForFirstConsumer"]))
        }
        if sc.provisioner == provisionerName {
            for (key, value) in (sc.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
                let path = "parameters.\(key)"
                switch key {
                case "placement":
                    if !["spread", "pack"].contains(value) {
                        errors.append(.notSupported(path, value, supported: ["pack", "spread"]))
                    }
                case "dirMode":
                    if parseDirMode(value) == nil {
                        errors.append(.invalid(path, string: value, "must be an octal file mode between 0000 and 0777, e.g. \"0770\""))
                    }
                default:
                    errors.append(.notSupported(path, key, supported: storageClassParameters.keys.sorted()))
                }
            }
            if sc.mountOptions?.isEmpty == false {
                errors.append(.forbidden("mountOptions", "\(provisionerName) volumes take no mount options"))
            }
        }
        return errors
    }

    public static func parseDirMode(_ s: String) -> UInt32? {
        guard (1...4).contains(s.count), let v = UInt32(s, radix: 8), v <= 0o777 else { return nil }
        return v
    }

    // MARK: claims and volumes

    static let accessModes = AccessMode.allCases.map(\.rawValue)

    static func validateAccessModes(_ modes: [String]?, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        guard let modes, !modes.isEmpty else { return [.required(path, "at least 1 access mode is required")] }
        for (i, m) in modes.enumerated() where !accessModes.contains(m) {
            errors.append(.notSupported("\(path)[\(i)]", m, supported: accessModes.sorted()))
        }
        if modes.contains(AccessMode.readWriteOncePod.rawValue) && modes.count > 1 {
            errors.append(.forbidden(path, "may not use ReadWriteOncePod with other access modes"))
        }
        return errors
    }

    public static func validateClaimSpec(_ spec: PersistentVolumeClaimSpec, path: String) -> [FieldError] {
        var errors = validateAccessModes(spec.accessModes, path: "\(path).accessModes")
        if let storage = spec.requestedStorage {
            if let b = storage.bytes, b <= 0 {
                errors.append(.invalid("\(path).resources.requests[storage]", quoted(storage.description), "must be greater than zero"))
            } else if storage.bytes == nil {
                errors.append(.invalid("\(path).resources.requests[storage]", quoted(storage.description), "must be a whole number of bytes no larger than 8Ei"))
            }
        } else {
            errors.append(.required("\(path).resources[storage]"))
        }
        for key in (spec.resources?.requests ?? [:]).keys.sorted() where key != "storage" {
            errors.append(.notSupported("\(path).resources.requests", key, supported: ["storage"]))
        }
        if let sc = spec.storageClassName, !sc.isEmpty {
            for p in Names.isDNS1123Subdomain(sc) { errors.append(.invalid("\(path).storageClassName", string: sc, p)) }
        }
        if let mode = spec.volumeMode, mode != "Filesystem" {
            if mode == "Block" {
                errors.append(.forbidden("\(path).volumeMode", "Cairn volumes are directories served through FUSE; Block volumes are not supported"))
            } else {
                errors.append(.notSupported("\(path).volumeMode", mode, supported: ["Block", "Filesystem"]))
            }
        }
        if spec.dataSource != nil || spec.dataSourceRef != nil {
            errors.append(.forbidden("\(path).dataSource", "Cairn cannot pre-populate volumes from a data source"))
        }
        return errors
    }

    public static func validatePersistentVolume(_ pv: PersistentVolume) -> [FieldError] {
        var errors = validateAccessModes(pv.spec.accessModes, path: "spec.accessModes")
        if let s = pv.spec.capacity?["storage"] {
            if (s.bytes ?? 0) <= 0 { errors.append(.invalid("spec.capacity[storage]", quoted(s.description), "must be greater than zero")) }
        } else {
            errors.append(.required("spec.capacity[storage]"))
        }
        if let r = pv.spec.persistentVolumeReclaimPolicy, !["Delete", "Retain"].contains(r) {
            errors.append(.notSupported("spec.persistentVolumeReclaimPolicy", r, supported: ["Delete", "Retain"]))
        }
        if let local = pv.spec.local {
            if !local.path.hasPrefix("/") {
                errors.append(.invalid("spec.local.path", string: local.path, "must be an absolute path"))
            }
            if pv.spec.nodeAffinity?.required == nil {
                errors.append(.required("spec.nodeAffinity", "Local volume requires node affinity"))
            }
        } else {
            errors.append(.required("spec.local", "Cairn serves local volumes: spec.local.path on a node"))
        }
        return errors
    }

    // MARK: pods and workloads

    /// `claimTemplates` are the names of a StatefulSet's volumeClaimTemplates, which containers may mount
    /// without declaring a volume.
    public static func validatePodSpec(_ spec: PodSpec, path: String, claimTemplates: Set<String> = []) -> [FieldError] {
        var errors: [FieldError] = []
        if spec.containers.isEmpty { errors.append(.required("\(path).containers")) }
        var volumeNames = Set<String>()
        for (i, v) in (spec.volumes ?? []).enumerated() {
            let vp = "\(path).volumes[\(i)]"
            for p in Names.isDNS1123Label(v.name) { errors.append(.invalid("\(vp).name", string: v.name, p)) }
            if !volumeNames.insert(v.name).inserted { errors.append(.duplicate("\(vp).name", v.name)) }
            if let pvc = v.persistentVolumeClaim {
                if pvc.claimName.isEmpty { errors.append(.required("\(vp).persistentVolumeClaim.claimName")) }
                for p in Names.isDNS1123Subdomain(pvc.claimName) where !pvc.claimName.isEmpty {
                    errors.append(.invalid("\(vp).persistentVolumeClaim.claimName", string: pvc.claimName, p))
                }
            } else {
                errors.append(.required("\(vp)", "must specify a volume type; Cairn mounts persistentVolumeClaim volumes"))
            }
        }
        var containerNames = Set<String>()
        for (ci, c) in ((spec.initContainers ?? []) + spec.containers).enumerated() {
            let isInit = ci < (spec.initContainers?.count ?? 0)
            let cp = isInit ? "\(path).initContainers[\(ci)]" : "\(path).containers[\(ci - (spec.initContainers?.count ?? 0))]"
            if c.name.isEmpty { errors.append(.required("\(cp).name")) }
            for p in Names.isDNS1123Label(c.name) where !c.name.isEmpty { errors.append(.invalid("\(cp).name", string: c.name, p)) }
            if !containerNames.insert(c.name).inserted { errors.append(.duplicate("\(cp).name", c.name)) }
            var mountPaths = Set<String>()
            for (mi, m) in (c.volumeMounts ?? []).enumerated() {
                let mp = "\(cp).volumeMounts[\(mi)]"
                if m.name.isEmpty { errors.append(.required("\(mp).name")) }
                else if !volumeNames.contains(m.name) && !claimTemplates.contains(m.name) {
                    errors.append(.notFound("\(mp).name", m.name))
                }
                if m.mountPath.isEmpty { errors.append(.required("\(mp).mountPath")) }
                else if !m.mountPath.hasPrefix("/") {
                    errors.append(.invalid("\(mp).mountPath", string: m.mountPath, "must be an absolute path"))
                } else if m.mountPath.split(separator: "/").contains("..") {
                    errors.append(.invalid("\(mp).mountPath", string: m.mountPath, "must not contain '..'"))
                }
                if !mountPaths.insert(m.mountPath).inserted { errors.append(.invalid("\(mp).mountPath", string: m.mountPath, "must be unique")) }
                if let sp = m.subPath, sp.hasPrefix("/") || sp.split(separator: "/").contains("..") {
                    errors.append(.invalid("\(mp).subPath", string: sp, "must be a relative path without '..'"))
                }
            }
        }
        for (k, v) in (spec.nodeSelector ?? [:]).sorted(by: { $0.key < $1.key }) {
            for p in Names.isQualifiedName(k) { errors.append(.invalid("\(path).nodeSelector", string: k, p)) }
            for p in Names.isValidLabelValue(v) { errors.append(.invalid("\(path).nodeSelector", string: v, p)) }
        }
        if let r = spec.restartPolicy, !["Always", "OnFailure", "Never"].contains(r) {
            errors.append(.notSupported("\(path).restartPolicy", r, supported: ["Always", "OnFailure", "Never"]))
        }
        if let g = spec.terminationGracePeriodSeconds, g < 0 {
            errors.append(.invalid("\(path).terminationGracePeriodSeconds", "\(g)", "must be greater than or equal to 0"))
        }
        if let terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms {
            let tp = "\(path).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
            if terms.isEmpty { errors.append(.required(tp, "must have at least one node selector term")) }
            for (ti, t) in terms.enumerated() {
                for (ri, r) in (t.matchExpressions ?? []).enumerated() {
                    errors += validateNodeSelectorRequirement(r, path: "\(tp)[\(ti)].matchExpressions[\(ri)]")
                }
            }
        }
        return errors
    }

    static func validateNodeSelectorRequirement(_ r: NodeSelectorRequirement, path: String) -> [FieldError] {
        let ops = ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"]
        switch r.operator {
        case "In", "NotIn":
            return (r.values ?? []).isEmpty ? [.required("\(path).values", "must be specified when `operator` is 'In' or 'NotIn'")] : []
        case "Exists", "DoesNotExist":
            return (r.values ?? []).isEmpty ? [] : [.forbidden("\(path).values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")]
        case "Gt", "Lt":
            return (r.values ?? []).count == 1 ? [] : [.required("\(path).values", "must be specified single value when `operator` is 'Lt' or 'Gt'")]
        default:
            return [.notSupported("\(path).operator", r.operator, supported: ops)]
        }
    }

    static func validateSelectorAndTemplate(selector: LabelSelector?, template: PodTemplateSpec?, kind: String,
                                            claimTemplates: Set<String> = []) -> [FieldError] {
        var errors: [FieldError] = []
        guard let selector else { return [.required("spec.selector")] }
        let parsed: Selector
        do {
            parsed = try selector.asSelector()
        } catch {
            return [.invalid("spec.selector", "\(selector)", "\(error)")]
        }
        if (selector.matchLabels ?? [:]).isEmpty && (selector.matchExpressions ?? []).isEmpty {
            errors.append(.invalid("spec.selector", "{}", "empty selector is invalid for \(kind)"))
        }
        guard let template else { return errors + [.required("spec.template")] }
        let labels = template.metadata?.labels ?? [:]
        if !parsed.matches(labels) {
            let shown = "map[string]string{" + labels.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ", ") + "}"
            errors.append(.invalid("spec.template.metadata.labels", shown, "`selector` does not match template `labels`"))
        }
        errors += validatePodSpec(template.spec, path: "spec.template.spec", claimTemplates: claimTemplates)
        return errors
    }

    public static func validateStatefulSet(_ sts: StatefulSet) -> [FieldError] {
        var errors: [FieldError] = []
        if let r = sts.spec.replicas, r < 0 {
            errors.append(.invalid("spec.replicas", "\(r)", "must be greater than or equal to 0"))
        }
        if let p = sts.spec.podManagementPolicy, !["OrderedReady", "Parallel"].contains(p) {
            errors.append(.notSupported("spec.podManagementPolicy", p, supported: ["OrderedReady", "Parallel"]))
        }
        if let policy = sts.spec.persistentVolumeClaimRetentionPolicy {
            if let w = policy.whenDeleted, !["Retain", "Delete"].contains(w) {
                errors.append(.notSupported("spec.persistentVolumeClaimRetentionPolicy.whenDeleted", w, supported: ["Retain", "Delete"]))
            }
            if let w = policy.whenScaled, !["Retain", "Delete"].contains(w) {
                errors.append(.notSupported("spec.persistentVolumeClaimRetentionPolicy.whenScaled", w, supported: ["Retain", "Delete"]))
            }
        }
        if let start = sts.spec.ordinals?.start, start < 0 {
            errors.append(.invalid("spec.ordinals.start", "\(start)", "must be greater than or equal to 0"))
        }
        if let r = sts.spec.template.spec.restartPolicy, r != "Always" {
            errors.append(.notSupported("spec.template.spec.restartPolicy", r, supported: ["Always"]))
        }
        let claimTemplateNames = Set((sts.spec.volumeClaimTemplates ?? []).compactMap(\.metadata.name))
        errors += validateSelectorAndTemplate(selector: sts.spec.selector, template: sts.spec.template, kind: "StatefulSet",
                                              claimTemplates: claimTemplateNames)
        var seen = Set<String>()
        for (i, t) in (sts.spec.volumeClaimTemplates ?? []).enumerated() {
            let tp = "spec.volumeClaimTemplates[\(i)]"
            guard let name = t.metadata.name, !name.isEmpty else { errors.append(.required("\(tp).metadata.name")); continue }
            for p in Names.isDNS1123Label(name) { errors.append(.invalid("\(tp).metadata.name", string: name, p)) }
            if !seen.insert(name).inserted { errors.append(.duplicate("\(tp).metadata.name", name)) }
            errors += validateClaimSpec(t.spec, path: "\(tp).spec")
        }
        return errors
    }

    public static func validateReplicaSet(_ rs: ReplicaSet) -> [FieldError] {
        var errors: [FieldError] = []
        if let r = rs.spec.replicas, r < 0 {
            errors.append(.invalid("spec.replicas", "\(r)", "must be greater than or equal to 0"))
        }
        errors += validateSelectorAndTemplate(selector: rs.spec.selector, template: rs.spec.template, kind: "ReplicaSet")
        return errors
    }
}

