import CairnControl
import CairnCore
import CairnStore
import Foundation

/// The one way an object is written: staged in the store's open transaction (with its change-log row),
/// then applied to the index, whose change queues the keys it affects (Triggers). Both clients and
/// controllers write through here.
extension ControlPlane {
    /// Admission, the namespace check, then the store. Returns the stored object.
    @discardableResult
    func insert(_ object: any KubeObject, dryRun: Bool = false) throws(Status) -> StoredObject {
        let kind = type(of: object).kind
        if kind.namespaced, let ns = object.metadata.namespace {
            guard let namespace = index.namespaces[ns] else { throw Status.notFound(.namespace, ns) }
            if namespace.metadata.isDeleting, kind != .event {
                throw Status.forbidden(kind, object.name, "unable to create new content in namespace \(ns) because it is being terminated")
            }
        }
        var admitted = Admission.admitCreate(Defaulting.apply(object), defaultClass: index.defaultStorageClass)
        admitted.metadata.resourceVersion = nil
        admitted.metadata.uid = nil
        admitted.metadata.creationTimestamp = nil
        admitted.metadata.deletionTimestamp = nil
        admitted.setTypeMeta()
        do {
            let json = try JSONValue(encoding: admitted)
            if dryRun {
                return StoredObject(key: ObjectKey(kind: kind, namespace: admitted.metadata.namespace ?? "", name: admitted.name),
                                    uid: "", resourceVersion: 0, json: json.jsonText())
            }
            let now = clock.now()
            let stored = try store.stage { w in try w.create(kind, json, now: now) }
            apply(try decodeStored(stored))
            return stored
        } catch let s as Status {
            throw s
        } catch {
            throw statusFor(error, kind: kind, name: object.name)
        }
    }

    /// Writes an object back. A deleting object left with nothing to wait for is removed, as the API
    /// server does once the last finalizer goes.
    @discardableResult
    func write(_ object: any KubeObject, requireVersion: Bool) throws(Status) -> StoredObject {
        let kind = type(of: object).kind
        var o = object
        o.setTypeMeta()
        do {
            let json = try JSONValue(encoding: o)
            let stored = try store.stage { w in try w.update(kind, json, requireResourceVersion: requireVersion) }
            let typed = try decodeStored(stored)
            apply(typed)
            if typed.metadata.isDeleting && !waitsBeforeRemoval(typed) {
                return try remove(typed)
            }
            return stored
        } catch let s as Status {
            throw s
        } catch {
            throw statusFor(error, kind: kind, name: object.name)
        }
    }

    /// Deletes at once, or marks for deletion when finalizers or a node agent still have work to do.
    func deleteObject(_ obj: any KubeObject) throws(Status) -> StoredObject {
        if obj.metadata.isDeleting {
            let json = (try? JSONValue(encoding: obj).jsonText()) ?? "{}"
            return StoredObject(key: ObjectKey(kind: type(of: obj).kind, namespace: obj.metadata.namespace ?? "", name: obj.name),
                                uid: obj.uid, resourceVersion: Int64(obj.metadata.resourceVersion ?? "") ?? 0, json: json)
        }
        guard waitsBeforeRemoval(obj) else { return try remove(obj) }
        var o = obj
        o.metadata.deletionTimestamp = clock.now()
        if let pod = o as? Pod { o.metadata.deletionGracePeriodSeconds = pod.spec.terminationGracePeriodSeconds ?? 30 }
        if var ns = o as? Namespace { ns.status = NamespaceStatus(phase: .terminating); o = ns }
        return try write(o, requireVersion: false)
    }

    @discardableResult
    func remove(_ obj: any KubeObject) throws(Status) -> StoredObject {
        let kind = type(of: obj).kind
        do {
            let key = ObjectKey(kind: kind, namespace: obj.metadata.namespace ?? "", name: obj.name)
            let gone = try store.stage { w in try w.delete(key, preconditionUID: obj.metadata.uid) }
            if let e = obj as? Event { events.forget(e) }
            applyRemoval(ObjectRef(obj))
            return gone
        } catch {
            throw statusFor(error, kind: kind, name: obj.name)
        }
    }

    /// What keeps a deleted object until someone finishes with it: finalizers, a namespace's own
    /// `kubernetes` finalizer (the namespace controller empties it first), and a pod on one of this
    /// host's nodes (the node agent unmounts its volumes first, as kubelet does).
    func waitsBeforeRemoval(_ obj: any KubeObject) -> Bool {
        if !(obj.metadata.finalizers ?? []).isEmpty { return true }
        if let ns = obj as? Namespace {
            return ns.spec?["finalizers"]?.arrayValue?.isEmpty == false
        }
        guard let pod = obj as? Pod, let node = pod.spec.nodeName else { return false }
        return index.localNodes.contains(node)
    }

    // MARK: the index

    /// An object as stored now: into the index, and the keys it affects into the queues.
    func apply(_ object: any KubeObject) {
        let old = index.upsert(object)
        queues.merge(Triggers.keys(for: IndexChange(old: old, new: object), in: index))
        wake.yield()
    }

    func applyRemoval(_ ref: ObjectRef) {
        guard let old = index.remove(ref) else { return }
        queues.merge(Triggers.keys(for: IndexChange(old: old, new: nil), in: index))
        wake.yield()
    }

    // MARK: errors

    func statusFor(_ error: any Error, kind: Kind, name: String) -> Status {
        switch error {
        case let s as Status: return s
        case let e as StoreError:
            switch e {
            case .notFound(let key): return .notFound(key.kind, key.name)
            case .alreadyExists(let key): return .alreadyExists(key.kind, key.name)
            case .conflict(let key, let why): return .conflict(key.kind, key.name, why)
            case .invariant(let message): return Status(code: 409, reason: .conflict, message: message)
            case .corrupt(let message): return .internalError(message)
            }
        default:
            return .internalError("\(error)")
        }
    }
}
