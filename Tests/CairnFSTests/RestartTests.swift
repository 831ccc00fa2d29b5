import CFuseKernel
import CairnFS
import Foundation
import Glibc
import Synchronization
import Testing

/// A daemon restart that pods do not notice: a pod's process keeps a file open and writes to it in
/// a loop (and another creates and removes files) while the daemon hands its connection over
/// (SIGHUP) or is killed with -9, and a new daemon takes the mount over from the descriptor holder.
/// What the processes see is measured and printed; the test asks for no error and intact data (it
/// asserts no duration: the longest stall is printed for the README and the report).
@Suite(.serialized) struct RestartTests {
    enum Restart: String, CaseIterable, Sendable, CustomStringConvertible {
        case graceful
        case killNine
        var description: String { rawValue }
    }

    /// What a loop in a pod saw.
    final class LoopRecord: Sendable {
        let operations = Atomic<Int>(0)
        let errors = Mutex<[String]>([])
        /// Longest time between two completed operations, in nanoseconds.
        let longestStall = Atomic<UInt64>(0)
        let stop = Atomic<Bool>(false)

        func completed(since last: inout UInt64) {
            let now = DispatchTime.now().uptimeNanoseconds
            let gap = now - last
            if gap > longestStall.load(ordering: .relaxed) { longestStall.store(gap, ordering: .relaxed) }
            last = now
            operations.add(1, ordering: .relaxed)
        }

        var summary: String {
            "\(operations.load(ordering: .relaxed)) operations, \(errors.withLock { $0.count }) errors, longest stall \(Double(longestStall.load(ordering: .relaxed) / 1_000_000) / 1000) s"
        }
    }

    static let block = 4096

    /// Appends numbered 4 KiB blocks to one open file, fsync every 16, about 1000 per second.
    static func writer(_ path: String, _ record: LoopRecord) -> Thread {
        Thread {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                record.errors.withLock { $0.append("open: \(String(cString: strerror(errno)))") }
                return
            }
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: block)
            var last = DispatchTime.now().uptimeNanoseconds
            var n: UInt64 = 0
            while !record.stop.load(ordering: .relaxed) {
                withUnsafeBytes(of: n.littleEndian) { for i in 0..<8 { buf[i] = $0[i] } }
                let w = write(fd, buf, block)
                if w != block {
                    let e = errno
                    record.errors.withLock { $0.append("write \(n): \(w < 0 ? String(cString: strerror(e)) : "short \(w)")") }
                } else {
                    n += 1
                }
                if n % 16 == 0 && fsync(fd) != 0 {
                    let e = errno
                    record.errors.withLock { $0.append("fsync: \(String(cString: strerror(e)))") }
                }
                record.completed(since: &last)
                usleep(1000)
            }
        }
    }

    /// Creates, stats and removes small files: requests that go to the daemon in every mode.
    static func metadataLoop(_ dir: String, _ record: LoopRecord) -> Thread {
        Thread {
            var last = DispatchTime.now().uptimeNanoseconds
            var i = 0
            while !record.stop.load(ordering: .relaxed) {
                let path = "\(dir)/m\(i % 8)"
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                var st = stat()
                if fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0 || stat(path, &st) != 0 || unlink(path) != 0 {
                    let e = errno
                    record.errors.withLock { $0.append("\(path): \(String(cString: strerror(e)))") }
                    unlink(path)
                }
                i += 1
                record.completed(since: &last)
                usleep(2000)
            }
        }
    }

    @Test(arguments: CapacityMode.allCases, Restart.allCases)
    func podsSeeNoErrorAcrossARestart(mode: CapacityMode, restart: Restart) throws {
        let (quotaRoot, quota) = try modeRoot(mode, "restart")
        defer { quota?.stop() }
        let root = try quotaRoot ?? makeTempDir("restart")
        defer { removeTree(root) }
        let volumes = [(id: "r", capacity: 256 * MiB, readOnly: false)]
        let first = try HarnessMount(volumes: volumes, root: root)
        var current = first
        defer { current.stop(removeRoot: false) }
        try first.expectEnforcement("r", mode)
        let volume = first.volume("r")
        mkdir(volume + "/meta", 0o755)
        // A directory held open across the restart too (its handle must still list).
        let dirFD = open(volume + "/meta", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(dirFD >= 0)
        defer { close(dirFD) }

        let writes = LoopRecord(), metadata = LoopRecord()
        let w = Self.writer(volume + "/log", writes), m = Self.metadataLoop(volume + "/meta", metadata)
        w.start()
        m.start()
        usleep(500_000)
        switch restart {
        case .graceful: try first.handOver()
        case .killNine: first.killHard()
        }
        first.forget()
        // The next daemon; pods keep running meanwhile (their calls wait in the kernel).
        let second = try HarnessMount(volumes: volumes, root: root)
        current = second
        let takeover = try second.command("takeover")
        usleep(500_000)
        writes.stop.store(true, ordering: .relaxed)
        metadata.stop.store(true, ordering: .relaxed)
        while !w.isFinished || !m.isFinished { usleep(5_000) }

        print("restart \(restart) (\(mode)): writer: \(writes.summary); metadata loop: \(metadata.summary); \(takeover)")
        #expect(takeover.hasPrefix("takeover volumes=1 "), "the second daemon did not take over: \(takeover)")
        #expect(writes.errors.withLock { $0 } == [], "writer errors")
        #expect(metadata.errors.withLock { $0 } == [], "metadata loop errors")
        // Every block the writer counted is in the file, in order.
        let data = try Data(contentsOf: URL(fileURLWithPath: volume + "/log"))
        let blocks = data.count / Self.block
        #expect(data.count % Self.block == 0 && blocks > 0, "file size \(data.count)")
        for i in stride(from: 0, to: blocks, by: max(1, blocks / 64)) {
            let n = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * Self.block, as: UInt64.self) }
            #expect(UInt64(littleEndian: n) == UInt64(i), "block \(i) holds \(n)")
        }
        // The directory handle opened before the restart still reads.
        lseek(dirFD, 0, SEEK_SET)
        var buf = [UInt8](repeating: 0, count: 4096)
        #expect(cairn_getdents64(dirFD, &buf, buf.count) >= 0, "getdents on the old handle: \(errno)")
        // Usage still adds up after the takeover.
        let usage = try second.usage("r")
        let du = try duUsage(second.backing("r"))
        #expect(usage.used == du.bytes, "usage \(usage.used) du \(du.bytes)")
    }

    /// A file a pod unlinked while keeping it open lives only through open descriptors; the
    /// daemon's die with it, so the holder keeps one (HolderClient.Kind.orphan) and the pod can
    /// go on reading and writing it after a kill -9.
    @Test(arguments: CapacityMode.allCases)
    func unlinkedOpenFileSurvivesACrash(mode: CapacityMode) throws {
        let (quotaRoot, quota) = try modeRoot(mode, "orphan")
        defer { quota?.stop() }
        let root = try quotaRoot ?? makeTempDir("orphan")
        defer { removeTree(root) }
        let volumes = [(id: "o", capacity: 64 * MiB, readOnly: false)]
        let first = try HarnessMount(volumes: volumes, root: root)
        var current = first
        defer { current.stop(removeRoot: false) }
        let path = first.volume("o") + "/scratch"
        let fd = try call("open") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        #expect(write(fd, "before ", 7) == 7)
        try call("unlink") { unlink(path) }
        first.killHard()
        first.forget()
        let second = try HarnessMount(volumes: volumes, root: root)
        current = second
        #expect(write(fd, "after", 5) == 5, "write to the unlinked file after the crash: \(String(cString: strerror(errno)))")
        var buf = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buf, 32, 0)
        #expect(n == 12 && String(decoding: buf[0..<max(0, n)], as: UTF8.self) == "before after",
                "read back \(n): \(String(decoding: buf[0..<max(0, n)], as: UTF8.self))")
        var st = stat()
        #expect(fstat(fd, &st) == 0 && st.st_nlink == 0, "fstat after the crash: nlink \(st.st_nlink)")
    }
}
