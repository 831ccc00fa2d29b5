import CairnControl
import CairnCore
import CairnCrashPoint
import CairnStore
import Dispatch
import Foundation

/// Runs blocking node work (directories, mounts, fingerprints: syscalls and tree walks) on threads of
/// its own, a few at a time, so neither the control plane's actor nor Swift's cooperative threads ever
/// wait on a disk.
public final class NodeWorker: Sendable {
    private let queue = DispatchQueue(label: "cairn.node-work", attributes: .concurrent)
    private let slots: DispatchSemaphore

    public init(concurrency: Int) {
        slots = DispatchSemaphore(value: max(concurrency, 1))
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [slots] in
                slots.wait()
                defer { slots.signal() }
                continuation.resume(with: Result { try body() })
            }
        }
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { [slots] in
                slots.wait()
                defer { slots.signal() }
                continuation.resume(returning: body())
            }
        }
    }
}

/// Starting node work and taking in its outcome: the observations the planners read next.
extension ControlPlane {
    func begin(_ work: NodeWork) -> Bool {
        guard !index.observed.inFlight.contains(work) else { return false }
        index.observed.inFlight.insert(work)
        return true
    }

    /// Work is over: success clears its failure, a failure is kept (with the count for the backoff).
    func finish(_ work: NodeWork, failure: (any Error)?) {
        index.observed.inFlight.remove(work)
        if let failure {
            let count = (index.observed.failures[work]?.count ?? 0) + 1
            index.observed.failures[work] = NodeWorkFailure(message: "\(failure)", at: clock.now(), count: count)
            logger.warning("node work failed", metadata: ["work": "\(work)", "error": "\(failure)", "failures": "\(count)"])
        } else {
            index.observed.failures[work] = nil
        }
    }

    // MARK: provisioning and reclaiming

    func startProvision(_ volume: PersistentVolume, _ directory: VolumeDirectorySpec, succeeded: [Action], by controller: Controller) {
        let claimUID = volume.spec.claimRef?.uid ?? ""
        let work = NodeWork.provision(claimUID: claimUID)
        guard begin(work) else { return }
        index.observed.provisioning[claimUID] = StoragePromise(node: directory.node, bytes: volume.capacityBytes)
        Task { [agent, nodeWorker] in
            let result = await Result(catching: { try await nodeWorker.run { try agent.createVolumeDirectory(directory) } })
            self.provisioned(volume, work: work, result: result, succeeded: succeeded, by: controller)
        }
    }

    func provisioned(_ volume: PersistentVolume, work: NodeWork, result: Result<Void, any Error>, succeeded: [Action],
                     by controller: Controller) {
        let claimUID = volume.spec.claimRef?.uid ?? ""
        index.observed.provisioning[claimUID] = nil
        var failure: (any Error)?
        if case .failure(let e) = result { failure = e }
        if failure == nil {
            do {
                try insert(volume)
                CrashPoint.reached("provision-pv-written")
                // A new volume holds nothing yet; the filesystem reports real figures once it is mounted.
                let capacity = volume.capacityBytes, now = clock.now()
                try store.stage { w in try w.recordUsage(volume: volume.name, used: 0, capacity: capacity, at: now) }
                for a in succeeded { perform(a, by: controller) }
            } catch {
                failure = error
            }
        }
        finish(work, failure: failure)
        if let ref = volume.spec.claimRef, let name = ref.name {
            queues.add(.persistentVolume, ObjectRef(.persistentVolumeClaim, NamespacedName(ref.namespace, name)))
        }
        wake.yield()
    }

    func startReclaim(_ volume: PersistentVolume, _ directory: VolumeDirectorySpec) {
        let work = NodeWork.reclaim(volume: volume.name)
        guard begin(work) else { return }
        Task { [agent, nodeWorker] in
            let result = await Result(catching: { try await nodeWorker.run { try agent.removeVolumeDirectory(directory) } })
            self.reclaimed(volume, work: work, result: result)
        }
    }

    func reclaimed(_ volume: PersistentVolume, work: NodeWork, result: Result<Void, any Error>) {
        CrashPoint.reached("reclaim-directory-removed")
        finish(work, failure: nil)
        defer {
            queues.add(.persistentVolume, ObjectRef(.persistentVolume, NamespacedName(nil, volume.name)))
            wake.yield()
        }
        guard var pv = index.volumes[volume.name], pv.uid == volume.uid else { return }
        do {
            if case .failure(let error) = result {
                pv.status?.phase = .failed
                pv.status?.message = "\(error)"
                try write(pv, requireVersion: false)
                recordEvent(pv.reference(), type: .warning, reason: "VolumeFailedDelete", message: "\(error)",
                            source: Controller.persistentVolume.rawValue)
                return
            }
            pv.metadata.removeFinalizer(Well.pvProtection)
            let wasDeleting = pv.metadata.isDeleting
            try write(pv, requireVersion: false)
            if !wasDeleting, let current = index.volumes[pv.name] { try remove(current) }
            CrashPoint.reached("reclaim-volume-removed")
        } catch {
            logger.warning("reclaiming a volume failed", metadata: ["volume": "\(volume.name)", "error": "\(error)"])
        }
    }

    // MARK: expansion

    func startResize(_ volume: String, node: String, bytes: Int64) {
        let work = NodeWork.resize(volume: volume)
        guard begin(work) else { return }
        Task { [agent, nodeWorker] in
            let result = await Result(catching: { try await nodeWorker.run { try agent.setCapacity(volume: volume, node: node, bytes: bytes) } })
            self.resized(volume, bytes: bytes, work: work, result: result)
        }
    }

    func resized(_ volume: String, bytes: Int64, work: NodeWork, result: Result<Void, any Error>) {
        CrashPoint.reached("expansion-filesystem-grown")
        var failure: (any Error)?
        if case .failure(let e) = result { failure = e }
        finish(work, failure: failure)
        if failure == nil { index.observed.resized[volume] = bytes }
        if let ref = index.volumes[volume]?.spec.claimRef, let name = ref.name {
            queues.add(.resizer, ObjectRef(.persistentVolumeClaim, NamespacedName(ref.namespace, name)))
        }
        wake.yield()
    }

    // MARK: pods

    func startMount(_ pod: Pod, _ mounts: [PodVolumeMount], arrival: Bool) {
        let key = NamespacedName(pod)
        let work = NodeWork.mount(key)
        guard begin(work) else { return }
        let ns = pod.namespace ?? "default", name = pod.name
        Task { [agent, nodeWorker] in
            // What the pod finds on arrival, to compare with what the last pod left (verify retention).
            let found: [String: VolumeFingerprint] = arrival
                ? await nodeWorker.run {
                    var prints: [String: VolumeFingerprint] = [:]
                    for m in mounts { prints[m.claimUID] = try? agent.fingerprint(path: m.backingPath, deep: false) }
                    return prints
                } : [:]
            let result = await Result(catching: { try await nodeWorker.run { try agent.startPod(namespace: ns, pod: name, mounts: mounts) } })
            self.mounted(pod, mounts, work: work, result: result, arrivalPrints: found)
        }
    }

    func mounted(_ pod: Pod, _ mounts: [PodVolumeMount], work: NodeWork, result: Result<Void, any Error>,
                 arrivalPrints: [String: VolumeFingerprint]) {
        let key = NamespacedName(pod)
        var failure: (any Error)?
        if case .failure(let e) = result { failure = e }
        finish(work, failure: failure)
        if failure == nil {
            index.observed.mounted[key] = NodeObservations.MountedPod(uid: pod.uid, mounts: mounts)
            recordArrival(pod, mounts, arrivalPrints)
        }
        queues.merge(Triggers.observed(pod: key, in: index))
        wake.yield()
    }

    /// Only claims that a pod has left before have something to compare an arrival with.
    private func recordArrival(_ pod: Pod, _ mounts: [PodVolumeMount], _ prints: [String: VolumeFingerprint]) {
        let ns = pod.namespace ?? "default", now = clock.now()
        for m in mounts {
            guard let f = prints[m.claimUID], (try? store.readStaged({ try $0.fingerprint(claimUID: m.claimUID, kind: .left) })) != nil else { continue }
            _ = try? store.stage { w in
                try w.recordFingerprint(Fingerprint(claimUID: m.claimUID, kind: .arrival, namespace: ns, claim: m.claimName,
                                                    volume: m.persistentVolume, pod: pod.name, recordedAt: now,
                                                    files: f.files, bytes: f.bytes, digest: f.digest))
            }
        }
    }

    func startUnmount(_ pod: Pod, _ mounts: [PodVolumeMount]) {
        let key = NamespacedName(pod)
        let work = NodeWork.unmount(key)
        guard begin(work) else { return }
        let ns = pod.namespace ?? "default", name = pod.name
        Task { [agent, nodeWorker] in
            // The last usage figures, so an unmounted volume still shows what it holds.
            let usage = await nodeWorker.run { mounts.map { (m: $0, u: agent.usage(volume: $0.persistentVolume)) } }
            let result = await Result(catching: { try await nodeWorker.run { try agent.stopPod(namespace: ns, pod: name, mounts: mounts) } })
            self.unmounted(pod, mounts, work: work, result: result, usage: usage.compactMap { x in x.u.map { (x.m, $0) } })
        }
    }

    func unmounted(_ pod: Pod, _ mounts: [PodVolumeMount], work: NodeWork, result: Result<[String: VolumeFingerprint], any Error>,
                   usage: [(PodVolumeMount, (used: Int64, capacity: Int64))]) {
        let key = NamespacedName(pod)
        let now = clock.now(), ns = pod.namespace ?? "default"
        switch result {
        case .failure(let error):
            finish(work, failure: error)
        case .success(let prints):
            finish(work, failure: nil)
            index.observed.mounted[key] = nil
            do {
                try store.stage { w in
                    for (m, u) in usage { try w.recordUsage(volume: m.persistentVolume, used: u.used, capacity: u.capacity, at: now) }
                    for m in mounts {
                        guard let f = prints[m.claimUID] else { continue }
                        try w.recordFingerprint(Fingerprint(claimUID: m.claimUID, kind: .left, namespace: ns, claim: m.claimName,
                                                            volume: m.persistentVolume, pod: pod.name, recordedAt: now, files: f.files,
                                                            bytes: f.bytes, digest: "\(f.digest)/\(f.deepDigest)"))
                    }
                }
                CrashPoint.reached("pod-stop-recorded")
            } catch {
                logger.warning("recording what a pod left failed", metadata: ["pod": "\(key)", "error": "\(error)"])
            }
        }
        queues.merge(Triggers.observed(pod: key, in: index))
        wake.yield()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
