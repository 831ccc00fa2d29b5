import CairnControl
import CairnCore
import CairnStore
import Foundation
import Logging
import Synchronization

/// The API server and the controller manager in one actor: every write, from a client or a controller,
/// goes through here, into SQLite and then into the typed cache the controllers plan from.
public actor ControlPlane {
    let store: Store
    let agent: any NodeAgent
    let localNodes: Set<String>
    let logger: Logger
    let names: any NameGenerator
    var cache = ObjectCache()
    /// Event aggregation: "<involved uid>|<reason>|<message>" -> event key.
    var eventIndex: [String: (namespace: String, name: String)] = [:]
    /// API requests being served right now (counted outside the actor, so the controller loop can
    /// tell whether a client is waiting for it).
    nonisolated let requestsInFlight = Atomic<Int>(0)
    private var kickContinuation: AsyncStream<Void>.Continuation?
    private var kicks: AsyncStream<Void>?

    public init(store: Store, agent: any NodeAgent, localNodes: Set<String>, logger: Logger,
                names: any NameGenerator = RandomNameGenerator()) {
        self.store = store
        self.agent = agent
        self.localNodes = localNodes
        self.logger = logger
        self.names = names
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.kicks = stream
        self.kickContinuation = continuation
    }

    // MARK: start-up

    /// Loads every object into the cache. Objects that no longer decode are reported, not fatal.
    public func loadCache() throws {
        cache = ObjectCache()
        eventIndex = [:]
        let all = try store.read { r in try Kind.allCases.flatMap { try r.list(kind: $0) } }
        for stored in all {
            do {
                let obj = try decodeStored(stored)
                cache.put(obj)
                if let e = obj as? Event { eventIndex[eventKey(e)] = (e.metadata.namespace ?? "default", e.name) }
            } catch {
                logger.error("skipping stored \(stored.key): \(error)")
            }
        }
    }

    func decodeStored(_ stored: StoredObject) throws -> any KubeObject {
        try decodeErased(stored.key.kind.objectType, try stored.decodedBody())
    }

    private func decodeErased<T: KubeObject>(_ type: T.Type, _ json: JSONValue) throws -> any KubeObject {
        try json.decode(T.self)
    }

    // MARK: reads (served from SQLite as stored JSON text, so large lists never build trees)

    public func listJSON(_ kind: Kind, namespace: String?, labelSelector: String?) throws(Status) -> String {
        let selector: Selector?
        if let labelSelector, !labelSelector.isEmpty {
            do { selector = try Selector.parse(labelSelector) } catch {
                throw Status.badRequest("unable to parse requirement: \(error)")
            }
        } else {
            selector = nil
        }
        let (rv, items): (Int64, [StoredObject])
        do {
            (rv, items) = try store.read { r in (try r.currentResourceVersion(), try r.list(kind: kind, namespace: namespace)) }
        } catch {
            throw statusFor(error, kind: kind, name: "")
        }
        var texts: [String] = []
        texts.reserveCapacity(items.count)
        for item in items {
            if let selector {
                let labels = item.body["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
                if !selector.matches(labels) { continue }
            }
            texts.append(item.json)
        }
        let listKind = kind.rawValue + "List"
        return "{\"apiVersion\":\"\(kind.apiVersion)\",\"items\":[\(texts.joined(separator: ","))],\"kind\":\"\(listKind)\",\"metadata\":{\"resourceVersion\":\"\(rv)\"}}"
    }

    public func getJSON(_ kind: Kind, namespace: String?, name: String) throws(Status) -> String {
        do {
            guard let o = try store.read({ try $0.get(ObjectKey(kind: kind, namespace: namespace ?? "", name: name)) }) else {
                throw Status.notFound(kind, name)
            }
            return o.json
        } catch let s as Status {
            throw s
        } catch {
            throw statusFor(error, kind: kind, name: name)
        }
    }

    public func get<T: KubeObject>(_ type: T.Type, namespace: String?, name: String) -> T? {
        cache.get(T.kind, namespace: namespace, name: name) as? T
    }

    public func all<T: KubeObject>(_ type: T.Type) -> [T] { cache.all(T.self) }

    public func history(namespace: String, claim: String) throws -> [HistoryEntry] {
        try store.read { try $0.history(namespace: namespace, claim: claim) }
    }

    public func fingerprint(claimUID: String) throws -> Fingerprint? {
        try store.read { try $0.fingerprint(claimUID: claimUID) }
    }

    /// Names of every claim of a namespace the binding history remembers, including deleted ones.
    public func historyClaims(namespace: String) throws -> [String] {
        try store.read { try $0.historyClaimNames(namespace: namespace) }
    }

    public func recordedUsage() throws -> [String: VolumeUsageRecord] {
        try store.read { try $0.allUsage() }
    }

    // MARK: writes from clients

    /// POST: strict decode, validate, admit, store. `path.namespace` is the namespace of the URL.
    public func create(_ path: APIPath, body: JSONValue, dryRun: Bool = false) throws(Status) -> String {
        let object = try decodeForWrite(path.kind, body)
        var typed = object
        if path.kind.namespaced {
            let ns = path.namespace ?? "default"
            if let bodyNS = typed.metadata.namespace, bodyNS != ns {
                throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            typed.metadata.namespace = ns
        } else {
            typed.metadata.namespace = nil
        }
        if (typed.metadata.name ?? "").isEmpty, let g = typed.metadata.generateName {
            typed.metadata.name = g + names.suffix()
        }
        guard path.kind.userWritable else {
            throw Status.methodNotAllowed("\(path.kind.resource) are managed by cairn serve, not created by clients")
        }
        let errors = Validation.validate(typed)
        if !errors.isEmpty { throw Status.invalid(path.kind, typed.name, errors) }
        if cache.get(path.kind, namespace: typed.metadata.namespace, name: typed.name) != nil {
            throw Status.alreadyExists(path.kind, typed.name)
        }
        return try insert(typed, dryRun: dryRun).json
    }

    /// PUT: optimistic concurrency on metadata.resourceVersion; status stays the controllers'.
    public func update(_ path: APIPath, body: JSONValue, dryRun: Bool = false) throws(Status) -> String {
        guard let name = path.name else { throw Status.methodNotAllowed("PUT needs an object name in the path") }
        var new = try decodeForWrite(path.kind, body)
        if let bodyName = new.metadata.name, bodyName != name {
            throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        new.metadata.name = name
        if path.kind.namespaced {
            let ns = path.namespace ?? "default"
            if let bodyNS = new.metadata.namespace, bodyNS != ns {
                throw Status.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            new.metadata.namespace = ns
        }
        guard path.kind.userWritable else {
            throw Status.methodNotAllowed("\(path.kind.resource) are managed by cairn serve, not updated by clients")
        }
        guard let old = cache.get(path.kind, namespace: new.metadata.namespace, name: name) else {
            throw Status.notFound(path.kind, name)
        }
        if let rv = new.metadata.resourceVersion, rv != old.metadata.resourceVersion {
            throw Status.conflict(path.kind, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        let errors = Validation.validateUpdate(old: old, new: new)
        if !errors.isEmpty { throw Status.invalid(path.kind, name, errors) }
        let merged = carryServerFields(from: old, into: new)
        if dryRun { return (try? JSONValue(encoding: merged).jsonText()) ?? "{}" }
        return try write(merged, requireVersion: false).json
    }

    /// PATCH with a JSON merge patch (RFC 7386); kubectl's strategic merge patches of the fields Cairn
    /// models are merge patches too.
    public func patch(_ path: APIPath, patch: JSONValue) throws(Status) -> String {
        guard let name = path.name else { throw Status.methodNotAllowed("PATCH needs an object name in the path") }
        guard let old = cache.get(path.kind, namespace: path.kind.namespaced ? (path.namespace ?? "default") : nil, name: name) else {
            throw Status.notFound(path.kind, name)
        }
        let oldJSON: JSONValue
        do { oldJSON = try JSONValue(encoding: old) } catch { throw Status.internalError("\(error)") }
        let merged = mergePatch(oldJSON, patch)
        return try update(path, body: merged)
    }

    public func delete(_ path: APIPath, preconditionUID: String? = nil) throws(Status) -> String {
        guard let name = path.name else { throw Status.methodNotAllowed("DELETE of a whole collection is not supported; name the object") }
        let ns = path.kind.namespaced ? (path.namespace ?? "default") : nil
        guard let obj = cache.get(path.kind, namespace: ns, name: name) else { throw Status.notFound(path.kind, name) }
        if path.kind == .namespace && name == "default" {
            throw Status.forbidden(.namespace, name, "this namespace may not be deleted")
        }
        if let preconditionUID, preconditionUID != obj.uid {
            throw Status.conflict(path.kind, name, "Precondition failed: UID in precondition: \(preconditionUID), UID in object meta: \(obj.uid)")
        }
        let result = try deleteObject(obj)
        kick()
        return result
    }

    public func scale(_ path: APIPath) throws(Status) -> Scale {
        guard let name = path.name else { throw Status.notFound(path.kind, "") }
        let ns = path.namespace ?? "default"
        switch cache.get(path.kind, namespace: ns, name: name) {
        case let sts as StatefulSet:
            let sel = sts.spec.selector.flatMap { try? $0.asSelector() }.map(\.description)
            return Scale(metadata: scaleMeta(sts), replicas: Int32(sts.replicas), statusReplicas: sts.status?.replicas ?? 0, selector: sel)
        case let rs as ReplicaSet:
            let sel = rs.spec.selector.flatMap { try? $0.asSelector() }.map(\.description)
            return Scale(metadata: scaleMeta(rs), replicas: Int32(rs.replicas), statusReplicas: rs.status?.replicas ?? 0, selector: sel)
        default:
            throw Status.notFound(path.kind, name)
        }
    }

    public func setScale(_ path: APIPath, replicas: Int32, resourceVersion: String?) throws(Status) -> Scale {
        guard let name = path.name else { throw Status.notFound(path.kind, "") }
        if replicas < 0 {
            throw Status.invalid(path.kind, name, [.invalid("spec.replicas", "\(replicas)", "must be greater than or equal to 0")])
        }
        let ns = path.namespace ?? "default"
        guard var obj = cache.get(path.kind, namespace: ns, name: name) else { throw Status.notFound(path.kind, name) }
        if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != obj.metadata.resourceVersion {
            throw Status.conflict(path.kind, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        switch obj {
        case var sts as StatefulSet: sts.spec.replicas = replicas; obj = sts
        case var rs as ReplicaSet: rs.spec.replicas = replicas; obj = rs
        default: throw Status.notFound(path.kind, name)
        }
        _ = try write(obj, requireVersion: false)
        return try scale(path)
    }

    private func scaleMeta(_ o: any KubeObject) -> ObjectMeta {
        var m = ObjectMeta(name: o.name, namespace: o.metadata.namespace)
        m.uid = o.metadata.uid
        m.resourceVersion = o.metadata.resourceVersion
        m.creationTimestamp = o.metadata.creationTimestamp
        return m
    }

    // MARK: shared write paths

    func decodeForWrite(_ kind: Kind, _ body: JSONValue) throws(Status) -> any KubeObject {
        var body = body
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

    /// Admission, the namespace check, then the store.
    @discardableResult
    func insert(_ object: any KubeObject, dryRun: Bool = false) throws(Status) -> StoredObject {
        let kind = type(of: object).kind
        if kind.namespaced, let ns = object.metadata.namespace {
            guard let namespace = cache.get(.namespace, namespace: nil, name: ns) else {
                throw Status.notFound(.namespace, ns)
            }
            if namespace.metadata.isDeleting, kind != .event {
                throw Status.forbidden(kind, object.name, "unable to create new content in namespace \(ns) because it is being terminated")
            }
        }
        var admitted = Admission.admitCreate(object, classes: cache.all(StorageClass.self))
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
            let stored = try store.write { w in try w.create(kind, json, now: .now()) }
            cache.put(try decodeStored(stored))
            kick()
            return stored
        } catch let s as Status {
            throw s
        } catch {
            throw statusFor(error, kind: kind, name: object.name)
        }
    }

    /// Writes an object back. A deleting object left without finalizers is removed, as the API server does.
    @discardableResult
    func write(_ object: any KubeObject, requireVersion: Bool) throws(Status) -> StoredObject {
        let kind = type(of: object).kind
        var o = object
        o.setTypeMeta()
        do {
            let json = try JSONValue(encoding: o)
            let stored = try store.write { w in try w.update(kind, json, requireResourceVersion: requireVersion) }
            let typed = try decodeStored(stored)
            cache.put(typed)
            kick()
            if typed.metadata.isDeleting && (typed.metadata.finalizers ?? []).isEmpty && !awaitsNodeAgent(typed) {
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
    func deleteObject(_ obj: any KubeObject) throws(Status) -> String {
        if obj.metadata.isDeleting { return (try? JSONValue(encoding: obj).jsonText()) ?? "{}" }
        let graceful = !(obj.metadata.finalizers ?? []).isEmpty || awaitsNodeAgent(obj) || obj is Namespace
        if graceful {
            var o = obj
            o.metadata.deletionTimestamp = .now()
            if let pod = o as? Pod { o.metadata.deletionGracePeriodSeconds = pod.spec.terminationGracePeriodSeconds ?? 30 }
            if var ns = o as? Namespace { ns.status = NamespaceStatus(phase: "Terminating"); o = ns }
            return try write(o, requireVersion: false).json
        }
        return try remove(obj).json
    }

    @discardableResult
    func remove(_ obj: any KubeObject) throws(Status) -> StoredObject {
        let kind = type(of: obj).kind
        do {
            let key = ObjectKey(kind: kind, namespace: obj.metadata.namespace ?? "", name: obj.name)
            let gone = try store.write { w in try w.delete(key, preconditionUID: obj.metadata.uid) }
            cache.remove(kind, namespace: obj.metadata.namespace, name: obj.name)
            if let e = obj as? Event { eventIndex[eventKey(e)] = nil }
            kick()
            return gone
        } catch {
            throw statusFor(error, kind: kind, name: obj.name)
        }
    }

    /// A pod placed on a node is deleted by the node agent once its volumes are unmounted (kubelet's role).
    func awaitsNodeAgent(_ obj: any KubeObject) -> Bool {
        guard let pod = obj as? Pod, let node = pod.spec.nodeName else { return false }
        return localNodes.contains(node)
    }

    /// On update, the server owns uid, creation time, deletion, generation and (for these kinds) status.
    func carryServerFields(from old: any KubeObject, into new: any KubeObject) -> any KubeObject {
        var n = new
        n.metadata.uid = old.metadata.uid
        n.metadata.creationTimestamp = old.metadata.creationTimestamp
        n.metadata.deletionTimestamp = old.metadata.deletionTimestamp
        n.metadata.generation = old.metadata.generation
        n.metadata.resourceVersion = old.metadata.resourceVersion
        switch (old, n) {
        case (let o as PersistentVolumeClaim, var c as PersistentVolumeClaim):
            c.status = o.status
            if c.spec.volumeName == nil { c.spec.volumeName = o.spec.volumeName }
            if c.spec.storageClassName == nil { c.spec.storageClassName = o.spec.storageClassName }
            for (k, v) in o.metadata.annotations ?? [:] where k.hasPrefix("pv.kubernetes.io/") || k.hasPrefix("volume.") {
                if c.metadata.annotation(k) == nil { c.metadata.setAnnotation(k, v) }
            }
            if c.metadata.finalizers == nil { c.metadata.finalizers = o.metadata.finalizers }
            c.spec.volumeMode = c.spec.volumeMode ?? o.spec.volumeMode
            return c
        case (let o as PersistentVolume, var v as PersistentVolume):
            v.status = o.status
            if v.metadata.finalizers == nil { v.metadata.finalizers = o.metadata.finalizers }
            return v
        case (let o as Pod, var p as Pod):
            p.status = o.status
            if p.spec.nodeName == nil { p.spec.nodeName = o.spec.nodeName }
            p.spec = Admission.defaultPodSpec(p.spec)
            return p
        case (let o as StatefulSet, var s as StatefulSet):
            s.status = o.status
            s.spec = Admission.defaultStatefulSetSpec(s.spec)
            return s
        case (let o as ReplicaSet, var r as ReplicaSet):
            r.status = o.status
            if r.spec.replicas == nil { r.spec.replicas = 1 }
            return r
        case (let o as Node, var nd as Node):
            nd.status = o.status
            return nd
        case (let o as Namespace, var ns as Namespace):
            ns.status = o.status
            return ns
        case (_, let sc as StorageClass):
            return Admission.admitCreate(sc, classes: [])
        default:
            return n
        }
    }

    // MARK: events

    func eventKey(_ e: Event) -> String {
        "\(e.involvedObject.uid ?? "")|\(e.reason ?? "")|\(e.message ?? "")"
    }

    /// Records an Event, or bumps the count of the same one (same object, reason and message), as
    /// client-go's event correlator does.
    public func recordEvent(_ ref: ObjectReference, type: EventType, reason: String, message: String) {
        let now = Time.now()
        let key = "\(ref.uid ?? "")|\(reason)|\(message)"
        if let existing = eventIndex[key],
           var e = cache.get(.event, namespace: existing.namespace, name: existing.name) as? Event {
            e.count = (e.count ?? 1) + 1
            e.lastTimestamp = now
            if (try? write(e, requireVersion: false)) == nil { eventIndex[key] = nil }
            return
        }
        let ns = ref.namespace ?? "default"
        let suffix = String(UInt64(Date().timeIntervalSince1970 * 1_000_000_000), radix: 16)
        var e = Event(metadata: ObjectMeta(name: "\(ref.name ?? "object").\(suffix)", namespace: ns), involvedObject: ref)
        e.reason = reason
        e.message = message
        e.type = type.rawValue
        e.count = 1
        e.firstTimestamp = now
        e.lastTimestamp = now
        e.source = EventSource(component: component(for: reason))
        e.reportingComponent = e.source?.component
        if let stored = try? insert(e) {
            eventIndex[key] = (ns, stored.key.name)
        }
    }

    func component(for reason: String) -> String {
        switch reason {
        case "FailedScheduling", "Scheduled": "default-scheduler"
        case "SuccessfulCreate", "SuccessfulDelete", "RecreatingFailedPod", "FailedCreate":
            "statefulset-controller"
        case "FailedMount", "Started", "Killing", "SuccessfulMountVolume": "kubelet"
        case "Provisioning", "ProvisioningSucceeded", "ExternalProvisioning":
            Validation.provisionerName
        default: "persistentvolume-controller"
        }
    }

    /// Events expire after an hour, as the API server's event TTL.
    func pruneEvents(olderThan seconds: TimeInterval = 3600) {
        let cutoff = Date().addingTimeInterval(-seconds)
        for e in cache.all(Event.self) where (e.lastTimestamp?.date ?? .distantPast) < cutoff {
            _ = try? remove(e)
        }
    }

    // MARK: controller loop

    public func kick() { kickContinuation?.yield() }

    /// Most actions one store transaction holds: enough to make commits rare, few enough that an API
    /// request waiting for the actor is not held up for long.
    static let actionsPerCommit = 250

    /// Runs the controllers until cancelled: after every change, and at least once a second.
    public func runControllers() async {
        guard let kicks else { return }
        var lastPrune = Date()
        var iterator = kicks.makeAsyncIterator()
        let clock = ContinuousClock()
        var lastSync = Duration.zero
        while !Task.isCancelled {
            var rounds = 0
            while rounds < 100, !Task.isCancelled {
                rounds += 1
                let start = clock.now
                let changes = syncOnce()
                lastSync = clock.now - start
                if changes == 0 { break }
                await breathe(after: lastSync)
            }
            if Date().timeIntervalSince(lastPrune) > 60 {
                pruneEvents()
                recordUsage()
                sweepOrphanDirectories(reportKept: false)
                lastPrune = Date()
            }
            // Wait for a kick or a one-second tick, whichever comes first.
            let tick = Task { [weak self] in
                // A cancelled tick must not kick: that would start the next round at once, forever.
                do { try await Task.sleep(for: .seconds(1)) } catch { return }
                await self?.kick()
            }
            _ = await iterator.next()
            tick.cancel()
            await breathe(after: lastSync)
        }
    }

    /// While clients are waiting, a pause after a sync as long as the sync took: API requests get at
    /// least half of the actor's time, and a burst of writes (an apply of thousands of objects) is met
    /// by one sync per pause rather than one per write, each of which walks every object. With nobody
    /// waiting the controllers run flat out.
    private func breathe(after lastSync: Duration) async {
        if requestsInFlight.load(ordering: .relaxed) > 0 {
            try? await Task.sleep(for: min(max(lastSync, .milliseconds(1)), .milliseconds(250)))
        } else {
            await Task.yield()
        }
    }

    /// One pass of every controller over the current state; returns how many changes it made.
    @discardableResult
    public func syncOnce() -> Int {
        var changes = 0
        let planners: [(String, (ClusterSnapshot) -> [Action])] = [
            ("garbage-collector", { GarbageCollector.plan($0) }),
            ("statefulset-controller", { StatefulSetPlanner.plan($0) }),
            ("replicaset-controller", { [names] in ReplicaSetPlanner.plan($0, names: names) }),
            ("persistentvolume-controller", { StoragePlanner.plan($0) }),
            ("default-scheduler", { Scheduler.plan($0) }),
            ("node-agent", { NodeAgentPlanner.plan($0) }),
        ]
        for (name, plan) in planners {
            let snapshot = cache.snapshot(now: .now(), localNodes: localNodes)
            let actions = plan(snapshot)
            // Group commit: a controller's actions share transactions (one fsync per batch, not per
            // object). A crash loses at most the open batch, which the next sync plans again; the cache
            // runs ahead of the store only until the commit, and is reloaded if a commit fails.
            var start = 0
            while start < actions.count {
                let chunk = actions[start..<min(start + Self.actionsPerCommit, actions.count)]
                start += chunk.count
                var made = 0
                do {
                    try store.batch {
                        for action in chunk {
                            let changed = perform(action, by: name)
                            if changed > 0 { logger.trace("\(name): \(action.summary)") }
                            made += changed
                        }
                    }
                    changes += made
                } catch {
                    logger.error("\(name): committing \(chunk.count) actions failed: \(error); reloading state from the store")
                    do { try loadCache() } catch { logger.critical("reloading the store failed: \(error)") }
                    changes += 1
                }
            }
        }
        changes += finishNamespaces()
        return changes
    }

    /// Deletes the contents of terminating namespaces, then the namespace (the namespace controller).
    func finishNamespaces() -> Int {
        var changes = 0
        for ns in cache.all(Namespace.self) where ns.metadata.isDeleting {
            var remaining = 0
            for kind in Kind.allCases where kind.namespaced {
                for obj in cacheObjects(kind) where obj.metadata.namespace == ns.name {
                    remaining += 1
                    if !obj.metadata.isDeleting, (try? deleteObject(obj)) != nil { changes += 1 }
                }
            }
            if remaining == 0, (try? remove(ns)) != nil { changes += 1 }
        }
        return changes
    }

    func cacheObjects(_ kind: Kind) -> [any KubeObject] {
        switch kind {
        case .storageClass: cache.all(StorageClass.self)
        case .persistentVolume: cache.all(PersistentVolume.self)
        case .persistentVolumeClaim: cache.all(PersistentVolumeClaim.self)
        case .pod: cache.all(Pod.self)
        case .node: cache.all(Node.self)
        case .event: cache.all(Event.self)
        case .namespace: cache.all(Namespace.self)
        case .statefulSet: cache.all(StatefulSet.self)
        case .replicaSet: cache.all(ReplicaSet.self)
        case .service: cache.all(Service.self)
        }
    }

    /// Performs one action; returns 1 if it changed state. Failures are logged and left for the next sync.
    func perform(_ action: Action, by controller: String) -> Int {
        do {
            switch action {
            case .create(let obj):
                let result: Result<StoredObject, Status> = Result { () throws(Status) -> StoredObject in try insert(obj) }
                switch result {
                case .success: return 1
                case .failure(let s) where s.reason == "AlreadyExists": return 0
                case .failure(let s): throw s
                }
            case .update(let obj):
                try write(obj, requireVersion: true)
                return 1
            case .delete(let kind, let namespace, let name, let uid):
                guard let obj = cache.get(kind, namespace: namespace, name: name), obj.uid == uid else { return 0 }
                if obj.metadata.isDeleting {
                    // Nothing left to wait for (no finalizers, no node agent work): remove it now.
                    guard (obj.metadata.finalizers ?? []).isEmpty, !awaitsNodeAgent(obj) else { return 0 }
                    try remove(obj)
                    return 1
                }
                _ = try deleteObject(obj)
                return 1
            case .event(let object, let type, let reason, let message):
                recordEvent(object, type: type, reason: reason, message: message)
                return 0
            case .provision(let volume, let directory):
                try agent.createVolumeDirectory(directory)
                try insert(volume)
                let capacity = volume.spec.capacity?["storage"]?.bytes ?? 0
                // A new volume holds nothing yet; the filesystem reports real figures once it is mounted.
                _ = try? store.write { w in try w.recordUsage(volume: volume.name, used: 0, capacity: capacity, at: .now()) }
                return 1
            case .reclaimDelete(let volume, let directory):
                guard var pv = get(PersistentVolume.self, namespace: nil, name: volume.name), pv.uid == volume.uid else { return 0 }
                do {
                    try agent.removeVolumeDirectory(directory)
                } catch {
                    pv.status?.phase = "Failed"
                    pv.status?.message = "\(error)"
                    try write(pv, requireVersion: false)
                    recordEvent(pv.reference(), type: .warning, reason: "VolumeFailedDelete", message: "\(error)")
                    return 1
                }
                pv.metadata.removeFinalizer(Well.pvProtection)
                if pv.metadata.isDeleting {
                    try write(pv, requireVersion: false)
                } else {
                    try write(pv, requireVersion: false)
                    if let current = get(PersistentVolume.self, namespace: nil, name: pv.name) { try remove(current) }
                }
                return 1
            case .startPod(let pod, let mounts):
                return try startPod(pod, mounts: mounts)
            case .stopPod(let pod, let mounts):
                return try stopPod(pod, mounts: mounts)
            case .history(let what, let claim, let volume, let node, let pod, let detail):
                try store.write { w in
                    _ = try w.appendHistory(HistoryEntry(at: .now(), namespace: claim.namespace ?? "", claim: claim.name ?? "",
                                                         claimUID: claim.uid ?? "", volume: volume, node: node, pod: pod,
                                                         action: BindingAction(rawValue: what.rawValue) ?? .bound, detail: detail))
                }
                return 0
            }
        } catch let s as Status {
            if s.reason == "Conflict" || s.reason == "NotFound" {
                logger.debug("\(controller): \(s.message) (will retry)")
            } else {
                logger.warning("\(controller): \(s.message)")
            }
        } catch {
            logger.warning("\(controller): \(error)")
        }
        return 0
    }

    func startPod(_ pod: Pod, mounts: [PodVolumeMount]) throws -> Int {
        guard var current = get(Pod.self, namespace: pod.metadata.namespace, name: pod.name), current.uid == pod.uid else { return 0 }
        let ns = pod.metadata.namespace ?? "default"
        // What the pod finds on arrival, to compare with what the last pod left (cairn verify retention).
        for m in mounts {
            guard (try? store.read({ try $0.fingerprint(claimUID: m.claimUID) })) != nil,
                  let f = try? agent.fingerprint(path: m.backingPath, deep: false) else { continue }
            _ = try? store.write { w in
                try w.recordFingerprint(Fingerprint(claimUID: "arrival:" + m.claimUID, namespace: ns, claim: m.claimName,
                                                    volume: m.persistentVolume, pod: pod.name, recordedAt: .now(),
                                                    files: f.files, bytes: f.bytes, digest: f.digest))
            }
        }
        do {
            try agent.startPod(namespace: ns, pod: pod.name, mounts: mounts)
        } catch {
            let message = "MountVolume.SetUp failed for volume \"\(mounts.first?.persistentVolume ?? "")\" : \(error)"
            if current.status?.message != message {
                current.status?.message = message
                try write(current, requireVersion: false)
                recordEvent(pod.reference(), type: .warning, reason: "FailedMount", message: message)
            }
            return 0
        }
        let now = Time.now()
        var status = current.status ?? PodStatus()
        status.phase = "Running"
        status.message = nil
        status.reason = nil
        status.hostIP = "127.0.0.1"
        if status.startTime == nil { status.startTime = now }
        var conditions: [PodCondition] = []
        for type in ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"] {
            let previous = status.conditions?.first { $0.type == type }
            conditions.append(PodCondition(type: type, status: "True",
                                           lastTransitionTime: previous?.status == "True" ? previous?.lastTransitionTime : now))
        }
        status.conditions = conditions
        current.status = status
        try write(current, requireVersion: false)
        for m in mounts {
            try store.write { w in
                _ = try w.appendHistory(HistoryEntry(at: now, namespace: ns, claim: m.claimName, claimUID: m.claimUID,
                                                     volume: m.persistentVolume, node: m.node, pod: pod.name, action: .mounted,
                                                     detail: agent.hostPath(namespace: ns, pod: pod.name, volume: m.volumeName)))
            }
        }
        return 1
    }

    func stopPod(_ pod: Pod, mounts: [PodVolumeMount]) throws -> Int {
        guard let current = get(Pod.self, namespace: pod.metadata.namespace, name: pod.name), current.uid == pod.uid else { return 0 }
        let ns = pod.metadata.namespace ?? "default"
        let now = Time.now()
        // Keep the last usage figures, so an unmounted volume still shows what it holds.
        for m in mounts {
            if let u = agent.usage(volume: m.persistentVolume) {
                _ = try? store.write { w in try w.recordUsage(volume: m.persistentVolume, used: u.used, capacity: u.capacity, at: now) }
            }
        }
        let prints = try agent.stopPod(namespace: ns, pod: pod.name, mounts: mounts)
        try store.write { w in
            for m in mounts {
                if let f = prints[m.claimUID] {
                    try w.recordFingerprint(Fingerprint(claimUID: m.claimUID, namespace: ns, claim: m.claimName, volume: m.persistentVolume,
                                                        pod: pod.name, recordedAt: now, files: f.files, bytes: f.bytes,
                                                        digest: "\(f.digest)/\(f.deepDigest)"))
                }
                _ = try w.appendHistory(HistoryEntry(at: now, namespace: ns, claim: m.claimName, claimUID: m.claimUID,
                                                     volume: m.persistentVolume, node: m.node, pod: pod.name, action: .unmounted))
            }
        }
        try remove(current)
        return 1
    }

    /// Saves the filesystem's usage figures so `cairn bindings` shows them even for unmounted volumes.
    func recordUsage() {
        let now = Time.now()
        for pv in cache.all(PersistentVolume.self) {
            guard let u = agent.usage(volume: pv.name) else { continue }
            _ = try? store.write { w in try w.recordUsage(volume: pv.name, used: u.used, capacity: u.capacity, at: now) }
        }
    }

    /// Current usage of a volume: live from the filesystem when attached, else the last recorded figure.
    public func usage(volume: String) -> (used: Int64, capacity: Int64)? {
        if let u = agent.usage(volume: volume) { return u }
        if let r = try? store.read({ try $0.usage(volume: volume) }) { return (r.usedBytes, r.capacityBytes) }
        return nil
    }

    // MARK: nodes, classes, namespaces at start-up

    /// Creates or refreshes an object the daemon owns (Nodes, the default namespace, the served classes).
    public func ensure(_ object: any KubeObject) throws(Status) {
        let kind = type(of: object).kind
        if let existing = cache.get(kind, namespace: object.metadata.namespace, name: object.name) {
            var o = object
            o.metadata.uid = existing.metadata.uid
            o.metadata.creationTimestamp = existing.metadata.creationTimestamp
            o.metadata.resourceVersion = existing.metadata.resourceVersion
            o.metadata.generation = existing.metadata.generation
            if kind == .storageClass {
                o = Admission.admitCreate(o, classes: [])
                let errors = Validation.validateUpdate(old: existing, new: o)
                if !errors.isEmpty { throw Status.invalid(kind, o.name, errors) }
            }
            let a = try? JSONValue(encoding: existing), b = try? JSONValue(encoding: o)
            if a != b { try write(o, requireVersion: false) }
        } else {
            if kind != .node && kind != .namespace {
                let errors = Validation.validate(object)
                if !errors.isEmpty { throw Status.invalid(kind, object.name, errors) }
            }
            try insert(object)
        }
    }

    /// Removes empty volume directories that no PersistentVolume names (see
    /// NodeAgent.sweepOrphanDirectories); run when every write so far is committed.
    public func sweepOrphanDirectories(reportKept: Bool) {
        var known = Set<String>()
        for pv in cache.all(PersistentVolume.self) {
            guard let path = pv.spec.local?.path else { continue }
            known.insert(String(path.split(separator: "/").last ?? ""))
        }
        let (removed, kept) = agent.sweepOrphanDirectories(known: known)
        for r in removed { logger.notice("removed empty volume directory \(r): no PersistentVolume names it (left by an interrupted provisioning)") }
        if reportKept {
            for k in kept { logger.info("volume directory \(k) belongs to no PersistentVolume and holds data; kept (remove it by hand if it is not wanted)") }
        }
    }

    /// Marks every pod on this host's nodes as not ready: after a restart their volumes must be mounted
    /// again before they report Ready (the node agent does it at the next sync).
    public func markLocalPodsNotReady() {
        for var pod in cache.all(Pod.self) where pod.spec.nodeName.map(localNodes.contains) == true && pod.phase == "Running" {
            let now = Time.now()
            let conditions = pod.status?.conditions
            pod.status?.conditions = conditions?.map { c in
                guard c.type == "Ready" || c.type == "ContainersReady" else { return c }
                return PodCondition(type: c.type, status: "False", reason: "NodeAgentRestarted",
                                    message: "cairn serve restarted; volumes are being mounted again", lastTransitionTime: now)
            }
            pod.status?.phase = "Pending"
            _ = try? write(pod, requireVersion: false)
        }
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
            case .invariant(let message): return Status(code: 409, reason: "Conflict", message: message)
            case .corrupt(let message): return .internalError(message)
            }
        default:
            return .internalError("\(error)")
        }
    }
}

/// RFC 7386 JSON merge patch.
func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
    guard case .object(let p) = patch else { return patch }
    var t = target.objectValue ?? [:]
    for (k, v) in p {
        if v == .null { t[k] = nil } else { t[k] = mergePatch(t[k] ?? .null, v) }
    }
    return .object(t)
}
