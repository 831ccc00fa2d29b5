@testable import CairnFS
import CFuseKernel
import Foundation
import Glibc
import Testing

/// The capacity arithmetic without a mount: reservations, reconciled deltas, and the FIEMAP /
/// SEEK_HOLE count of unallocated bytes that lets overwrites through on a full volume.
struct AccountingTests {
    func volume(capacity: Int64, used: Int64) throws -> (Volume, SessionMemory) {
        let memory = try SessionMemory.create()
        let record = memory.volume(0)
        cairn_atomic_store64(record.capacity, capacity)
        cairn_atomic_store64(record.used, used)
        cairn_atomic_store64(record.charged, used)
        let volume = Volume(id: "t", backingPath: "/", readOnly: false, serial: 1, slot: 0, record: record,
                            rootFD: open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                            dataFD: open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), enforcement: .daemon)
        return (volume, memory)
    }

    struct Step: Sendable {
        enum Action: Sendable { case reserve(Int64), unreserve(Int64), account(Int64) }
        let action: Action
        let ok: Bool
        let used: Int64
        let available: Int64
    }

    // Numbered cases: capacity 100, starting with 10 used.
    static let steps: [Step] = [
        Step(action: .reserve(50), ok: true, used: 10, available: 40),     // 1 fits
        Step(action: .reserve(41), ok: false, used: 10, available: 40),    // 2 one byte too many
        Step(action: .account(30), ok: true, used: 40, available: 10),     // 3 write landed (30 of 50)
        Step(action: .unreserve(50), ok: true, used: 40, available: 60),   // 4 reservation returned
        Step(action: .reserve(60), ok: true, used: 40, available: 0),      // 5 exactly full
        Step(action: .reserve(1), ok: false, used: 40, available: 0),      // 6 nothing left
        Step(action: .reserve(0), ok: true, used: 40, available: 0),       // 7 overwrite needs nothing
        Step(action: .account(-20), ok: true, used: 20, available: 20),    // 8 unlink frees
        Step(action: .unreserve(60), ok: true, used: 20, available: 80),   // 9
    ]

    @Test func reservationTable() throws {
        let (v, memory) = try volume(capacity: 100, used: 10)
        defer { withExtendedLifetime(memory) {} }
        for (i, step) in Self.steps.enumerated() {
            var ok = true
            switch step.action {
            case .reserve(let n): ok = v.reserve(n)
            case .unreserve(let n): v.unreserve(n)
            case .account(let n): v.account(n)
            }
            #expect(ok == step.ok, "case \(i + 1)")
            #expect(v.usage.usedBytes == step.used, "case \(i + 1) used")
            #expect(v.available == step.available, "case \(i + 1) available")
        }
    }

    @Test func unallocatedCountsHolesOnly() throws {
        let dir = try makeTempDir("alloc")
        defer { removeTree(dir) }
        let fd = open(dir + "/f", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let block = [UInt8](repeating: 1, count: 4096)
        #expect(pwrite(fd, block, 4096, 0) == 4096)
        #expect(pwrite(fd, block, 4096, 8192) == 4096)
        fsync(fd)
        // [0, 16 KiB): blocks 0 and 2 allocated, 1 and 3 holes.
        #expect(Passthrough.unallocated(fd: fd, offset: 0, length: 16384) == 8192)
        #expect(Passthrough.unallocated(fd: fd, offset: 0, length: 4096) == 0)
        #expect(Passthrough.unallocated(fd: fd, offset: 100, length: 10) == 0)
        #expect(Passthrough.unallocated(fd: fd, offset: 4096, length: 1) == 4096)
        #expect(Passthrough.unallocated(fd: fd, offset: 1 << 20, length: 8192) == 8192)  // past EOF
        // Preallocated (unwritten) extents count as allocated.
        #expect(posix_fallocate(fd, 65536, 65536) == 0)
        #expect(Passthrough.unallocated(fd: fd, offset: 65536, length: 65536) == 0)
    }

    @Test func scanCountsLikeDu() throws {
        let dir = try makeTempDir("scan")
        defer { removeTree(dir) }
        try writeFile(dir + "/a", String(repeating: "a", count: 5000))
        link(dir + "/a", dir + "/a2")
        mkdir(dir + "/d", 0o755)
        symlink("a", dir + "/d/s")
        let fd = open(dir + "/d/sparse", O_WRONLY | O_CREAT, 0o644)
        _ = pwrite(fd, "x", 1, 50 << 20)
        fsync(fd)
        close(fd)
        let root = open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(root) }
        let totals = try UsageScanner.scan(rootFD: root)
        let du = try duUsage(dir)
        #expect(totals.bytes == du.bytes)
        #expect(totals.files == du.files)
    }
}
