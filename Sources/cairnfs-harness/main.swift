// Serves one CairnFS node mount in its own process, for the filesystem tests and tools/bench-fs.
//
//   cairnfs-harness --mount MNT --volume ID=BACKING_DIR:CAPACITY_BYTES[:ro] [--volume ...]
//                   [--writeback] [--threads N] [--timeout S] [--no-passthrough]
//                   [--no-project-quotas] [--no-holder] [--takeover-timeout S] [--verbose]
//
// Prints "ready" once mounted (or taken over from a previous harness's descriptor holder) and
// attached, serves until SIGTERM/SIGINT (unmounts, exits 0) or SIGHUP (hands the connection
// over to the holder for the next harness, exits 0 without unmounting).
// Commands on stdin, one per line, each answered by one line on stdout:
//   usage ID                 -> "usage ID USED CAPACITY FILES" or "error ..."
//   handles ID               -> "handles ID N": file and directory handles open on the volume
//   capacity ID BYTES        -> "ok" or "error ..."
//   attach ID=DIR:BYTES[:ro] -> "ok" or "error ..."
//   detach ID                -> "ok" or "error ..."
//   enforcement ID           -> "enforcement ID daemon" or "enforcement ID project N"
//   takeover                 -> "takeover none" or "takeover volumes=N inodes=N stale=N handles=N seconds=S"
//   requests                 -> "requests LOOKUP=N CREATE=N ..." (served since the mount)
//   stats                    -> "stats threads=N rss_kib=N fds=N"
import CairnFS
import Glibc
import Logging

func fail(_ message: String) -> Never {
    let text = "cairnfs-harness: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func need<T>(_ value: T?, _ message: String) -> T {
    guard let value else { fail(message) }
    return value
}

func parseVolume(_ text: String) -> VolumeSpec? {
    guard let eq = text.firstIndex(of: "=") else { return nil }
    let id = String(text[..<eq])
    var parts = text[text.index(after: eq)...].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    var readOnly = false
    if parts.last == "ro" { readOnly = true; parts.removeLast() } else if parts.last == "rw" { parts.removeLast() }
    guard parts.count >= 2, let capacity = Int64(parts.removeLast()) else { return nil }
    return VolumeSpec(id: id, backingPath: parts.joined(separator: ":"), capacityBytes: capacity, readOnly: readOnly)
}

var mountPoint: String?
var volumes: [VolumeSpec] = []
var tuning = FileSystemTuning()
var verbose = false
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--mount": mountPoint = need(args.popFirst(), "--mount needs a directory")
    case "--volume":
        let text = need(args.popFirst(), "--volume needs ID=BACKING_DIR:CAPACITY_BYTES[:ro]")
        volumes.append(need(parseVolume(text), "bad --volume \(text): expected ID=BACKING_DIR:CAPACITY_BYTES[:ro]"))
    case "--splice": tuning.spliceRead = true; tuning.spliceWrite = true
    case "--no-splice": tuning.spliceRead = false; tuning.spliceWrite = false
    case "--splice-read": tuning.spliceRead = true
    case "--splice-write": tuning.spliceWrite = true
    case "--writeback": tuning.writebackCache = true
    case "--auto-inval": tuning.autoInvalidateData = true
    case "--threads":
        tuning.maxThreads = need(UInt32(args.popFirst() ?? ""), "--threads needs a number")
        tuning.initialThreads = min(tuning.initialThreads, tuning.maxThreads)
    case "--initial-threads": tuning.initialThreads = need(UInt32(args.popFirst() ?? ""), "--initial-threads needs a number")
    case "--idle-threads": tuning.maxIdleThreads = need(UInt32(args.popFirst() ?? ""), "--idle-threads needs a number")
    case "--no-clone-fd": tuning.cloneFD = false
    case "--no-passthrough": tuning.passthrough = false
    case "--no-project-quotas": tuning.projectQuotas = false
    case "--no-holder": tuning.holder = false
    case "--takeover-timeout": tuning.takeoverTimeout = need(Double(args.popFirst() ?? ""), "--takeover-timeout needs seconds")
    case "--timeout":
        let t = need(Double(args.popFirst() ?? ""), "--timeout needs seconds")
        tuning.entryTimeout = t
        tuning.attrTimeout = t
    case "--verbose": verbose = true
    default: fail("unknown argument \(arg)")
    }
}
guard let mountPoint else { fail("--mount MNT is required") }

let logLevel: Logger.Level = verbose ? .debug : .warning
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = logLevel
    return handler
}
let logger = Logger(label: "cairnfs-harness")

// Block the signals before any thread exists so libfuse's workers inherit the mask and only
// sigwait below sees them.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGTERM)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGHUP)
pthread_sigmask(SIG_BLOCK, &signals, nil)
signal(SIGPIPE, SIG_IGN)

let fileSystem = NodeFileSystem(mountPoint: mountPoint, logger: logger, tuning: tuning)
do {
    try fileSystem.mount()
    for volume in volumes { try fileSystem.attach(volume) }
} catch {
    fileSystem.unmount()
    fail("\(error)")
}

func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

func processStats() -> String {
    var threads = 0, rss = 0
    if let f = fopen("/proc/self/status", "r") {
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, 512, f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if s.hasPrefix("Threads:") { threads = Int(s.dropFirst(8).trimmingCharacters()) ?? 0 }
            if s.hasPrefix("VmRSS:") { rss = Int(s.dropFirst(6).trimmingCharacters().split(separator: " ").first ?? "") ?? 0 }
        }
        fclose(f)
    }
    var fds = 0
    if let d = opendir("/proc/self/fd") {
        while readdir(d) != nil { fds += 1 }
        closedir(d)
        fds -= 3  // ".", ".." and the directory's own descriptor
    }
    return "stats threads=\(threads) rss_kib=\(rss) fds=\(fds)"
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed())
    }
}

func handle(_ line: String) -> String {
    let words = line.split(separator: " ").map(String.init)
    guard let command = words.first else { return "error empty command" }
    do {
        switch (command, words.count) {
        case ("handles", 2):
            guard let n = fileSystem.openHandles(volumeID: words[1]) else { return "error unknown volume \(words[1])" }
            return "handles \(words[1]) \(n)"
        case ("usage", 2):
            guard let u = fileSystem.usage(volumeID: words[1]) else { return "error unknown volume \(words[1])" }
            return "usage \(words[1]) \(u.usedBytes) \(u.capacityBytes) \(u.files)"
        case ("capacity", 3):
            try fileSystem.setCapacity(volumeID: words[1], bytes: Int64(words[2]) ?? -1)
            return "ok"
        case ("attach", 2):
            guard let spec = parseVolume(words[1]) else { return "error bad volume \(words[1])" }
            try fileSystem.attach(spec)
            return "ok"
        case ("detach", 2):
            try fileSystem.detach(volumeID: words[1])
            return "ok"
        case ("stats", 1):
            return processStats()
        case ("enforcement", 2):
            switch fileSystem.enforcement(volumeID: words[1]) {
            case nil: return "error unknown volume \(words[1])"
            case .daemon: return "enforcement \(words[1]) daemon"
            case .projectQuota(let id): return "enforcement \(words[1]) project \(id)"
            case .btrfsQgroup(let id): return "enforcement \(words[1]) btrfs-qgroup \(id)"
            }
        case ("requests", 1):
            return "requests " + fileSystem.requestCounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case ("takeover", 1):
            guard let t = fileSystem.takeover else { return "takeover none" }
            return "takeover volumes=\(t.volumes) inodes=\(t.inodes) stale=\(t.staleInodes) handles=\(t.handles) seconds=\(t.seconds)"
        default:
            return "error unknown command \(line)"
        }
    } catch {
        return "error \(error)"
    }
}

say("ready")

/// Not main-actor isolated: it runs on its own thread.
func startCommandThread() {
    var thread = pthread_t()
    pthread_create(&thread, nil, { _ in
        commandLoop()
        return nil
    }, nil)
}

func commandLoop() {
    guard let input = fdopen(0, "r") else { return }
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, 4096, input) != nil {
        var text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while text.last == "\n" { text.removeLast() }
        if text.isEmpty { continue }
        say(handle(text))
    }
}

startCommandThread()

var received: Int32 = 0
sigwait(&signals, &received)
if received == SIGHUP {
    fileSystem.handOver()
} else {
    fileSystem.unmount()
}
exit(0)
