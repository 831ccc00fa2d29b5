import CairnControl
import CairnCore
import CairnStore
import Foundation

/// The controller manager's loop: wake on a write, a finished piece of node work or a timer; plan the
/// dirty keys of each controller in turn (each plan sees the writes of the ones before it); commit
/// everything staged, clients' writes included, in one transaction; repeat until nothing is dirty.
extension ControlPlane {
    /// The controllers, in the order one round plans them.
    static let order: [Controller] = [.garbageCollector, .namespace, .nodeLifecycle, .statefulSet, .replicaSet,
                                      .persistentVolume, .resizer, .scheduler, .kubelet]

    /// Most rounds before the loop stops to let timers and clients in.
    static let roundsPerWake = 200

    /// Runs the controllers until cancelled.
    public func runControllers() async {
        var iterator = wakes.makeAsyncIterator()
        var timers = LoopTimers(now: Date(), settings: settings)
        while !Task.isCancelled {
            // Clients' requests queued on the actor stage their writes before this commit.
            await Task.yield()
            await runDueTimers(&timers)
            var rounds = 0
            repeat {
                if !queues.isEmpty { runRound() }
                if commitIsDue() { commitStaged() }
                rounds += 1
                await Task.yield()
            } while !queues.isEmpty && rounds < Self.roundsPerWake && !Task.isCancelled
            if !queues.isEmpty { continue }
            // Sleep until woken, the next timer, or the moment the open batch must be committed.
            var wakeAt = timers.next(rechecks: rechecks.map(\.due))
            if store.hasStagedWrites { wakeAt = min(wakeAt, lastCommit.addingTimeInterval(Self.batchWindow)) }
            let delay = max(wakeAt.timeIntervalSinceNow, 0.001)
            let wake = self.wake
            let tick = Task {
                do { try await Task.sleep(for: .milliseconds(Int(delay * 1000) + 1)) } catch { return }
                wake.yield()
            }
            _ = await iterator.next()
            tick.cancel()
        }
        commitStaged()
    }

    /// One round: every controller plans its dirty keys and its actions are performed.
    func runRound() {
        let now = clock.now()
        for controller in Self.order {
            let keys = queues.take(controller)
            guard !keys.isEmpty else { continue }
            let actions = plan(controller, keys: keys, now: now)
            for action in actions { perform(action, by: controller) }
        }
    }

    func plan(_ controller: Controller, keys: [ObjectRef], now: Time) -> [Action] {
        switch controller {
        case .garbageCollector: GarbageCollector.plan(index, keys: keys)
        case .namespace: NamespacePlanner.plan(index, keys: keys)
        case .nodeLifecycle: NodeLifecyclePlanner.plan(index, keys: keys, now: now)
        case .statefulSet: StatefulSetPlanner.plan(index, keys: keys, now: now)
        case .replicaSet: ReplicaSetPlanner.plan(index, keys: keys, now: now, names: names)
        case .persistentVolume: StoragePlanner.plan(index, keys: keys, now: now)
        case .scheduler: Scheduler.plan(index, keys: keys, now: now)
        case .kubelet: NodeAgentPlanner.plan(index, keys: keys, now: now)
        case .resizer: ExpansionPlanner.plan(index, keys: keys, now: now)
        }
    }

    // MARK: group commit

    /// Longest a batch of the controllers' own writes stays open while node work is still coming back.
    /// A cascade (a thousand pods scheduled, mounted and reported Running) then shares a few fsyncs
    /// instead of taking one per finished mount; a crash loses at most this window, which restart
    /// recovery redoes from what is on disk.
    static let batchWindow: TimeInterval = 0.05

    /// Whether to commit the open batch now: a client waits for it (its answer is sent only once it
    /// is durable), nothing more is coming (no dirty key, no node work in flight), or the window is over.
    func commitIsDue() -> Bool {
        if !commitWaiters.isEmpty { return true }
        guard store.hasStagedWrites else { return false }
        if Task.isCancelled { return true }
        if queues.isEmpty && index.observed.inFlight.isEmpty { return true }
        return Date().timeIntervalSince(lastCommit) >= Self.batchWindow
    }

    /// Waits until everything staged so far is committed (a client's write is answered only then).
    func durable() async throws(Status) {
        guard store.hasStagedWrites else { return }
        wake.yield()
        do {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in commitWaiters.append(c) }
        } catch {
            throw statusFor(error, kind: .namespace, name: "")
        }
    }

    /// Commits what is staged and answers the clients waiting for it. If the commit fails nothing
    /// staged is stored: the index is reloaded from the store and every controller resyncs.
    func commitStaged() {
        let waiters = commitWaiters
        commitWaiters = []
        lastCommit = Date()
        do {
            try store.commit()
            for w in waiters { w.resume() }
            compactIfDue()
        } catch {
            logger.error("commit failed; reloading state from the store", metadata: ["error": "\(error)"])
            store.rollback()
            let status = Status.internalError("the write could not be committed: \(error)")
            for w in waiters { w.resume(throwing: status) }
            do { try load() } catch { logger.critical("reloading the store failed", metadata: ["error": "\(error)"]) }
        }
    }

    /// The change log is trimmed to its retention once it has grown a tenth past it (each write adds
    /// one change, so the versions tell how many were added), not at every commit.
    func compactIfDue() {
        let latest = store.commits.latest
        guard latest - compactionCheckedAt > Int64(max(settings.changeLogRetention / 10, 1)) else { return }
        compactionCheckedAt = latest
        do {
            let removed = try store.write { try $0.compactChanges(retain: settings.changeLogRetention) }
            if removed > 0 { logger.debug("compacted the change log", metadata: ["removed": "\(removed)"]) }
        } catch {
            logger.warning("compacting the change log failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: timers

    func runDueTimers(_ timers: inout LoopTimers) async {
        let now = Date()
        let due = rechecks.filter { $0.due <= now }
        if !due.isEmpty {
            rechecks.removeAll { $0.due <= now }
            for r in due { queues.add(r.controller, r.ref) }
        }
        if timers.heartbeatDue(now) { await heartbeat() }
        if timers.resyncDue(now) { queues.merge(DirtyKeys.all(index)) }
        if timers.housekeepingDue(now) { await housekeeping() }
    }

    /// The node agent's heartbeat: which nodes it serves now. Nothing is written unless that changes.
    func heartbeat() async {
        let served = await nodeWorker.run { [agent] in agent.servedNodes() }
        let now = clock.now()
        for node in index.localNodes.sorted() {
            let serving = served.contains(node)
            guard serving != (index.observed.servedNodes[node] != nil) else { continue }
            if serving {
                index.observed.servedNodes[node] = now
                logger.notice("node is served", metadata: ["node": "\(node)"])
            } else {
                index.observed.servedNodes[node] = nil
                logger.warning("node is no longer served: its filesystem session stopped", metadata: ["node": "\(node)"])
            }
            queues.merge(Triggers.observed(node: node, in: index))
        }
    }

    /// Once a minute: expired events, usage figures of mounted volumes (written only when they
    /// changed), change-log compaction, and empty volume directories no volume names.
    func housekeeping() async {
        pruneEvents(olderThan: settings.eventTTL)
        await recordUsage()
        await sweepOrphanDirectories(reportKept: false)
    }
}

/// When the loop's periodic work is next due.
struct LoopTimers {
    var nextHeartbeat: Date
    var nextResync: Date
    var nextHousekeeping: Date
    let settings: ControlPlaneSettings

    init(now: Date, settings: ControlPlaneSettings) {
        self.settings = settings
        nextHeartbeat = now
        nextResync = now.addingTimeInterval(settings.resyncInterval.seconds)
        nextHousekeeping = now.addingTimeInterval(60)
    }

    func next(rechecks: [Date]) -> Date { ([nextHeartbeat, nextResync, nextHousekeeping] + rechecks).min()! }

    mutating func heartbeatDue(_ now: Date) -> Bool {
        guard now >= nextHeartbeat else { return false }
        nextHeartbeat = now.addingTimeInterval(settings.heartbeatInterval.seconds)
        return true
    }

    mutating func resyncDue(_ now: Date) -> Bool {
        guard now >= nextResync else { return false }
        nextResync = now.addingTimeInterval(settings.resyncInterval.seconds)
        return true
    }

    mutating func housekeepingDue(_ now: Date) -> Bool {
        guard now >= nextHousekeeping else { return false }
        nextHousekeeping = now.addingTimeInterval(60)
        return true
    }
}

extension Duration {
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
