import CairnCore
import CairnFS
import CairnNode
import CairnStore
import Dispatch
import Foundation
import GRPCCore
import Logging
import Synchronization

/// What the three services share: the configuration, the store, the node's data path, whether the
/// restore after a start has finished, and which volumes have a call in flight.
final class DriverState: Sendable {
    let config: CSIDriverConfig
    let store: Store
    let volumes: NodeVolumes
    let logger: Logger
    /// Storage the node offers: `--capacity`, else the size of the data root's filesystem.
    let nodeCapacity: Int64

    enum Readiness: Equatable, Sendable {
        case restoring
        case ready
    }

    private let readiness = Mutex<Readiness>(.restoring)
    private let inFlight = Mutex<Set<String>>([])
    /// Blocking work (SQLite, mounts, the FUSE attach scan) runs here, never on Swift's cooperative
    /// pool, which has one thread per core and also runs the gRPC server.
    private let workers = DispatchQueue(label: "cairn.csi.work", attributes: .concurrent)

    init(config: CSIDriverConfig, store: Store, volumes: NodeVolumes, nodeCapacity: Int64, logger: Logger) {
        self.config = config
        self.store = store
        self.volumes = volumes
        self.nodeCapacity = nodeCapacity
        self.logger = logger
    }

    var isReady: Bool { readiness.withLock { $0 == .ready } }

    func markReady() { readiness.withLock { $0 = .ready } }

    /// Runs one RPC's work: refused with UNAVAILABLE until the restore has finished (when `needsReady`),
    /// with ABORTED while another call for the same volume runs (the spec's "operation pending for
    /// volume"), on a worker thread. Every failure leaves as the spec's gRPC code with its message.
    func serve<T: Sendable>(_ rpc: String, volume key: String? = nil, needsReady: Bool = true,
                            _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            if needsReady, !isReady {
                throw CSIFailure(.unavailable,
                    "the driver is remounting the volumes staged before it restarted; retry in a moment")
            }
            if let key {
                let acquired = inFlight.withLock { $0.insert(key).inserted }
                guard acquired else {
                    throw CSIFailure(.aborted, "another call for volume \"\(key)\" is in progress; retry when it has finished")
                }
            }
            defer { if let key { _ = inFlight.withLock { $0.remove(key) } } }
            let result = try await offload(body)
            logger.debug("\(rpc) ok", metadata: key.map { ["volume": "\($0)"] } ?? [:])
            return result
        } catch let failure as CSIFailure {
            logger.notice("\(rpc) refused: \(failure)")
            throw failure.rpcError
        } catch {
            logger.error("\(rpc) failed: \(error)")
            throw RPCError(code: .internalError, message: "\(rpc): \(error)")
        }
    }

    func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            workers.async { continuation.resume(with: Result { try body() }) }
        }
    }

    // MARK: - Shared lookups (inside `serve`)

    func volume(_ id: String) throws -> CSIVolumeRecord {
        guard let v = try store.read({ try $0.csiVolume(id: id) }) else { throw CSIFailure.unknownVolume(id) }
        return v
    }

    /// Free storage of this node right now (inside a write, to decide and record atomically).
    func free(_ w: StoreWriter) throws -> Int64 {
        CapacityRules.free(nodeCapacity: nodeCapacity, provisioned: try w.csiProvisionedBytes(node: config.nodeID))
    }

    /// `volume_context` Cairn hands out with a volume and expects back unchanged.
    func volumeContext(_ v: CSIVolumeRecord) -> [String: String] {
        [Self.nodeContextKey: v.node, Self.pathContextKey: v.path]
    }

    static let nodeContextKey = "cairn.io/node"
    static let pathContextKey = "cairn.io/path"

    /// A `volume_context` sent back must carry Cairn's keys as they were handed out (the other keys
    /// are the CO's: kubelet adds `csi.storage.k8s.io/pod.*`).
    func checkContext(_ context: [String: String], of v: CSIVolumeRecord) throws {
        for (key, value) in volumeContext(v) {
            if let sent = context[key], sent != value {
                throw CSIFailure.invalid("volume_context[\"\(key)\"]",
                    "\"\(sent)\" is not the volume's (\"\(value)\"); pass the volume_context CreateVolume returned")
            }
        }
    }

    /// Appends to the binding history, in the claim's terms when the volume was made for a claim.
    func recordHistory(_ w: StoreWriter, _ v: CSIVolumeRecord, _ action: BindingAction, pod: String? = nil,
                       detail: String? = nil) throws {
        let uid = v.persistentVolume.flatMap(VolumeNaming.claimUID(persistentVolume:)) ?? v.volumeID
        try w.appendHistory(HistoryEntry(
            at: Time(Date()), namespace: v.claimNamespace ?? "", claim: v.claimName ?? v.name, claimUID: uid,
            volume: v.volumeID, node: v.node, pod: pod, action: action, detail: detail))
    }
}

extension CSIFailure {
    var rpcError: RPCError {
        let code: RPCError.Code = switch self.code {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .outOfRange: .outOfRange
        case .resourceExhausted: .resourceExhausted
        case .aborted: .aborted
        case .unavailable: .unavailable
        case .internal: .internalError
        }
        return RPCError(code: code, message: message)
    }
}

/// Throws the failure of a rule's result.
extension Result where Failure == CSIFailure {
    func orThrow() throws -> Success { try get() }
}
