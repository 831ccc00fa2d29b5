import CairnAPIMachinery
import CairnControl
import CairnCore
import CairnStore
import Foundation

/// The API verbs. Writes go through the write path and answer only once committed (`durable()`), so a
/// client is never told of a write a crash could lose. Reads are served from SQLite as stored JSON
/// text, so large lists never build trees.
extension ControlPlane {
    // MARK: reads

    /// One page of a list (everything when `page` has no limit), filtered by the selectors.
    public func listPage(_ kind: Kind, namespace: String?, labelSelector: String?, fieldSelector: String?,
                         page: ListPage.Request = ListPage.Request()) throws(Status) -> ListResult {
        let filter = try ObjectFilter(kind: kind, labelSelector: labelSelector, fieldSelector: fieldSelector)
        let (rv, items): (Int64, [StoredObject])
        do {
            (rv, items) = try store.read { r in (try r.currentResourceVersion(), try r.list(kind: kind, namespace: namespace)) }
        } catch {
            throw statusFor(error, kind: kind, name: "")
        }
        let matching = filter.isEverything ? items : items.filter { filter.matches($0.body) }
        let slice = ListPage.slice(matching, currentVersion: rv, request: page)
        return ListResult(items: Array(slice.items), resourceVersion: slice.resourceVersion, next: slice.next,
                          remainingItemCount: slice.next != nil && filter.isEverything ? slice.remaining : nil)
    }

    public func listJSON(_ kind: Kind, namespace: String?, labelSelector: String?, fieldSelector: String?) throws(Status) -> String {
        try listPage(kind, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector).json(kind)
    }

    public func getJSON(_ kind: Kind, namespace: String?, name: String) throws(Status) -> String {
        let stored: StoredObject?
        do {
            stored = try store.read { try $0.get(ObjectKey(kind: kind, namespace: namespace ?? "", name: name)) }
        } catch {
            throw statusFor(error, kind: kind, name: name)
        }
        guard let stored else { throw Status.notFound(kind, name) }
        return stored.json
    }

    // MARK: writes

    /// POST: strict decode, default, validate, admit, store. `path.namespace` is the namespace of the URL.
    public func create(_ path: APIPath, body: JSONValue, options: WriteOptions = WriteOptions()) async throws(Status) -> String {
        let stored = try createStaged(path, body: body, options: options, managedFields: nil)
        if !options.dryRun { try await durable() }
        return stored.json
    }

    /// `managedFields` given: a server-side apply's, kept as they are; nil: the writer owns what it set.
    func createStaged(_ path: APIPath, body: JSONValue, options: WriteOptions, managedFields applied: [ManagedFieldsEntry]?) throws(Status) -> StoredObject {
        var typed = try decodeForWrite(path.kind, body)
        try placeInNamespace(&typed, path)
        if (typed.metadata.name ?? "").isEmpty, let g = typed.metadata.generateName {
            typed.metadata.name = g + names.suffix()
        }
        guard path.kind.userWritable else {
            throw Status.methodNotAllowed("\(path.kind.resource) are managed by cairn serve, not created by clients")
        }
        typed = Defaulting.apply(typed)
        let errors = Validation.validate(typed)
        if !errors.isEmpty { throw Status.invalid(path.kind, typed.name, errors) }
        if index.object(ObjectRef(typed)) != nil { throw Status.alreadyExists(path.kind, typed.name) }
        typed.metadata.managedFields = nil
        typed.metadata.managedFields = applied ?? managedFields(old: nil, new: typed, manager: options.manager)
        return try insert(typed, dryRun: options.dryRun)
    }

    /// PUT: optimistic concurrency on metadata.resourceVersion; status stays the controllers'. The
    /// object is defaulted before it is compared with what is stored, so leaving out a defaulted
    /// field changes nothing (an unchanged object keeps its resourceVersion).
    public func update(_ path: APIPath, body: JSONValue, options: WriteOptions = WriteOptions()) async throws(Status) -> String {
        let stored = try updateStaged(path, body: body, options: options, managedFields: nil)
        if !options.dryRun { try await durable() }
        return stored
    }

    func updateStaged(_ path: APIPath, body: JSONValue, options: WriteOptions, managedFields applied: [ManagedFieldsEntry]?) throws(Status) -> String {
        guard let name = path.name else { throw Status.methodNotAllowed("PUT needs an object name in the path") }
        var new = try decodeForWrite(path.kind, body)
        if let bodyName = new.metadata.name, bodyName != name {
            throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        new.metadata.name = name
        try placeInNamespace(&new, path)
        // Nodes are registered by the daemon, but their labels, annotations and spec (kubectl cordon,
        // kubectl taint) are the clients'; their status stays the node agent's.
        guard path.kind.userWritable || path.kind == .node else {
            throw Status.methodNotAllowed("\(path.kind.resource) are managed by cairn serve, not updated by clients")
        }
        guard let old = index.object(ObjectRef(new)) else { throw Status.notFound(path.kind, name) }
        if let rv = new.metadata.resourceVersion, !rv.isEmpty, rv != old.metadata.resourceVersion {
            throw Status.conflict(path.kind, name, StoreError.objectModified)
        }
        var merged = Self.carryServerFields(from: old, into: Defaulting.apply(new))
        let errors = Validation.validateUpdate(old: old, new: merged)
        if !errors.isEmpty { throw Status.invalid(path.kind, name, errors) }
        try admitResize(old: old, new: merged)
        if let applied {
            merged.metadata.managedFields = applied
        } else {
            // The managers to start from: the ones the client sent, when it sent any (kubectl's
            // client-side to server-side apply migration rewrites them; `[{}]` resets them), else
            // the stored ones, so a client that knows nothing of them cannot drop them.
            var base = old
            base.metadata.managedFields = Self.managedFieldsBase(sent: new.metadata.managedFields, stored: old.metadata.managedFields)
            merged.metadata.managedFields = base.metadata.managedFields
            merged.metadata.managedFields = managedFields(old: base, new: merged, manager: options.manager)
        }
        if options.dryRun { return (try? JSONValue(encoding: merged).jsonText()) ?? "{}" }
        return try write(merged, requireVersion: false).json
    }

    /// kube-apiserver's decodeLiveOrNew: the request's managedFields when it has some, none when it
    /// is the reset value `[{}]`, else the live object's.
    static func managedFieldsBase(sent: [ManagedFieldsEntry]?, stored: [ManagedFieldsEntry]?) -> [ManagedFieldsEntry]? {
        guard let sent, !sent.isEmpty else { return stored }
        let empty = ManagedFieldsEntry(manager: nil, operation: nil, apiVersion: nil, time: nil, fieldsV1: nil)
        if sent == [empty] { return nil }
        return sent
    }

    /// DELETE with DeleteOptions: preconditions, dryRun, and the propagation policy, whose
    /// foreground and orphan forms leave the object with the `foregroundDeletion` or `orphan`
    /// finalizer for the garbage collector (kube-apiserver's BeforeDelete), so it is gone only once
    /// its dependents are deleted or released.
    public func delete(_ path: APIPath, options: DeleteRequest = DeleteRequest()) async throws(Status) -> String {
        guard let name = path.name else { throw Status.methodNotAllowed("DELETE of a whole collection is not supported; name the object") }
        let ns = path.kind.namespaced ? (path.namespace ?? "default") : nil
        guard var obj = index.object(ObjectRef(path.kind, NamespacedName(ns, name))) else { throw Status.notFound(path.kind, name) }
        if path.kind == .namespace && name == "default" {
            throw Status.forbidden(.namespace, name, "this namespace may not be deleted")
        }
        if path.kind == .node {
            throw Status.methodNotAllowed("nodes are registered by cairn serve from its --node flags; stop serving a node to remove it")
        }
        if let uid = options.preconditionUID, uid != obj.uid {
            throw Status.conflict(path.kind, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(obj.uid)")
        }
        if let rv = options.preconditionResourceVersion, rv != obj.metadata.resourceVersion {
            throw Status.conflict(path.kind, name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(obj.metadata.resourceVersion ?? "")")
        }
        if options.dryRun { return (try? JSONValue(encoding: obj).jsonText()) ?? "{}" }
        switch options.propagation {
        case .foreground?:
            obj.metadata.removeFinalizer(Well.orphanFinalizer)
            obj.metadata.addFinalizer(Well.foregroundDeletionFinalizer)
        case .orphan?:
            obj.metadata.removeFinalizer(Well.foregroundDeletionFinalizer)
            obj.metadata.addFinalizer(Well.orphanFinalizer)
        case .background?, nil:
            break
        }
        let result: StoredObject
        if obj.metadata.isDeleting, let stored = index.object(ObjectRef(obj)), stored.metadata.finalizers != obj.metadata.finalizers {
            // Deleted again with another policy: the finalizers say what the collector does now.
            result = try write(obj, requireVersion: false)
        } else {
            result = try deleteObject(obj)
        }
        try await durable()
        return result.json
    }

    /// pods/NAME/eviction: with no PodDisruptionBudgets in Cairn every eviction is allowed, and is
    /// the pod's deletion with the eviction's DeleteOptions.
    public func evict(_ path: APIPath, _ eviction: EvictionRequest) async throws(Status) -> Status {
        _ = try await delete(path, options: eviction.delete)
        return Status(code: 201, reason: .unknown, message: "")
    }

    /// The Scale of a set; `replicas` overrides spec.replicas (a dry run's answer).
    public func scale(_ path: APIPath, replicas override: Int32? = nil) throws(Status) -> Scale {
        guard let name = path.name else { throw Status.notFound(path.kind, "") }
        let key = NamespacedName(path.namespace ?? "default", name)
        switch path.kind {
        case .statefulSet:
            guard let sts = index.statefulSets[key] else { throw Status.notFound(path.kind, name) }
            let sel = sts.spec.selector.flatMap { try? $0.asSelector() }.map(\.description)
            return Scale(metadata: scaleMeta(sts), replicas: override ?? Int32(sts.replicas), statusReplicas: sts.status?.replicas ?? 0, selector: sel)
        case .replicaSet:
            guard let rs = index.replicaSets[key] else { throw Status.notFound(path.kind, name) }
            let sel = rs.spec.selector.flatMap { try? $0.asSelector() }.map(\.description)
            return Scale(metadata: scaleMeta(rs), replicas: override ?? Int32(rs.replicas), statusReplicas: rs.status?.replicas ?? 0, selector: sel)
        default:
            throw Status.notFound(path.kind, name)
        }
    }

    public func setScale(_ path: APIPath, replicas: Int32, resourceVersion: String?, options: WriteOptions = WriteOptions()) async throws(Status) -> Scale {
        guard let name = path.name else { throw Status.notFound(path.kind, "") }
        if replicas < 0 {
            throw Status.invalid(path.kind, name, [.invalid("spec.replicas", "\(replicas)", "must be greater than or equal to 0")])
        }
        guard var obj = index.object(ObjectRef(path.kind, NamespacedName(path.namespace ?? "default", name))) else {
            throw Status.notFound(path.kind, name)
        }
        if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != obj.metadata.resourceVersion {
            throw Status.conflict(path.kind, name, StoreError.objectModified)
        }
        let old = obj
        switch obj {
        case var sts as StatefulSet: sts.spec.replicas = replicas; obj = sts
        case var rs as ReplicaSet: rs.spec.replicas = replicas; obj = rs
        default: throw Status.notFound(path.kind, name)
        }
        obj.metadata.managedFields = managedFields(old: old, new: obj, manager: options.manager, subresource: "scale")
        if options.dryRun { return try scale(path, replicas: replicas) }
        _ = try write(obj, requireVersion: false)
        try await durable()
        return try scale(path)
    }

    private func scaleMeta(_ o: any KubeObject) -> ObjectMeta {
        var m = ObjectMeta(name: o.name, namespace: o.metadata.namespace)
        m.uid = o.metadata.uid
        m.resourceVersion = o.metadata.resourceVersion
        m.creationTimestamp = o.metadata.creationTimestamp
        return m
    }

    /// The PersistentVolumeClaimResize admission plugin: a claim grows only if its class allows it and
    /// its volume was provisioned dynamically.
    func admitResize(old: any KubeObject, new: any KubeObject) throws(Status) {
        guard let o = old as? PersistentVolumeClaim, let n = new as? PersistentVolumeClaim,
              let want = n.spec.requestedStorage?.bytes, let had = o.spec.requestedStorage?.bytes, want > had else { return }
        let klass = o.spec.storageClassName.flatMap { index.classes[$0] }
        let provisioned = o.spec.volumeName.flatMap { index.volumes[$0] }.map {
            $0.metadata.annotation(Well.provisionedBy) != nil
        } ?? false
        guard klass?.allowVolumeExpansion == true, provisioned else {
            throw Status.forbidden(.persistentVolumeClaim, n.name,
                                   "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize")
        }
    }

    // MARK: helpers

    func decodeForWrite(_ kind: Kind, _ body: JSONValue) throws(Status) -> any KubeObject {
        // Stored as kube-apiserver's Go structs would store it: no empty omitempty lists and maps.
        var body = GoEncoding.omittingEmpty(body, kind: kind)
        if body["apiVersion"] == nil { body["apiVersion"] = .string(kind.apiVersion) }
        if body["kind"] == nil { body["kind"] = .string(kind.rawValue) }
        switch ObjectDecoding.decodeAny(body) {
        case .failure(let errors):
            throw Status.invalid(kind, body["metadata"]?["name"]?.stringValue ?? "", errors.errors)
        case .success(let o):
            if type(of: o).kind != kind {
                throw Status.badRequest("the body is a \(type(of: o).kind.rawValue), but the request is for \(kind.resource)")
            }
            return o
        }
    }

    /// The namespace of the URL is the object's; a body that names another is refused.
    func placeInNamespace(_ object: inout any KubeObject, _ path: APIPath) throws(Status) {
        guard path.kind.namespaced else {
            object.metadata.namespace = nil
            return
        }
        let ns = path.namespace ?? "default"
        if let bodyNS = object.metadata.namespace, bodyNS != ns {
            throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        object.metadata.namespace = ns
    }

    /// On update, as the registry strategies' PrepareForUpdate: the server keeps the object's identity
    /// (uid, creation and deletion times, generation, resourceVersion) and its status; everything else
    /// is the client's, and validation says what it may not change.
    static func carryServerFields(from old: any KubeObject, into new: any KubeObject) -> any KubeObject {
        var n = new
        n.metadata.uid = old.metadata.uid
        n.metadata.creationTimestamp = old.metadata.creationTimestamp
        n.metadata.deletionTimestamp = old.metadata.deletionTimestamp
        n.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
        n.metadata.generation = old.metadata.generation
        n.metadata.resourceVersion = old.metadata.resourceVersion
        switch (old, n) {
        case (let o as PersistentVolumeClaim, var c as PersistentVolumeClaim): c.status = o.status; return c
        case (let o as PersistentVolume, var v as PersistentVolume): v.status = o.status; return v
        case (let o as Pod, var p as Pod): p.status = o.status; return p
        case (let o as StatefulSet, var s as StatefulSet): s.status = o.status; return s
        case (let o as ReplicaSet, var r as ReplicaSet): r.status = o.status; return r
        case (let o as Node, var nd as Node): nd.status = o.status; return nd
        case (let o as Namespace, var ns as Namespace): ns.status = o.status; return ns
        case (let o as Service, var sv as Service): sv.status = o.status; return sv
        default: return n
        }
    }
}
