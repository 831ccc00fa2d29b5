import CFuseKernel
import CairnFS
import CairnNode
import Foundation
import Glibc
import Synchronization
import Testing

/// A failed expectation inside a table case: what, and the errno text when a call failed.
struct CaseFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs a call that returns -1/errno on failure; throws with its name and errno text.
@discardableResult
func call(_ what: String, _ body: () -> Int32) throws -> Int32 {
    let r = body()
    if r < 0 { throw CaseFailure(description: "\(what) failed: \(String(cString: strerror(errno))) (errno \(errno))") }
    return r
}

@discardableResult
func callSize(_ what: String, _ body: () -> Int) throws -> Int {
    let r = body()
    if r < 0 { throw CaseFailure(description: "\(what) failed: \(String(cString: strerror(errno))) (errno \(errno))") }
    return r
}

/// Expects a call to fail with exactly `code`.
func expectErrno(_ code: Int32, _ what: String, _ body: () -> Int) throws {
    errno = 0
    let r = body()
    if r >= 0 { throw CaseFailure(description: "\(what) succeeded; expected \(String(cString: strerror(code)))") }
    if errno != code {
        throw CaseFailure(description: "\(what) failed with \(String(cString: strerror(errno))); expected \(String(cString: strerror(code)))")
    }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CaseFailure(description: message()) }
}

func lstatOf(_ path: String) throws -> stat {
    var st = stat()
    try call("lstat \(path)") { lstat(path, &st) }
    return st
}

func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    let fd = try call("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    try check(write(fd, bytes, bytes.count) == bytes.count, "short write to \(path)")
}

func readFile(_ path: String) throws -> String {
    let fd = try call("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { close(fd) }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = try callSize("read \(path)") { read(fd, &buf, buf.count) }
        if n == 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

/// Runs a command (no shell unless asked) and returns its exit status and output.
@discardableResult
func run(_ argv: [String], cwd: String? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
    p.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs a shell snippet as uid/gid (setpriv from util-linux), with no supplementary groups.
func runAs(uid: uid_t, gid: gid_t, in dir: String, _ script: String) throws {
    let r = try run(["setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "sh", "-c", script], cwd: dir)
    try check(r.status == 0, "as \(uid):\(gid) in \(dir): `\(script)` exited \(r.status): \(r.output)")
}

func makeTempDir(_ label: String) throws -> String {
    var template = Array("/tmp/cairnfs-\(label)-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw CaseFailure(description: "mkdtemp failed") }
    let path = String(cString: p)
    chmod(path, 0o755)
    return path
}

func removeTree(_ path: String) {
    _ = try? run(["rm", "-rf", "--one-file-system", path])
}

/// du-style usage of a directory: st_blocks*512 of every inode once, and the inode count.
func duUsage(_ path: String) throws -> (bytes: Int64, files: Int64) {
    let r = try run(["du", "-s", "-B1", path])
    let r2 = try run(["du", "-s", "--inodes", path])
    guard let bytes = Int64(r.output.split(separator: "\t").first ?? ""),
          let files = Int64(r2.output.split(separator: "\t").first ?? "") else {
        throw CaseFailure(description: "cannot parse du output: \(r.output) / \(r2.output)")
    }
    return (bytes, files)
}

/// A cairnfs-harness child serving one node mount, with a watchdog: when the deadline passes the
/// FUSE connection is aborted (every blocked call returns ENOTCONN) and the mount is detached,
/// so a test can fail but never hang. `stop()` always cleans up: unmount, kill, remove dirs.
final class HarnessMount: @unchecked Sendable {
    let root: String
    let mountPoint: String
    private let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    /// State shared with the reader and watchdog threads.
    final class Shared: Sendable {
        let lines = Mutex<[String]>([])
        let stopped = Atomic<Bool>(false)
    }
    private let shared = Shared()
    private(set) var connection: UInt32 = 0
    /// Whether this mount made `root` (and so removes it).
    let ownsRoot: Bool

    static var harnessPath: String {
        if let env = ProcessInfo.processInfo.environment["CAIRNFS_HARNESS"] { return env }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("cairnfs-harness").path
            if access(path, X_OK) == 0 { return path }
        }
        return Bundle.main.bundleURL.appendingPathComponent("cairnfs-harness").path
    }

    /// `volumes`: (id, capacity, readOnly); backing dirs are created under root/backing/<id>
    /// unless `backing` names one.
    /// The harness's descriptor holder lets a dead daemon's mount go after this long (the default
    /// 60 s would keep a crashed test's mount waiting).
    static let defaultArgs = ["--takeover-timeout", "10"]

    /// `inertBacking`: bind-mount `root/backing` onto itself nodev,nosuid first, as the node agent
    /// does with data roots, so the volume may hold device nodes.
    init(volumes: [(id: String, capacity: Int64, readOnly: Bool)], backing: [String: String] = [:],
         root existingRoot: String? = nil, deadline: Double = 120, extraArgs: [String] = defaultArgs,
         inertBacking: Bool = false) throws {
        root = try existingRoot ?? makeTempDir("mount")
        ownsRoot = existingRoot == nil
        mountPoint = root + "/mnt"
        mkdir(mountPoint, 0o755)
        mkdir(root + "/backing", 0o755)
        if inertBacking { _ = try MountTable.makeInert(root + "/backing") }
        var args = ["--mount", mountPoint]
        for v in volumes {
            let dir = backing[v.id] ?? root + "/backing/" + v.id
            makeVolumeDirectory(dir)
            args += ["--volume", "\(v.id)=\(dir):\(v.capacity)\(v.readOnly ? ":ro" : "")"]
        }
        let path = Self.harnessPath
        guard access(path, X_OK) == 0 else {
            removeTree(root)
            throw CaseFailure(description: "cairnfs-harness not found at \(path): build it (swift build) or set CAIRNFS_HARNESS")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args + extraArgs
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        try process.run()
        let shared = self.shared
        let handle = stdoutPipe.fileHandleForReading
        Thread.detachNewThread {
            var pending = ""
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending += String(decoding: data, as: UTF8.self)
                while let nl = pending.firstIndex(of: "\n") {
                    let line = String(pending[..<nl])
                    pending = String(pending[pending.index(after: nl)...])
                    shared.lines.withLock { $0.append(line) }
                }
            }
        }
        guard (try? nextLine(timeout: 20)) == "ready" else {
            stop()
            throw CaseFailure(description: "cairnfs-harness did not print ready")
        }
        var st = stat()
        if stat(mountPoint, &st) == 0 {
            connection = (UInt32(truncatingIfNeeded: st.st_dev) & 0xff) | (UInt32(truncatingIfNeeded: st.st_dev >> 12) & ~0xff)
        }
        let connection = self.connection
        let mountPoint = self.mountPoint
        Thread.detachNewThread {
            let end = Date().addingTimeInterval(deadline)
            while Date() < end {
                if shared.stopped.load(ordering: .relaxed) { return }
                usleep(100_000)
            }
            if shared.stopped.load(ordering: .relaxed) { return }
            print("watchdog: test deadline passed, aborting FUSE connection \(connection)")
            HarnessMount.abort(connection: connection, mountPoint: mountPoint)
        }
    }

    /// Aborts the FUSE connection (every blocked call returns ENOTCONN, the descriptor holder lets
    /// go) and detaches the mount.
    static func abort(connection: UInt32, mountPoint: String) {
        MountTable.abortFuseConnection(mountPoint: mountPoint)
        umount2(mountPoint, Int32(MNT_DETACH))
    }

    func volume(_ id: String) -> String { mountPoint + "/" + id }
    func backing(_ id: String) -> String { root + "/backing/" + id }
    var pid: Int32 { process.processIdentifier }

    func nextLine(timeout: Double) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let line = shared.lines.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return line }
            usleep(5_000)
        }
        throw CaseFailure(description: "no line from cairnfs-harness within \(timeout)s")
    }

    /// Sends one stdin command and returns its one-line answer.
    func command(_ text: String) throws -> String {
        try stdinPipe.fileHandleForWriting.write(contentsOf: Data((text + "\n").utf8))
        return try nextLine(timeout: 30)
    }

    func usage(_ id: String) throws -> (used: Int64, capacity: Int64, files: Int64) {
        let answer = try command("usage \(id)")
        let w = answer.split(separator: " ")
        guard w.count == 5, w[0] == "usage", let u = Int64(w[2]), let c = Int64(w[3]), let f = Int64(w[4]) else {
            throw CaseFailure(description: "bad usage answer: \(answer)")
        }
        return (u, c, f)
    }

    /// Waits (30 s at most) until the volume has no open handles: the kernel sends RELEASE after
    /// close(2) returns, and an open made before it arrives is not alone on the file.
    func waitForReleases(_ id: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try command("handles \(id)") == "handles \(id) 0" { return }
            usleep(2_000)
        }
        throw CaseFailure(description: "volume \(id) still has open handles after 30 s")
    }

    /// Checks who enforces a volume's capacity: the kernel's project quota on the quota
    /// filesystem, the daemon elsewhere.
    func expectEnforcement(_ id: String, _ mode: CapacityMode) throws {
        let answer = try command("enforcement \(id)")
        switch mode {
        case .daemon: try check(answer == "enforcement \(id) daemon", "enforcement: \(answer)")
        case .kernelQuota:
            try check(answer.hasPrefix("enforcement \(id) project ") || answer.hasPrefix("enforcement \(id) btrfs-qgroup "),
                      "enforcement: \(answer)")
        }
    }

    func isBtrfsQgroup(_ id: String) throws -> Bool {
        try command("enforcement \(id)").hasPrefix("enforcement \(id) btrfs-qgroup ")
    }

    /// SIGTERM and wait; if the child does not exit, abort the connection and SIGKILL it.
    /// Then make sure nothing stays mounted. Safe to call twice.
    func stop() { stop(removeRoot: ownsRoot) }

    func stop(removeRoot: Bool) {
        if !shared.stopped.exchange(true, ordering: .relaxed) {
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                let end = Date().addingTimeInterval(10)
                while process.isRunning && Date() < end { usleep(10_000) }
                if process.isRunning {
                    Self.abort(connection: connection, mountPoint: mountPoint)
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
            }
            // Dead daemon or leftover mount: detach whatever is still there.
            if Self.isMounted(mountPoint) { umount2(mountPoint, Int32(MNT_DETACH)) }
        }
        if removeRoot {
            if Self.isMounted(root + "/backing") { umount2(root + "/backing", Int32(MNT_DETACH)) }
            removeTree(root)
        }
    }

    /// kill -9 without cleanup, for the crash tests. The mount stays (its holder keeps it).
    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGHUP: the harness hands the connection to its holder and exits without unmounting.
    func handOver() throws {
        kill(process.processIdentifier, SIGHUP)
        let end = Date().addingTimeInterval(30)
        while process.isRunning && Date() < end { usleep(5_000) }
        if process.isRunning { throw CaseFailure(description: "harness did not exit after SIGHUP") }
    }

    /// This object no longer owns the mount (a later harness took it over): stop() and deinit
    /// leave it alone.
    func forget() {
        shared.stopped.store(true, ordering: .relaxed)
    }

    var exitStatus: Int32 { process.terminationStatus }
    var isRunning: Bool { process.isRunning }

    static func isMounted(_ path: String) -> Bool {
        MountTable.mounts().contains { $0.mountPoint == path }
    }

    deinit { stop() }
}

/// Where a test's volumes live: a plain directory (Cairn's own accounting) or a small loop-mounted
/// filesystem where the kernel enforces each volume's capacity: ext4 with project quotas
/// (`mkfs.ext4 -O project,quota`, mounted `prjquota`) where this kernel can mount it (it needs
/// CONFIG_QFMT_V2), else btrfs with qgroups (each volume a subvolume).
enum CapacityMode: String, CaseIterable, Sendable, CustomStringConvertible {
    case daemon
    case kernelQuota

    var description: String { rawValue }

    /// ENOSPC from Cairn; the kernel's quota answers EDQUOT.
    func isNoSpace(_ e: Int32) -> Bool {
        self == .daemon ? e == ENOSPC : (e == ENOSPC || e == EDQUOT)
    }
}

/// A volume's backing directory: a btrfs subvolume where the parent is on btrfs with qgroups (so
/// the kernel can limit it), a plain directory elsewhere.
func makeVolumeDirectory(_ path: String) {
    let slash = path.lastIndex(of: "/")!
    let parent = String(path[..<slash]), name = String(path[path.index(after: slash)...])
    let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    defer { if fd >= 0 { close(fd) } }
    if fd >= 0 && cairn_fs_type(fd) == CAIRN_BTRFS_SUPER_MAGIC && cairn_btrfs_quota_enabled(fd) == 1 {
        if cairn_btrfs_subvolume_create(fd, name) == 0 {
            chmod(path, 0o755)
            let dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 {
                _ = cairn_set_nocow(dir)
                close(dir)
            }
            return
        }
    }
    mkdir(path, 0o755)
}

/// A loop-mounted filesystem whose kernel enforces per-volume limits, mounted nodev,nosuid (so
/// device nodes made in it are inert). `root` is a directory on it for one test; `stop()` unmounts
/// and removes everything.
final class QuotaFilesystem: @unchecked Sendable {
    let dir: String
    let image: String
    let mountPoint: String
    /// "ext4 project quotas" or "btrfs qgroups".
    private(set) var kind = ""

    init(sizeMiB: Int = 512) throws {
        dir = try makeTempDir("kquota")
        image = dir + "/image"
        mountPoint = dir + "/fs"
        mkdir(mountPoint, 0o755)
        _ = try run(["truncate", "-s", "\(sizeMiB)M", image])
        let ext4 = try run(["mkfs.ext4", "-q", "-F", "-O", "project,quota", "-E", "lazy_itable_init=0,lazy_journal_init=0", image])
        if ext4.status == 0, try run(["mount", "-o", "loop,prjquota,nodev,nosuid", image, mountPoint]).status == 0 {
            kind = "ext4 project quotas"
        } else {
            // This kernel cannot mount ext4 with quotas: btrfs qgroups instead.
            let steps: [[String]] = [
                ["mkfs.btrfs", "-q", "-f", image],
                ["mount", "-o", "loop,nodev,nosuid", image, mountPoint],
                ["btrfs", "quota", "enable", mountPoint],
            ]
            for step in steps {
                let r = try run(step)
                if r.status != 0 {
                    umount2(mountPoint, Int32(MNT_DETACH))
                    removeTree(dir)
                    throw CaseFailure(description: "\(step.joined(separator: " ")) exited \(r.status): \(r.output)")
                }
            }
            kind = "btrfs qgroups"
        }
        chmod(mountPoint, 0o755)
    }

    /// A fresh directory on the filesystem, for a HarnessMount root.
    func root(_ label: String) throws -> String {
        var template = Array("\(mountPoint)/\(label)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw CaseFailure(description: "mkdtemp on the quota filesystem failed") }
        let path = String(cString: p)
        chmod(path, 0o755)
        return path
    }

    func stop() {
        umount2(mountPoint, Int32(MNT_DETACH))
        removeTree(dir)
    }

    deinit { stop() }
}

/// A root directory for a HarnessMount in `mode` (nil filesystem for the daemon mode), and what
/// removes it afterwards.
func modeRoot(_ mode: CapacityMode, _ label: String) throws -> (root: String?, quota: QuotaFilesystem?) {
    switch mode {
    case .daemon: return (nil, nil)
    case .kernelQuota:
        let q = try QuotaFilesystem()
        return (try q.root(label), q)
    }
}
