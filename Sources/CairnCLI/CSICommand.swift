import ArgumentParser
import CairnCSI
import CairnAPI
import CairnCore
import Foundation
import Logging

/// `cairn csi`: the same binary as a CSI driver on a Kubernetes node (deploy/kubernetes/ runs it).
struct CSICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csi",
        abstract: "Run Cairn as a CSI driver: Identity, Controller and Node services on a Unix socket.",
        discussion: """
        One driver per node, beside Kubernetes' external-provisioner in node-deployment mode, \
        external-resizer, node-driver-registrar and livenessprobe (deploy/kubernetes/). Volumes are \
        directories under the data root, served to pods through Cairn's FUSE filesystem with their size \
        enforced. State is in <state-dir>/cairn.db; a restart remounts every staged volume before Probe \
        answers ready. `cairn bindings --socket <state-dir>/cairn.sock` lists this node's volumes. \
        SIGTERM or SIGINT stop the driver (volumes in use stay recorded and are remounted at the next start).
        """)

    @Option(help: "CSI endpoint, unix:///PATH.sock (default: $CSI_ENDPOINT).")
    var endpoint: String?
    @Option(name: .customLong("node-id"), help: "This node's name as Kubernetes knows it (the topology value of topology.cairn.io/node).")
    var nodeID: String
    @Option(name: .customLong("state-dir"), help: "State directory: SQLite database, FUSE mount, bindings socket (default /var/lib/cairn for root, else $XDG_STATE_HOME/cairn).")
    var stateDir: String?
    @Option(name: .customLong("data-root"), help: "Where volume directories live (default <state-dir>/data/<node-id>).")
    var dataRoot: String?
    @Option(help: "Storage the node offers to volumes, a quantity such as 500Gi (default: the data root filesystem's size).")
    var capacity: String?
    @Option(name: .customLong("max-volumes"), help: "Volumes the node stages at most (NodeGetInfo's max_volumes_per_node); 0 for no limit.")
    var maxVolumes: Int64 = 1000
    @Option(name: .customLong("bindings-socket"), help: "Where `cairn bindings` finds this driver (default <state-dir>/cairn.sock).")
    var bindingsSocket: String?
    @Option(name: .customLong("controller-expansion"),
            help: "Advertise ControllerExpandVolume (true|false). The DaemonSet sets false: external-resizer then leaves each resize to the kubelet of the volume's node (NodeExpandVolume).")
    var controllerExpansion: Bool = true
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        do {
            guard let endpoint = endpoint ?? ProcessInfo.processInfo.environment["CSI_ENDPOINT"], !endpoint.isEmpty else {
                throw CLIError("--endpoint is required (or CSI_ENDPOINT), e.g. unix:///csi/csi.sock")
            }
            let socket = try CSIDriverConfig.socketPath(endpoint: endpoint).get()
            var bytes: Int64?
            if let capacity {
                guard let q = try? Quantity(parsing: capacity), let b = q.bytes, b > 0 else {
                    throw CLIError("--capacity \(capacity): expected a positive quantity of bytes, e.g. 500Gi")
                }
                bytes = b
            }
            guard maxVolumes >= 0 else { throw CLIError("--max-volumes \(maxVolumes): must be 0 (no limit) or more") }
            let state = absolute(stateDir ?? Defaults.stateDir)
            let config = CSIDriverConfig(
                socketPath: socket, nodeID: nodeID, dataRoot: absolute(dataRoot ?? "\(state)/data/\(nodeID)"),
                stateDir: state, capacityBytes: bytes, maxVolumes: maxVolumes,
                bindingsSocketPath: absolute(bindingsSocket ?? "\(state)/cairn.sock"),
                controllerExpansion: controllerExpansion, version: CairnVersion.version)
            try await CSIDriver.run(config, logger: Logger(label: "cairn.csi"))
        } catch {
            fail(error)
        }
    }

    private func absolute(_ p: String) -> String {
        p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
    }
}
