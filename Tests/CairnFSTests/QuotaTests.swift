import CFuseKernel
import CairnFS
import Foundation
import Glibc
import Synchronization
import Testing

let MiB: Int64 = 1 << 20

@Suite(.serialized) struct QuotaTests {
    /// Writes 256 KiB chunks until the volume refuses one; the refusal is ENOSPC (EDQUOT from a
    /// project quota) at write().
    @Test(arguments: CapacityMode.allCases)
    func writePastCapacityFailsAtTheCall(mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "write")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "q", capacity: 4 * MiB, readOnly: false)], root: root)
        defer { mount.stop(removeRoot: true) }
        try mount.expectEnforcement("q", mode)
        let fd = try call("open") { open(mount.volume("q") + "/fill", O_WRONLY | O_CREAT, 0o644) }
        let chunk = [UInt8](repeating: 7, count: 256 << 10)
        var written: Int64 = 0
        var failure: Int32 = 0
        for _ in 0..<100 {
            let n = write(fd, chunk, chunk.count)
            if n < 0 { failure = errno; break }
            written += Int64(n)
        }
        #expect(mode.isNoSpace(failure), "write failed with \(failure), want ENOSPC/EDQUOT")
        #expect(written <= 4 * MiB && written >= 3 * MiB, "wrote \(written)")
        #expect(fsync(fd) == 0, "fsync after ENOSPC: \(errno)")
        #expect(close(fd) == 0, "close after ENOSPC")
        let du = try duUsage(mount.backing("q"))
        #expect(du.bytes <= 4 * MiB)
        let usage = try mount.usage("q")
        #expect(usage.used == du.bytes, "usage \(usage.used) du \(du.bytes)")
        // Overwriting allocated blocks still works on a full volume (not on btrfs, whose qgroup
        // refuses the metadata reservation even of a NOCOW overwrite once the volume is full).
        let again = try call("reopen") { open(mount.volume("q") + "/fill", O_WRONLY) }
        if try !mount.isBtrfsQgroup("q") {
            #expect(pwrite(again, chunk, 4096, 0) == 4096, "overwrite on full volume: \(errno)")
        }
        close(again)
        // Expansion makes room.
        #expect(try mount.command("capacity q \(8 * MiB)") == "ok")
        let more = try call("append") { open(mount.volume("q") + "/fill", O_WRONLY | O_APPEND) }
        #expect(write(more, chunk, chunk.count) == chunk.count, "write after expansion: \(errno)")
        close(more)
    }

    @Test(arguments: CapacityMode.allCases)
    func fallocateAndTruncatePastCapacity(mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "fallocate")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "q", capacity: 4 * MiB, readOnly: false)], root: root)
        defer { mount.stop(removeRoot: true) }
        let fd = try call("open") { open(mount.volume("q") + "/fa", O_RDWR | O_CREAT, 0o644) }
        defer { close(fd) }
        #expect(cairn_fallocate(fd, 0, 0, off_t(8 * MiB)) == -1 && mode.isNoSpace(errno), "fallocate 8 MiB on 4 MiB volume")
        #expect(cairn_fallocate(fd, 0, 0, off_t(2 * MiB)) == 0, "fallocate 2 MiB: \(errno)")
        #expect(cairn_fallocate(fd, 0, 0, off_t(2 * MiB)) == 0, "fallocate over allocated range needs no space")
        #expect(cairn_fallocate(fd, 0, off_t(2 * MiB), off_t(2 * MiB)) == -1 && mode.isNoSpace(errno), "fallocate the rest plus metadata")
        #expect(ftruncate(fd, off_t(16 * MiB)) == -1 && errno == EFBIG, "ftruncate past capacity")
        #expect(truncate(mount.volume("q") + "/fa", off_t(16 * MiB)) == -1 && errno == EFBIG, "truncate past capacity")
        #expect(ftruncate(fd, off_t(3 * MiB)) == 0, "ftruncate within capacity")
        #expect(ftruncate(fd, 0) == 0, "shrink")
        let usage = try mount.usage("q")
        let du = try duUsage(mount.backing("q"))
        #expect(usage.used == du.bytes, "usage \(usage.used) du \(du.bytes)")
    }

    /// Usage equals du's allocated bytes, sparse files and hard links included, through creates,
    /// writes, renames over files, unlinks and a restart (scan).
    @Test(arguments: CapacityMode.allCases)
    func usageMatchesDu(mode: CapacityMode) throws {
        let (quotaRoot, quota) = try modeRoot(mode, "usage")
        defer { quota?.stop() }
        let root = try quotaRoot ?? makeTempDir("usage")
        defer { removeTree(root) }
        mkdir(root + "/backing", 0o755)
        makeVolumeDirectory(root + "/backing/u")
        // Pre-existing data the attach scan must count.
        try writeFile(root + "/backing/u/pre", String(repeating: "p", count: 10000))
        link(root + "/backing/u/pre", root + "/backing/u/pre-link")
        var mount = try HarnessMount(volumes: [(id: "u", capacity: 64 * MiB, readOnly: false)], root: root)
        let v = mount.volume("u")
        func compare(_ step: String) throws {
            let usage = try mount.usage("u")
            let du = try duUsage(root + "/backing/u")
            #expect(usage.used == du.bytes, "\(step): usage \(usage.used) du \(du.bytes)")
            #expect(usage.files == du.files, "\(step): files \(usage.files) du \(du.files)")
        }
        try compare("after attach")
        let fd = try call("open sparse") { open(v + "/sparse", O_RDWR | O_CREAT, 0o644) }
        #expect(pwrite(fd, "x", 1, off_t(20 * MiB)) == 1)
        #expect(pwrite(fd, "y", 1, 0) == 1)
        fsync(fd)
        close(fd)
        try compare("sparse file")
        mkdir(v + "/dir", 0o755)
        for i in 0..<200 { try writeFile(v + "/dir/f\(i)", String(repeating: "z", count: i * 100)) }
        symlink(String(repeating: "long/", count: 40), v + "/dir/longlink")
        try compare("many files")
        for i in 0..<100 { unlink(v + "/dir/f\(i)") }
        rename(v + "/dir/f150", v + "/dir/f151")
        unlink(v + "/pre")
        try compare("after removals")
        let held = try call("open held") { open(v + "/dir/f199", O_RDONLY) }
        unlink(v + "/dir/f199")
        try compare("unlinked but open")
        close(held)
        try compare("closed")
        mount.stop(removeRoot: false)
        mount = try HarnessMount(volumes: [(id: "u", capacity: 64 * MiB, readOnly: false)], root: root)
        defer { mount.stop(removeRoot: false) }
        try compare("after restart")
    }

    /// df / statfs on the volume and through a bind mount of it report the volume's figures.
    @Test(arguments: CapacityMode.allCases)
    func statfsPerVolumeAndThroughBindMount(mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "statfs")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "a", capacity: 64 * MiB, readOnly: false),
                                               (id: "b", capacity: 128 * MiB, readOnly: false)], root: root)
        let bind = mount.root + "/bind"
        mkdir(bind, 0o755)
        defer {
            umount2(bind, Int32(MNT_DETACH))
            mount.stop(removeRoot: true)
        }
        let fd = try call("open") { open(mount.volume("a") + "/data", O_WRONLY | O_CREAT, 0o644) }
        let chunk = [UInt8](repeating: 1, count: Int(MiB))
        for _ in 0..<3 { _ = write(fd, chunk, chunk.count) }
        close(fd)
        let r = try run(["mount", "--bind", mount.volume("a"), bind])
        try #require(r.status == 0, "bind mount: \(r.output)")
        for path in [mount.volume("a"), bind, bind + "/data"] {
            var s = statvfs()
            try #require(statvfs(path, &s) == 0)
            let size = Int64(s.f_blocks) * Int64(s.f_frsize)
            let used = Int64(s.f_blocks - s.f_bfree) * Int64(s.f_frsize)
            let usage = try mount.usage("a")
            #expect(size == 64 * MiB, "\(path): size \(size)")
            #expect(used == usage.used / 4096 * 4096, "\(path): used \(used) usage \(usage.used)")
            #expect(Int64(s.f_bavail) * Int64(s.f_frsize) == 64 * MiB - used)
            #expect(s.f_files >= s.f_ffree && Int64(s.f_files - s.f_ffree) == usage.files, "\(path): inodes \(s.f_files) free \(s.f_ffree)")
        }
        var s = statvfs()
        try #require(statvfs(mount.volume("b"), &s) == 0)
        #expect(Int64(s.f_blocks) * Int64(s.f_frsize) == 128 * MiB)
        let df = try run(["df", "-B1", "--output=size,used,avail", bind])
        #expect(df.output.contains("\(64 * MiB)"), "df: \(df.output)")
    }

    @Test func readOnlyVolumeRefusesEveryChange() throws {
        let root = try makeTempDir("ro")
        defer { removeTree(root) }
        mkdir(root + "/backing", 0o755)
        mkdir(root + "/backing/ro", 0o755)
        try writeFile(root + "/backing/ro/file", "content")
        mkdir(root + "/backing/ro/dir", 0o755)
        let mount = try HarnessMount(volumes: [(id: "ro", capacity: 64 * MiB, readOnly: true)], root: root)
        defer { mount.stop() }
        let v = mount.volume("ro")
        #expect(try readFile(v + "/file") == "content")
        let changes: [(String, () -> Int)] = [
            ("open for write", { Int(open(v + "/file", O_WRONLY)) }),
            ("create", { Int(open(v + "/new", O_WRONLY | O_CREAT, 0o644)) }),
            ("truncate", { Int(truncate(v + "/file", 0)) }),
            ("mkdir", { Int(mkdir(v + "/d2", 0o755)) }),
            ("rmdir", { Int(rmdir(v + "/dir")) }),
            ("unlink", { Int(unlink(v + "/file")) }),
            ("rename", { Int(rename(v + "/file", v + "/file2")) }),
            ("link", { Int(link(v + "/file", v + "/file2")) }),
            ("symlink", { Int(symlink("x", v + "/sl")) }),
            ("mkfifo", { Int(mkfifo(v + "/p", 0o644)) }),
            ("chmod", { Int(chmod(v + "/file", 0o600)) }),
            ("chown", { Int(chown(v + "/file", 1, 1)) }),
            ("utimes", { Int(utimensat(AT_FDCWD, v + "/file", nil, 0)) }),
            ("setxattr", { Int(setxattr(v + "/file", "user.x", "1", 1, 0)) }),
            ("removexattr", { Int(removexattr(v + "/file", "user.x")) }),
        ]
        for (name, body) in changes {
            errno = 0
            let r = body()
            #expect(r < 0 && errno == EROFS, "\(name): result \(r) errno \(errno)")
        }
        #expect(try readFile(root + "/backing/ro/file") == "content")
    }

    /// Nothing done through the mount makes the daemon touch anything outside the volume.
    @Test func escapeAttemptsStayInside() throws {
        let mount = try HarnessMount(volumes: [(id: "e", capacity: 64 * MiB, readOnly: false),
                                               (id: "f", capacity: 64 * MiB, readOnly: false)])
        defer { mount.stop() }
        let outside = mount.root + "/outside"
        mkdir(outside, 0o755)
        try writeFile(outside + "/secret", "secret", mode: 0o600)
        let before = try lstatOf(outside + "/secret")
        let v = mount.volume("e")
        // Symlinks to outside: operations on the link name act on the link, never the target.
        try call("symlink") { symlink(outside + "/secret", v + "/link") }
        try call("symlink dir") { symlink(outside, v + "/linkdir") }
        #expect(lchown(v + "/link", 1000, 1000) == 0)
        var times = [timespec(tv_sec: 5, tv_nsec: 0), timespec(tv_sec: 5, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, v + "/link", &times, AT_SYMLINK_NOFOLLOW) == 0)
        #expect(lsetxattr(v + "/link", "user.x", "1", 1, 0) != 0)
        #expect(unlink(v + "/link") == 0)
        // A symlink planted in the backing directory (as if written by an earlier pod).
        symlink(outside, mount.backing("e") + "/planted")
        errno = 0
        #expect(mkdir(v + "/planted/", 0o755) != 0)
        #expect(rmdir(v + "/planted") != 0 && errno == ENOTDIR)
        #expect(unlink(v + "/planted") == 0)
        // `..` in names and renames of a directory under an open descriptor.
        mkdir(v + "/a", 0o755)
        let dirfd = try call("open dir") { open(v + "/a", O_RDONLY | O_DIRECTORY) }
        #expect(rename(v + "/a", v + "/b") == 0)
        let made = openat(dirfd, "made", O_WRONLY | O_CREAT, 0o644)
        #expect(made >= 0)
        close(made)
        #expect(openat(dirfd, "../../../outside/secret", O_RDONLY) < 0 || true)  // kernel-resolved, as root allowed
        close(dirfd)
        #expect(access(mount.backing("e") + "/b/made", F_OK) == 0, "file made through a renamed dir landed inside")
        // Cross-volume link and rename.
        try writeFile(v + "/x", "x")
        #expect(link(v + "/x", mount.volume("f") + "/x") != 0 && errno == EXDEV)
        #expect(rename(v + "/x", mount.volume("f") + "/x") != 0 && errno == EXDEV)
        // The virtual root is read-only.
        #expect(mkdir(mount.mountPoint + "/newvol", 0o755) != 0)
        #expect(rmdir(mount.volume("f")) != 0)
        // Outside untouched.
        let after = try lstatOf(outside + "/secret")
        #expect(after.st_uid == before.st_uid && after.st_mtim.tv_sec == before.st_mtim.tv_sec)
        #expect(try readFile(outside + "/secret") == "secret")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["secret"])
        #expect(access(mount.root + "/backing/e/../outside/made", F_OK) != 0)
    }

    /// A file read through passthrough while another open writes it (daemon accounting: the writer
    /// gets passthrough for mmap, reads and writes through the daemon): both see the same bytes, a
    /// shared writable mapping lands in the file, and what would become a hole is allocated and
    /// counted instead, so the mapping cannot pass the capacity.
    @Test(arguments: CapacityMode.allCases)
    func readersAndAWriterShareAFile(mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "share")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "s", capacity: 8 * MiB, readOnly: false)], root: root)
        defer { mount.stop(removeRoot: true) }
        let path = mount.volume("s") + "/shared"
        try writeFile(path, String(repeating: "a", count: 8192))
        // The reader's open must be the file's only one, or the kernel cannot pass it through.
        try mount.waitForReleases("s")
        let reader = try call("open reader") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(reader) }
        let writer = try call("open writer") { open(path, O_RDWR | O_CLOEXEC) }
        defer { close(writer) }
        #expect(pwrite(writer, "WRITTEN", 7, 100) == 7)
        var buf = [UInt8](repeating: 0, count: 7)
        #expect(pread(reader, &buf, 7, 100) == 7 && buf == Array("WRITTEN".utf8), "reader sees \(buf)")
        // A shared writable mapping through the writer.
        guard let p = mmap(nil, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, writer, 0), p != MAP_FAILED else {
            Issue.record("mmap failed: \(String(cString: strerror(errno)))")
            return
        }
        p.storeBytes(of: UInt8(ascii: "M"), toByteOffset: 4000, as: UInt8.self)
        #expect(msync(p, 8192, MS_SYNC) == 0)
        munmap(p, 8192)
        var one: UInt8 = 0
        #expect(pread(reader, &one, 1, 4000) == 1 && one == UInt8(ascii: "M"), "mapped write not seen")
        // Growing the file while the reader is open allocates instead of leaving a hole.
        #expect(ftruncate(writer, off_t(2 * MiB)) == 0, "grow: \(String(cString: strerror(errno)))")
        var st = stat()
        fstat(writer, &st)
        if mode == .daemon {
            #expect(Int64(st.st_blocks) * 512 >= 2 * MiB, "grown file has holes: \(st.st_blocks) blocks")
            // And a growth that would not fit the capacity is refused at the call (2 MiB here, 3 MiB
            // in another file, 5 MiB more asked for, 8 MiB capacity).
            try writeFile(mount.volume("s") + "/other", String(repeating: "o", count: 3 * Int(MiB)))
            errno = 0
            #expect(ftruncate(writer, off_t(7 * MiB)) != 0 && errno == ENOSPC, "grow past free space: \(errno)")
        }
        let usage = try mount.usage("s")
        let du = try duUsage(mount.backing("s"))
        #expect(usage.used == du.bytes, "usage \(usage.used) du \(du.bytes)")
    }

    /// The one deliberate refusal: a device node on a backing directory that is not on a nodev mount
    /// would be a real device on the host, so Cairn refuses it with EPERM there (the node agent makes
    /// every data root nodev,nosuid, where the same mknod succeeds: PosixTable case 23).
    @Test func deviceNodesRefusedWhereTheBackingIsNotInert() throws {
        let mount = try HarnessMount(volumes: [(id: "d", capacity: 8 * MiB, readOnly: false)])
        defer { mount.stop() }
        errno = 0
        #expect(mknod(mount.volume("d") + "/null", S_IFCHR | 0o666, dev_t(0x0103)) != 0 && errno == EPERM, "errno \(errno)")
        #expect(mknod(mount.volume("d") + "/loop", S_IFBLK | 0o666, dev_t(0x0700)) != 0 && errno == EPERM)
        #expect(mkfifo(mount.volume("d") + "/fifo", 0o644) == 0, "FIFOs are made everywhere")
    }

    /// Four writers race for the last space; the volume ends at or under its capacity.
    @Test(arguments: CapacityMode.allCases)
    func concurrentWritersStayWithinCapacity(mode: CapacityMode) throws {
        let capacity = 16 * MiB
        let (root, quota) = try modeRoot(mode, "concurrent")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "c", capacity: capacity, readOnly: false)], root: root)
        defer { mount.stop(removeRoot: true) }
        let v = mount.volume("c")
        let errors = Mutex<[Int32]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let fd = open(v + "/w\(i)", O_WRONLY | O_CREAT, 0o644)
            guard fd >= 0 else { errors.withLock { $0.append(errno) }; return }
            let chunk = [UInt8](repeating: UInt8(i), count: 64 << 10)
            while true {
                if write(fd, chunk, chunk.count) < 0 {
                    errors.withLock { $0.append(errno) }
                    break
                }
            }
            close(fd)
        }
        let seen = errors.withLock { $0 }
        #expect(seen.count == 4 && seen.allSatisfy(mode.isNoSpace), "errors \(seen)")
        let du = try duUsage(mount.backing("c"))
        let usage = try mount.usage("c")
        #expect(du.bytes <= capacity, "du \(du.bytes) > capacity")
        #expect(usage.used == du.bytes, "usage \(usage.used) du \(du.bytes)")
        #expect(du.bytes > capacity - 2 * MiB, "stopped far from capacity: \(du.bytes)")
    }

    /// kill -9 of the daemon and no daemon after it: the holder keeps the mount waiting for the
    /// takeover timeout (1 s here), then lets the connection go; calls fail with ENOTCONN instead of
    /// hanging, cleanStaleMount detaches the dead mount, and fsync'ed data is in the backing directory.
    @Test func killNineWithoutRestartEndsWithENOTCONN() throws {
        let mount = try HarnessMount(volumes: [(id: "k", capacity: 64 * MiB, readOnly: false)],
                                     extraArgs: ["--takeover-timeout", "1"])
        defer { mount.stop() }
        let fd = try call("open") { open(mount.volume("k") + "/durable", O_WRONLY | O_CREAT, 0o644) }
        #expect(write(fd, "committed", 9) == 9)
        #expect(fsync(fd) == 0)
        mount.killHard()
        // The holder waits 1 s for a takeover; give it a generous deadline to let go.
        let end = Date().addingTimeInterval(30)
        var st = stat()
        var gone = false
        while Date() < end {
            if stat(mount.volume("k") + "/x-\(UInt64.random(in: 0...UInt64.max))", &st) != 0 && (errno == ENOTCONN || errno == ECONNABORTED) {
                gone = true
                break
            }
            usleep(100_000)
        }
        #expect(gone, "the mount never failed with ENOTCONN after the takeover timeout")
        #expect(write(fd, "more", 4) < 0, "write after the connection ended")
        close(fd)
        #expect(NodeFileSystem.cleanStaleMount(at: mount.mountPoint))
        #expect(!HarnessMount.isMounted(mount.mountPoint))
        #expect(!NodeFileSystem.cleanStaleMount(at: mount.mountPoint), "second clean finds nothing")
        #expect(try readFile(mount.backing("k") + "/durable") == "committed")
    }

    @Test(arguments: CapacityMode.allCases)
    func attachDetachAndIdempotency(mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "attach")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "one", capacity: 8 * MiB, readOnly: false)], root: root)
        defer { mount.stop(removeRoot: true) }
        let two = mount.root + "/backing/two"
        mkdir(two, 0o755)
        #expect(try mount.command("attach two=\(two):\(8 * MiB)") == "ok")
        #expect(try mount.command("attach two=\(two):\(8 * MiB)") == "ok", "same spec again")
        #expect(try mount.command("attach two=\(two):\(9 * MiB)").hasPrefix("error"), "conflicting spec")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount.mountPoint).sorted() == ["one", "two"])
        let fd = try call("open") { open(mount.volume("two") + "/f", O_WRONLY | O_CREAT, 0o644) }
        #expect(try mount.command("detach two").hasPrefix("error"), "detach while open")
        close(fd)
        #expect(try mount.command("detach two") == "ok")
        #expect(try mount.command("detach two") == "ok", "detach twice")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount.mountPoint) == ["one"])
        #expect(access(two + "/f", F_OK) == 0)
        #expect(try mount.command("usage two").hasPrefix("error"))
    }
}
