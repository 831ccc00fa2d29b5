import ArgumentParser
import CairnCLICore
import CairnClient
import CairnCore
import CairnAPI
import CairnNode
import CairnServer
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Cairn daemon: API on a Unix socket, controllers, and the FUSE node agent.",
        discussion: """
        Logical nodes share this host; each has its own data root where its volumes' directories live, \
        and its own FUSE session that serves them. SIGTERM or SIGINT shut down gracefully (volumes are \
        unmounted); a restart mounts every volume again before pods report Ready.
        """)

    @Option(name: .customLong("state-dir"), help: "State directory: SQLite database, socket, mounts (default /var/lib/cairn for root, else $XDG_STATE_HOME/cairn).")
    var stateDir: String?
    @Option(help: "Unix socket path (default <state-dir>/cairn.sock); created with mode 0600.")
    var socket: String?
    @Option(name: .customLong("storage-classes"), help: "Directory of StorageClass manifests loaded at start (default: the checkout's storage-classes/).")
    var storageClasses: String?
    @Option(name: .customLong("node"), help: "A logical node NAME[=DATA_ROOT]; repeat for several (default: one node named after the host, data under <state-dir>/data/<name>).")
    var nodes: [String] = []
    @Option(name: .customLong("node-capacity"), help: "NAME=QUANTITY: storage a node offers (default: the size of its data root's filesystem).")
    var nodeCapacities: [String] = []
    @Option(help: "Also serve the Kubernetes API over HTTPS on HOST:PORT, for kubectl (certificates in <state-dir>/tls).")
    var listen: String?
    @Option(name: .customLong("token-file"), help: "File holding a bearer token HTTPS clients may send instead of the admin client certificate.")
    var tokenFile: String?
    @Option(name: .customLong("write-kubeconfig"), help: "Write the admin kubeconfig for the HTTPS listener to FILE at start (mode 0600).")
    var writeKubeconfig: String?
    @Option(name: .customLong("tls-san"), help: "Another name or IP address for the serving certificate; repeatable.")
    var tlsSANs: [String] = []
    @Option(name: .customLong("log-level"), help: "How much the daemon logs.")
    var logLevel: LogLevel = .info
    @Option(name: .customLong("change-log-retention"), help: "How many changes the change log keeps for watches to resume from.")
    var changeLogRetention: Int = ControlPlaneSettings().changeLogRetention

    func run() async throws {
        let level = logLevel.level
        LoggingSystem.bootstrap { _ in DaemonLogHandler(level: level) }
        let logger = Logger(label: "cairn")
        do {
            let state = stateDir ?? Defaults.stateDir
            var nodeConfigs: [LocalNodeAgent.NodeConfig] = []
            for n in nodes {
                let parts = n.split(separator: "=", maxSplits: 1).map(String.init)
                let name = parts[0]
                if let problem = Names.isDNS1123Subdomain(name).first {
                    throw CLIError("--node \(n): invalid node name \"\(name)\": \(problem)")
                }
                nodeConfigs.append(.init(name: name, dataRoot: parts.count > 1 ? absolute(parts[1]) : "\(state)/data/\(name)"))
            }
            if nodeConfigs.isEmpty {
                let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init)?.lowercased() ?? "node"
                nodeConfigs = [.init(name: host, dataRoot: "\(state)/data/\(host)")]
            }
            var capacity: [String: Quantity] = [:]
            for c in nodeCapacities {
                let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let q = try? Quantity(parsing: parts[1]) else {
                    throw CLIError("--node-capacity \(c): expected NAME=QUANTITY, e.g. node1=10Gi")
                }
                capacity[parts[0]] = q
            }
            var listenAddress: (String, Int)?
            var token: String?
            if let listen {
                guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                    throw CLIError("--listen \(listen): expected HOST:PORT, e.g. 127.0.0.1:6443")
                }
                guard (1...65535).contains(port) else { throw CLIError("--listen \(listen): the port must be between 1 and 65535") }
                if let tokenFile {
                    guard let t = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else {
                        throw CLIError("--token-file \(tokenFile): cannot read a token from this file")
                    }
                    token = t
                }
                var host = String(listen[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                listenAddress = (host, port)
            } else if tokenFile != nil || writeKubeconfig != nil || !tlsSANs.isEmpty {
                throw CLIError("--token-file, --write-kubeconfig and --tls-san configure the HTTPS listener: add --listen HOST:PORT (e.g. 127.0.0.1:6443)")
            }
            guard changeLogRetention > 0 else { throw CLIError("--change-log-retention \(changeLogRetention): must be at least 1") }
            var settings = ControlPlaneSettings()
            settings.changeLogRetention = changeLogRetention
            var config = DaemonConfig(stateDir: absolute(state), socketPath: absolute(socket ?? "\(state)/cairn.sock"),
                                      storageClassesDir: storageClasses.map(absolute) ?? defaultStorageClassesDir(),
                                      nodes: nodeConfigs, nodeCapacity: capacity,
                                      listen: listenAddress.map { (host: $0.0, port: $0.1) }, token: token, settings: settings)
            config.writeKubeconfig = writeKubeconfig.map(absolute)
            config.tlsSANs = tlsSANs
            try await Daemon.run(config, logger: logger)
        } catch {
            fail(error)
        }
    }

    func absolute(_ p: String) -> String {
        p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
    }

    /// The checkout's storage-classes/ when the binary runs from a build of the checkout.
    func defaultStorageClassesDir() -> String? {
        // The binary itself (/proc/self/exe), wherever PATH found it.
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("storage-classes").path
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        let cwd = FileManager.default.currentDirectoryPath + "/storage-classes"
        if FileManager.default.fileExists(atPath: cwd) { return cwd }
        return FileManager.default.fileExists(atPath: "/etc/cairn/storage-classes") ? "/etc/cairn/storage-classes" : nil
    }
}

/// swift-log's levels, as `--log-level` takes them: anything else is refused with the list.
enum LogLevel: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command on the host with a pod's volumes at their mountPaths.",
        discussion: """
        The command runs in a private mount namespace in which each volumeMount of the container is at its \
        mountPath (e.g. /applog), so `cairn exec replica-pvc-abcde -- touch /applog/server.log` works as in \
        the pod. Nothing is left behind on the host. The exit code is the command's. POD may be pod/NAME, or \
        statefulset/NAME or replicaset/NAME for one of its pods. As with kubectl, standard input reaches the \
        command only with -i; the command runs on this terminal, so -t needs no terminal of its own.
        """)
    @OptionGroup var client: ClientOptions
    @Option(name: [.short, .long], help: "The container whose volumeMounts to use (default: the first).") var container: String?
    @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Pass stdin to the command.") var stdin = false
    @Flag(name: [.customShort("t"), .customLong("tty")], help: "Stdin is a TTY.") var tty = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Only print output from the command.") var quiet = false
    @Argument(help: "POD, pod/NAME, statefulset/NAME or replicaset/NAME") var target: String?
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func run() async {
        var plan: ExecPlan?
        await runClient {
            guard let target else { throw CLIError("pod, type/name or --filename must be specified") }
            guard !command.isEmpty else { throw CLIError("you must specify at least one command for the container") }
            var query: [String: String] = [:]
            if let container { query["container"] = container }
            let data = try await client.withClient { c in
                let pod = try await podName(target, c)
                return try await c.call("GET", CairnPath.execPlan(namespace: client.ns, pod: pod), query: query)
            }
            plan = try JSONCoding.decoder.decode(ExecPlan.self, from: data)
        }
        guard let plan else { return }
        if stdin && tty && isatty(0) == 0 && !quiet {
            var stderr = FileHandle.standardError
            print("Unable to use a TTY - input is not a terminal or the right kind of file", to: &stderr)
        }
        if !stdin {
            // kubectl attaches no stdin without -i: the command reads end of file.
            let null = open("/dev/null", O_RDONLY)
            if null >= 0 { dup2(null, 0); close(null) }
        }
        // unshare(CLONE_NEWNS) needs a single-threaded process: hand over to a fresh one.
        let mounts = plan.mounts.map { m in
            ExecMount(hostPath: m.subPath.map { "\(m.hostPath)/\($0)" } ?? m.hostPath, mountPath: m.mountPath, readOnly: m.readOnly)
        }
        let encoded = String(decoding: (try? JSONCoding.encoder.encode(mounts)) ?? Data("[]".utf8), as: UTF8.self)
        var args = [CommandLine.arguments[0], "exec-sandbox", "--mounts", encoded]
        if let wd = plan.workingDir { args += ["--workdir", wd] }
        args += ["--"] + command
        let cargs = args.map { strdup($0) } + [nil]
        execv("/proc/self/exe", cargs)
        fail(CLIError("cannot start the exec sandbox: \(String(cString: strerror(errno)))", exitCode: 126))
    }

    /// The pod TARGET names: POD or pod/NAME, or for statefulset/NAME and replicaset/NAME the pod
    /// kubectl would pick (a Running and Ready one of theirs first, then by name).
    func podName(_ target: String, _ c: CairnClient) async throws -> String {
        guard target.contains("/") else { return target }
        let (kind, name) = try typeAndNames([target])[0]
        switch kind {
        case .pod:
            return name
        case .statefulSet, .replicaSet:
            let owner = try decodeObjects(try await c.call("GET", kind.collectionPath(namespace: client.ns) + "/\(name)"), kind: kind)[0]
            let pods = try decodeObjects(try await c.call("GET", Kind.pod.collectionPath(namespace: client.ns)), kind: .pod)
                .compactMap { $0 as? Pod }.filter { $0.controllerRef?.uid == owner.uid && !$0.metadata.isDeleting }
            guard let pod = pods.sorted(by: { a, b in
                a.isRunningAndReady != b.isRunningAndReady ? a.isRunningAndReady : a.name < b.name
            }).first else {
                throw CLIError("\(resourceName(kind))/\(name) has no pods to exec into")
            }
            return pod.name
        default:
            throw CLIError("cannot exec into \(kind.resource): name a pod, or a statefulset or replicaset to use one of its pods")
        }
    }
}

struct ExecSandbox: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec-sandbox", abstract: "Internal: used by cairn exec.",
                                                    shouldDisplay: false)
    @Option(help: "The mounts as a JSON list of {hostPath, mountPath, readOnly}.") var mounts: String?
    @Option(help: "HOST:MOUNTPATH[:ro], repeatable.") var mount: [String] = []
    @Option var workdir: String?
    @Argument(parsing: .postTerminator) var command: [String] = []

    func run() throws {
        var list: [ExecMount] = []
        if let mounts {
            guard let decoded = try? JSONCoding.decoder.decode([ExecMount].self, from: Data(mounts.utf8)) else {
                throw CLIError("exec-sandbox: --mounts is not a JSON list of mounts", exitCode: 126)
            }
            list = decoded
        }
        for m in mount {
            let parts = m.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || (parts.count == 3 && parts[2] == "ro") else {
                throw CLIError("exec-sandbox: --mount \(m): expected HOST:MOUNTPATH[:ro]", exitCode: 126)
            }
            list.append(ExecMount(hostPath: parts[0], mountPath: parts[1], readOnly: parts.count == 3))
        }
        CairnNode.ExecSandbox.run(mounts: list, command: command, workingDirectory: workdir)
    }
}
