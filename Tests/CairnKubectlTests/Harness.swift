import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A kubectl binary and the minor version it reports.
struct Kubectl: Sendable, CustomTestStringConvertible {
    var path: String
    var minor: Int
    var testDescription: String { "kubectl 1.\(minor)" }

    /// The binaries `kubectlBinaries` finds, one per minor version.
    static let all: [Kubectl] = {
        var found: [Kubectl] = []
        for path in kubectlBinaries {
            guard let minor = minorVersion(path), !found.contains(where: { $0.minor == minor }) else { continue }
            found.append(Kubectl(path: path, minor: minor))
        }
        return found
    }()

    static func minorVersion(_ path: String) -> Int? {
        guard let r = try? runProgram(path, ["version", "--client", "-o", "json"], timeout: 30), r.status == 0,
              let data = r.stdout.data(using: .utf8),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let client = o["clientVersion"] as? [String: Any], let minor = client["minor"] as? String else { return nil }
        return Int(minor.filter(\.isNumber))
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; the daemon binds it a moment later).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw TestFailure("bind: \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A `cairn serve` with the seed lesson's two logical nodes, serving HTTPS on a free port and
/// writing its kubeconfig, in a temporary directory; the daemon runs in a process group of its own.
/// `stop()` cleans up everything: the daemon's group, the mounts under the directory, the directory.
final class Cluster: @unchecked Sendable {
    let dir: String
    let kubectl: Kubectl
    let port: Int
    var pid: pid_t = 0
    var kubeconfig: String { "\(dir)/kubeconfig" }
    var logPath: String { "\(dir)/daemon.log" }
    var home: String { "\(dir)/home" }

    /// `setup` runs in the fresh directory before the daemon starts and returns more `serve` flags (a
    /// token file, say).
    init(_ kubectl: Kubectl, extraArgs: [String] = [], setup: ((String) throws -> [String])? = nil) throws {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("cairn-kubectl-XXXXXX").path.utf8CString)
        guard mkdtemp(&template) != nil else { throw TestFailure("mkdtemp failed") }
        dir = String(cString: template)
        self.kubectl = kubectl
        port = try freePort()
        _ = StaleClusters.swept
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "\(getpid())\n".write(toFile: "\(dir)/owner.pid", atomically: true, encoding: .utf8)
        LiveClusters.shared.add(self)
        do {
            try start(extraArgs + (setup?(dir) ?? []))
        } catch {
            stop()
            throw error
        }
    }

    func start(_ extraArgs: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: cairnBinary) else {
            throw TestFailure("\(cairnBinary) is missing: run `swift build` before the tests")
        }
        let args = ["serve", "--state-dir", "\(dir)/state", "--socket", "\(dir)/state/cairn.sock",
                    "--storage-classes", "\(packageRoot)/storage-classes", "--log-level", "debug",
                    "--node", "k8s-node1=\(dir)/data/k8s-node1", "--node", "k8s-node2=\(dir)/data/k8s-node2",
                    "--listen", "127.0.0.1:\(port)", "--write-kubeconfig", kubeconfig] + extraArgs
        pid = try spawnInOwnGroup(cairnBinary, args, log: logPath)
        try "\(pid)\n".write(toFile: "\(dir)/daemon.pid", atomically: true, encoding: .utf8)
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                throw TestFailure("cairn serve exited during start-up:\n\(log())")
            }
            if FileManager.default.fileExists(atPath: kubeconfig),
               let r = try? kubectlRun(["get", "--raw", "/readyz"], timeout: 10), r.status == 0, r.stdout == "ok" { return }
            usleep(100_000)
        }
        throw TestFailure("cairn serve did not answer kubectl within 90 s:\n\(log())")
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// kubectl as a user runs it: KUBECONFIG set to the written file, a home of its own (its cache).
    func kubectlRun(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 90, environment: [String: String] = [:]) throws -> RunResult {
        var env = ["KUBECONFIG": kubeconfig, "HOME": home, "KUBECACHEDIR": "\(home)/.kube/cache"]
        for (k, v) in environment { env[k] = v }
        return try runProgram(kubectl.path, args, stdin: stdin, timeout: timeout, environment: env)
    }

    /// Runs kubectl and requires exit status 0.
    @discardableResult
    func ok(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 90, environment: [String: String] = [:],
            sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try kubectlRun(args, stdin: stdin, timeout: timeout, environment: environment)
        #expect(r.status == 0, "kubectl \(args.joined(separator: " ")) with \(kubectl.testDescription): \(r)", sourceLocation: sourceLocation)
        return r.stdout
    }

    /// A file in the cluster's directory.
    func file(_ name: String, _ text: String) throws -> String {
        let path = "\(dir)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Polls until `condition` holds.
    func waitUntil(_ what: String, timeout: TimeInterval = 90, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(200_000)
        }
        throw TestFailure("timed out waiting for \(what)\n\(log().suffix(6000))")
    }

    /// SIGTERM to the daemon's group; SIGKILL if it does not stop within 30 s. Then the mounts and
    /// the directory go. Safe to call twice.
    func stop() {
        if pid > 0 {
            kill(-pid, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            var status: Int32 = 0
            while Date() < deadline && waitpid(pid, &status, WNOHANG) == 0 { usleep(50_000) }
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
            pid = 0
        }
        unmountEverything(under: dir)
        LiveClusters.shared.remove(self)
        if ProcessInfo.processInfo.environment["CAIRN_KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
}

/// posix_spawn with the child leading a new process group, output to `log`.
func spawnInOwnGroup(_ executable: String, _ args: [String], log: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    var pid: pid_t = 0
    let argv = ([executable] + args).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard rc == 0 else { throw TestFailure("cannot start \(executable): \(String(cString: strerror(rc)))") }
    return pid
}

/// Lazily unmounts (deepest first) every mount below `dir`.
func unmountEverything(under dir: String) {
    // Read to the end: procfs reports a size of 0, so reading "the whole file" by its size gets nothing.
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/mountinfo") else { return }
    defer { try? handle.close() }
    let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    let points = text.split(separator: "\n").compactMap { line -> String? in
        let fields = line.split(separator: " ")
        guard fields.count > 4 else { return nil }
        let p = fields[4].replacingOccurrences(of: "\\040", with: " ")
        return p == dir || p.hasPrefix(dir + "/") ? p : nil
    }
    for p in points.sorted(by: { $0.count > $1.count }) { umount2(p, Int32(MNT_DETACH)) }
}

/// kubectl's table output with what differs between runs made stable: AGE cells (`5s`, `2m10s`) become
/// `<age>`, volume names `pvc-<uid>`, a ReplicaSet pod's random suffix `-xxxxx`; then re-aligned as
/// kubectl's tab writer aligns them (three spaces between columns).
func stableTable(_ output: String, ageColumns: Set<String> = ["AGE", "LAST SEEN"], volumeWidth: Bool = true) -> String {
    var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    guard let header = lines.first else { return output }
    let starts = columnStarts(header)
    var rows: [[String]] = lines.map { line in
        var cells: [String] = []
        for (i, s) in starts.enumerated() {
            let from = line.index(line.startIndex, offsetBy: min(s, line.count))
            let to = i + 1 < starts.count ? line.index(line.startIndex, offsetBy: min(starts[i + 1], line.count)) : line.endIndex
            cells.append(String(line[from..<to]).trimmingCharacters(in: .whitespaces))
        }
        return cells
    }
    let names = rows[0]
    for r in 1..<rows.count {
        for (c, name) in names.enumerated() where c < rows[r].count {
            if ageColumns.contains(name) && !rows[r][c].isEmpty { rows[r][c] = "<age>" }
            rows[r][c] = stableNames(rows[r][c])
        }
    }
    var widths = [Int](repeating: 0, count: names.count)
    for row in rows { for (c, cell) in row.enumerated() { widths[c] = max(widths[c], cell.count) } }
    return rows.map { row in
        row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c] + 3, withPad: " ", startingAt: 0) }
            .joined()
    }.joined(separator: "\n") + "\n"
}

/// Where each column of a kubectl table starts: header words separated by at least two spaces (headers
/// such as ACCESS MODES hold one).
func columnStarts(_ header: String) -> [Int] {
    var starts: [Int] = []
    let chars = Array(header)
    var i = 0
    while i < chars.count {
        if chars[i] != " " && (i == 0 || (i >= 2 && chars[i - 1] == " " && chars[i - 2] == " ")) { starts.append(i) }
        i += 1
    }
    return starts
}

/// Generated names made stable: `pvc-<uuid>` and a ReplicaSet pod's `replica-pvc-abcde`.
func stableNames(_ text: String) -> String {
    var s = text
    if let r = s.range(of: #"pvc-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, options: .regularExpression) {
        s.replaceSubrange(r, with: "pvc-<uid>")
    }
    if let r = s.range(of: #"replica-pvc-[a-z0-9]{5}\b"#, options: .regularExpression) { s.replaceSubrange(r, with: "replica-pvc-xxxxx") }
    return s
}

/// The seed lesson's manifests, as written there.
enum Seed {
    static func read(_ name: String) -> String {
        (try? String(contentsOfFile: "\(packageRoot)/examples/seed/\(name)", encoding: .utf8)) ?? ""
    }
    static let pvc = read("pvc.yaml")
    static let replicaSet = read("replicaset.yaml")
    static let statefulSet = read("statefulset.yaml")
}

/// A JSON object from kubectl's -o json.
func jsonObject(_ text: String) throws -> [String: Any] {
    guard let data = text.data(using: .utf8), let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(text.prefix(400))")
    }
    return o
}

// MARK: - Checks shared by the suites

extension Cluster {
    /// Runs kubectl and requires it to fail; returns what it printed.
    @discardableResult
    func fails(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 90, environment: [String: String] = [:],
               sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try kubectlRun(args, stdin: stdin, timeout: timeout, environment: environment)
        #expect(r.status != 0 && r.status != -1, "kubectl \(args.joined(separator: " ")) with \(kubectl.testDescription) should have failed: \(r)",
                sourceLocation: sourceLocation)
        return r
    }

    /// `kubectl get ARGS -o jsonpath=TEMPLATE`, or nil when kubectl fails.
    func jsonpath(_ args: [String], _ template: String) -> String? {
        guard let r = try? kubectlRun(["get"] + args + ["-o", "jsonpath=\(template)"], timeout: 30), r.status == 0 else { return nil }
        return r.stdout
    }

    /// Polls `kubectl get ARGS -o jsonpath=TEMPLATE` until it prints `expected`.
    func waitFor(_ args: [String], _ template: String, toBe expected: String, timeout: TimeInterval = 90) throws {
        try waitUntil("\(args.joined(separator: " ")) \(template) == \(expected)", timeout: timeout) {
            jsonpath(args, template) == expected
        }
    }

    /// A manifest written into the cluster's directory, returned as its path.
    func manifest(_ name: String, _ text: String) throws -> String { try file(name, text) }
}

/// Daemons a test process started and has not stopped yet: stopped at exit if a test never got to it
/// (the `defer` in each test covers failures; this covers a test process that exits early).
final class LiveClusters: @unchecked Sendable {
    static let shared = LiveClusters()
    private let lock = NSLock()
    private var clusters: [ObjectIdentifier: Cluster] = [:]
    private var registeredExit = false

    func add(_ c: Cluster) {
        lock.lock(); defer { lock.unlock() }
        clusters[ObjectIdentifier(c)] = c
        if !registeredExit {
            registeredExit = true
            atexit { LiveClusters.shared.stopAll() }
        }
    }

    func remove(_ c: Cluster) {
        lock.lock(); defer { lock.unlock() }
        clusters[ObjectIdentifier(c)] = nil
    }

    func stopAll() {
        lock.lock()
        let all = Array(clusters.values)
        lock.unlock()
        for c in all { c.stop() }
    }
}

/// Directories an earlier test process left behind (it was killed before its clean-up ran): their
/// daemon's group is killed and their mounts go, once per test process, before the first daemon starts.
enum StaleClusters {
    static let swept: Void = {
        let tmp = FileManager.default.temporaryDirectory.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmp) else { return }
        for name in names where name.hasPrefix("cairn-kubectl-") {
            let dir = "\(tmp)/\(name)"
            guard let owner = pidFile("\(dir)/owner.pid"), kill(owner, 0) != 0 else { continue }
            if let daemon = pidFile("\(dir)/daemon.pid"), isCairnServe(daemon, stateDir: "\(dir)/state") {
                kill(-daemon, SIGKILL)
            }
            unmountEverything(under: dir)
            try? FileManager.default.removeItem(atPath: dir)
        }
    }()

    static func pidFile(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Only a `cairn serve` on that state dir is killed: a pid may have been reused since.
    static func isCairnServe(_ pid: pid_t, stateDir: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains("serve") && args.contains(stateDir)
    }
}

/// A table line's cells: kubectl's tab writer separates columns by at least three spaces, while a
/// cell (a header such as ACCESS MODES, an event message) holds single spaces.
func tableCells(_ line: String) -> [String] {
    line.components(separatedBy: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// A kubectl left running (`get -w`), its output collected as it comes; `stop()` ends it.
final class RunningKubectl: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    init(_ cluster: Cluster, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: cluster.kubectl.path)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["KUBECONFIG"] = cluster.kubeconfig
        env["HOME"] = cluster.home
        process.environment = env
        let o = Pipe(), e = Pipe()
        process.standardOutput = o
        process.standardError = e
        process.standardInput = FileHandle.nullDevice
        o.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.lock(); self.out.append(d); self.lock.unlock()
        }
        e.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.lock(); self.err.append(d); self.lock.unlock()
        }
        try process.run()
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

    /// Waits until the output so far satisfies `condition` (or the deadline passes); true if it did.
    func waitForOutput(timeout: TimeInterval = 90, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(stdout) { return true }
            if !process.isRunning { return condition(stdout) }
            usleep(100_000)
        }
        return false
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A kubectl table as rows of cells, with what differs between runs masked: the AGE and LAST SEEN
/// cells, generated volume and pod names. Both kubectl's output and a table written by hand (cells at
/// least three spaces apart) go through it, so they compare cell by cell; an empty cell (the PV's
/// REASON) drops out of both.
func cells(_ output: String) -> [[String]] {
    let lines = output.split(separator: "\n").map { tableCells(String($0)) }
    guard let header = lines.first else { return [] }
    return [header] + lines.dropFirst().map { row in
        row.map { cell in isAge(cell) ? "<age>" : stableNames(cell) }
    }
}

/// kubectl's human durations: `7s`, `2m10s`, `5h`, `3d4h`, `<invalid>` for a time in the future.
func isAge(_ cell: String) -> Bool {
    cell == "<invalid>" || cell.range(of: #"^[0-9]+[smhdy]([0-9]+[smhd])?$"#, options: .regularExpression) != nil
}

/// Whether `kubectl describe` output has a line `KEY:  VALUE` at the given indent, however wide the
/// tab writer made the gap (it depends on the other keys in the block).
func describeHas(_ output: String, _ key: String, _ value: String, indent: Int = 0) -> Bool {
    let prefix = String(repeating: " ", count: indent) + key + ":"
    return output.split(separator: "\n").contains { line in
        line.hasPrefix(prefix) && line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces) == value
            && (value.isEmpty || line.dropFirst(prefix.count).first == " ")
    }
}
