import CairnAPI
import CairnCore
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `cairn bindings` against a node in CSI mode: the driver serves `GET /cairn/v1/bindings` (and a
/// claim's history) on `<state-dir>/cairn.sock`, mode 0600, in the shape of embedded mode's
/// CairnAPI's `BindingList` (README, "cairn bindings -o json"). A node's driver knows the volumes it made and
/// where they are mounted, not the API's objects, so: every volume is `Bound` (external-provisioner
/// creates its PV bound to the claim), `storageClass` and `reclaimPolicy` are absent, and a pod is
/// listed by the name the kubelet passed (CSIDriver `podInfoOnMount`) with its target path.
public enum BindingsView {
    /// Pure: the rows from the driver's records, sorted by namespace and claim. `usage` gives the
    /// bytes used of a volume (live from the FUSE session, else the last figure recorded).
    public static func rows(volumes: [CSIVolumeRecord], publications: [CSIPublicationRecord], namespace: String?,
                            usage: (String) -> Int64?) -> [BindingRow] {
        let byVolume = Dictionary(grouping: publications, by: \.volumeID)
        return volumes.filter { namespace == nil || ($0.claimNamespace ?? "") == namespace }.map { v in
            let modes = v.accessModes.compactMap(AccessMode.init(name:)).map(\.kubernetesName)
            var unique: [String] = []
            for m in modes where !unique.contains(m) { unique.append(m) }
            let pods = (byVolume[v.volumeID] ?? []).map { p in
                BindingRow.PodUse(name: p.podName ?? "(pod not named by the kubelet)", phase: "Running", hostPath: p.targetPath)
            }
            return BindingRow(namespace: v.claimNamespace ?? "", claim: v.claimName ?? v.name, phase: .bound,
                       volume: v.volumeID, node: v.node, capacityBytes: v.capacityBytes,
                       capacity: Quantity(bytes: v.capacityBytes).description, usedBytes: usage(v.volumeID),
                       accessModes: unique, storageClass: nil, reclaimPolicy: nil, path: v.path, pods: pods,
                       boundAt: v.createdAt)
        }.sorted { ($0.namespace, $0.claim) < ($1.namespace, $1.claim) }
    }

    /// The HTTP server for the view, as a service of the driver's group.
    static func server(path: String, state: DriverState, logger: Logger) -> some ServiceLifecycle.Service {
        Application(responder: Responder(state: state),
                    configuration: ApplicationConfiguration(address: .unixDomainSocket(path: path), serverName: "cairn-csi"),
                    onServerRunning: { _ in chmod(path, 0o600) },
                    logger: logger)
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let state: DriverState

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            var parameters: [String: String] = [:]
            for (k, v) in request.uri.queryParameters { parameters[String(k)] = String(v) }
            let query = parameters
            let path = request.uri.path
            let method = request.method
            let answer: (Int, String) = (try? await state.offload { [state] in
                try Self.answer(state: state, method: method, path: path, query: query)
            }) ?? (500, Self.status(500, .internalError, "the bindings view failed; see the driver's log"))
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: HTTPResponse.Status(code: answer.0), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.1)))
        }

        static func answer(state: DriverState, method: HTTPRequest.Method, path: String, query: [String: String]) throws
            -> (Int, String)
        {
            guard method == .get else { return (405, status(405, .methodNotAllowed, "the CSI driver's views are read-only")) }
            let parts = path.split(separator: "/").map(String.init)
            switch parts {
            case ["version"]:
                return (200, json(["cairnVersion": state.config.version, "gitVersion": "none (cairn csi: the cluster's API is Kubernetes')"]))
            case ["cairn", "v1", "bindings"]:
                let (volumes, publications, recorded) = try state.store.read { r in
                    (try r.csiVolumes(node: state.config.nodeID), try r.csiPublications(), try r.allUsage())
                }
                let rows = BindingsView.rows(volumes: volumes, publications: publications, namespace: query["namespace"]) { id in
                    state.volumes.usage(id)?.usedBytes ?? recorded[id]?.usedBytes
                }
                return (200, json(BindingList(items: rows)))
            case let p where p.count == 7 && p[0] == "cairn" && p[1] == "v1" && p[2] == "namespaces" && p[4] == "claims"
                && p[6] == "history":
                let entries = try state.store.read { try $0.history(namespace: p[3], claim: p[5]) }
                return (200, json(entries.map { e in
                    HistoryRow(at: e.at, action: e.action.rawValue, volume: e.volume, node: e.node, pod: e.pod, detail: e.detail)
                }))
            default:
                return (404, status(404, .notFound,
                    "the CSI driver serves /cairn/v1/bindings and /cairn/v1/namespaces/NS/claims/NAME/history only; "
                    + "the cluster's objects are in the Kubernetes API"))
            }
        }

        struct HistoryRow: Codable {
            var at: Time
            var action: String
            var volume: String?
            var node: String?
            var pod: String?
            var detail: String?
        }

        static func json<T: Encodable>(_ value: T) -> String {
            (try? String(decoding: JSONCoding.encoder.encode(value), as: UTF8.self)) ?? "{}"
        }

        static func status(_ code: Int, _ reason: StatusReason, _ message: String) -> String {
            json(Status(code: code, reason: reason, message: message))
        }
    }
}
