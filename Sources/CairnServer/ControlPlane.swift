import CairnControl
import CairnCore
import CairnStore
import Foundation
import Logging
import Synchronization

/// Where the daemon gets the time from; injected so tests can hold it still.
public protocol CairnClock: Sendable {
    func now() -> Time
}

public struct SystemClock: CairnClock {
    public init() {}
    public func now() -> Time { .now() }
}

/// The daemon's state and its single writer: every write, from a client (APIVerbs.swift) or a
/// controller (ActionExecutor.swift), is staged in SQLite's open transaction and applied to the index
/// the controllers plan from (WritePath.swift); the controller loop (ControllerLoop.swift) plans the
/// keys those writes made dirty and commits everything staged as one transaction (group commit).
/// Slow disk work runs outside the actor (NodeWorker.swift), so an API request never waits behind it.
public actor ControlPlane {
    let store: Store
    let agent: any NodeAgent
    let logger: Logger
    let names: any NameGenerator
    let clock: any CairnClock
    let nodeWorker: NodeWorker
    let settings: ControlPlaneSettings

    /// Every object, indexed, as staged (it runs ahead of the committed store until the next commit).
    var index = ClusterIndex()
    /// Keys each controller has to plan again.
    var queues = DirtyKeys()
    var events = EventAggregator()
    /// Clients waiting for their staged writes to be committed.
    var commitWaiters: [CheckedContinuation<Void, any Error>] = []
    /// When the last batch was committed (the loop keeps a batch open at most `batchWindow`).
    var lastCommit = Date()
    /// Objects to plan again at a time (`Action.recheck`), by controller.
    var rechecks: [(due: Date, controller: Controller, ref: ObjectRef)] = []
    /// The resourceVersion at which the change log's size was last looked at.
    var compactionCheckedAt: Int64 = 0
    /// While orphaned directories are swept, provisioning waits (a new directory has no volume yet).
    var sweeping = false
    var heldBackBySweep: [(Action, Controller)] = []
    /// Wakes the controller loop.
    let wake: AsyncStream<Void>.Continuation
    let wakes: AsyncStream<Void>

    /// API requests being served right now (counted outside the actor, so the controller loop can tell
    /// whether a client is waiting for it).
    nonisolated let requestsInFlight = Atomic<Int>(0)

    public init(store: Store, agent: any NodeAgent, localNodes: Set<String>, logger: Logger,
                names: any NameGenerator = RandomNameGenerator(), clock: any CairnClock = SystemClock(),
                settings: ControlPlaneSettings = ControlPlaneSettings()) {
        self.store = store
        self.agent = agent
        self.logger = logger
        self.names = names
        self.clock = clock
        self.settings = settings
        self.nodeWorker = NodeWorker(concurrency: settings.nodeWorkConcurrency)
        self.index.localNodes = localNodes
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: start-up

    /// Loads every object into the index. Objects that no longer decode are reported, not fatal.
    public func load() throws {
        let localNodes = index.localNodes
        let observed = index.observed
        index = ClusterIndex()
        index.localNodes = localNodes
        index.observed = observed
        events = EventAggregator()
        let all = try store.read { r in try Kind.allCases.flatMap { try r.list(kind: $0) } }
        for stored in all {
            do {
                let object = try decodeStored(stored)
                index.upsert(object)
                if let e = object as? Event { events.remember(e) }
            } catch {
                logger.error("skipping stored object that does not decode", metadata: ["object": "\(stored.key)", "error": "\(error)"])
            }
        }
        queues = DirtyKeys.all(index)
    }

    func decodeStored(_ stored: StoredObject) throws -> any KubeObject {
        // Every write decodes what it stored: the byte-level parser and the tree decoder, not
        // Foundation's JSONDecoder, which cost more than the planners at a thousand pods.
        try stored.key.kind.objectType.decode(text: stored.json)
    }

    // MARK: reads for Cairn's views (served from the index)

    public func get<T: KubeObject>(_ type: T.Type, namespace: String?, name: String) -> T? {
        index.object(ObjectRef(T.kind, NamespacedName(T.kind.namespaced ? (namespace ?? "default") : nil, name))) as? T
    }

    /// Runs `body` over the index as it is now.
    public func read<T: Sendable>(_ body: (ClusterIndex) throws -> T) rethrows -> T { try body(index) }

    public func history(namespace: String, claim: String) throws -> [HistoryEntry] {
        try store.read { try $0.history(namespace: namespace, claim: claim) }
    }

    public func fingerprint(claimUID: String, kind: FingerprintKind) throws -> Fingerprint? {
        try store.read { try $0.fingerprint(claimUID: claimUID, kind: kind) }
    }

    /// Names of every claim of a namespace the binding history remembers, including deleted ones.
    public func historyClaims(namespace: String) throws -> [String] {
        try store.read { try $0.historyClaimNames(namespace: namespace) }
    }

    public func recordedUsage() throws -> [String: VolumeUsageRecord] {
        try store.read { try $0.allUsage() }
    }

    /// Current usage of a volume: live from the filesystem when attached, else the last recorded figure.
    public func usage(volume: String) -> (used: Int64, capacity: Int64)? {
        if let u = agent.usage(volume: volume) { return u }
        if let r = try? store.read({ try $0.usage(volume: volume) }) { return (r.usedBytes, r.capacityBytes) }
        return nil
    }
}

/// How the control plane paces itself; the defaults are the daemon's, tests shorten them.
public struct ControlPlaneSettings: Sendable {
    /// A full resync of every controller, as the informers' safety net.
    public var resyncInterval: Duration = .seconds(300)
    /// How often the node agent's health (its heartbeat) is looked at.
    public var heartbeatInterval: Duration = .seconds(10)
    /// Events older than this are removed (the API server's event TTL).
    public var eventTTL: TimeInterval = 3600
    /// How many changes the change log keeps for watches to resume from.
    public var changeLogRetention = 50_000
    /// Node work (mounts, directories, fingerprints) run at once.
    public var nodeWorkConcurrency = 4
    public init() {}
}

extension KubeObject {
    static func decode(from json: JSONValue) throws -> any KubeObject { try json.decode(Self.self) }
    static func decode(text: String) throws -> any KubeObject { try JSONText.parse(Data(text.utf8)).decode(Self.self) }
}
