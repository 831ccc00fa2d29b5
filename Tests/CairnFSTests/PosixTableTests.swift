import CFuseKernel
import Foundation
import Glibc
import Testing

/// One POSIX behaviour, checked against a plain directory first (the kernel's own answer) and
/// then against a Cairn volume. Cases take the directory to work in and throw on a difference.
struct PosixCase: Sendable, CustomStringConvertible {
    let name: String
    let body: @Sendable (String) throws -> Void
    var description: String { name }
}

let posixCases: [PosixCase] = [
    // 1
    PosixCase(name: "create, write, read") { dir in
        try writeFile(dir + "/a", "hello world")
        try check(try readFile(dir + "/a") == "hello world", "content differs")
        let st = try lstatOf(dir + "/a")
        try check(st.st_size == 11 && st.st_mode & S_IFMT == S_IFREG, "size \(st.st_size)")
        let fd = try call("pwrite open") { open(dir + "/a", O_RDWR) }
        defer { close(fd) }
        try check(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite")
        var buf = [UInt8](repeating: 0, count: 11)
        try check(pread(fd, &buf, 11, 0) == 11, "pread")
        try check(String(decoding: buf, as: UTF8.self) == "HELLO world", "pread content")
    },
    // 2
    PosixCase(name: "O_APPEND") { dir in
        try writeFile(dir + "/log", "one\n")
        let fd = try call("open append") { open(dir + "/log", O_WRONLY | O_APPEND) }
        try check(write(fd, "two\n", 4) == 4, "append write")
        try check(pwrite(fd, "three\n", 6, 0) == 6, "pwrite with O_APPEND")  // Linux appends
        close(fd)
        let log = try readFile(dir + "/log")
        try check(log == "one\ntwo\nthree\n", "append content: \(log)")
    },
    // 3
    PosixCase(name: "truncate and ftruncate") { dir in
        try writeFile(dir + "/t", "0123456789")
        try call("truncate") { truncate(dir + "/t", 4) }
        try check(try readFile(dir + "/t") == "0123", "shrink")
        let fd = try call("open") { open(dir + "/t", O_RDWR) }
        try call("ftruncate") { ftruncate(fd, 8) }
        close(fd)
        let st = try lstatOf(dir + "/t")
        try check(st.st_size == 8, "grow size \(st.st_size)")
        try check(Array(try readFile(dir + "/t").utf8) == Array("0123".utf8) + [0, 0, 0, 0], "grow zeros")
        try writeFile(dir + "/t", "x")  // O_TRUNC
        try check(try readFile(dir + "/t") == "x", "O_TRUNC")
    },
    // 4
    PosixCase(name: "chmod, chown, utimens") { dir in
        try writeFile(dir + "/m", "x")
        try call("chmod") { chmod(dir + "/m", 0o640) }
        try check(try lstatOf(dir + "/m").st_mode & 0o7777 == 0o640, "mode")
        try call("chown") { chown(dir + "/m", 1234, 5678) }
        var st = try lstatOf(dir + "/m")
        try check(st.st_uid == 1234 && st.st_gid == 5678, "owner \(st.st_uid):\(st.st_gid)")
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 5), timespec(tv_sec: 2_000_000, tv_nsec: 7)]
        try call("utimensat") { utimensat(AT_FDCWD, dir + "/m", &times, 0) }
        st = try lstatOf(dir + "/m")
        try check(st.st_atim.tv_sec == 1_000_000 && st.st_mtim.tv_sec == 2_000_000 && st.st_mtim.tv_nsec == 7,
                  "times \(st.st_atim.tv_sec) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
        try call("symlink") { symlink("m", dir + "/ml") }
        try call("lchown") { lchown(dir + "/ml", 42, 43) }
        st = try lstatOf(dir + "/ml")
        try check(st.st_uid == 42 && st.st_gid == 43, "lchown on symlink")
        try check(try lstatOf(dir + "/m").st_uid == 1234, "lchown followed the symlink")
    },
    // 5
    PosixCase(name: "mkdir, rmdir, readdir") { dir in
        try call("mkdir") { mkdir(dir + "/d", 0o755) }
        for i in 0..<300 { try writeFile(dir + "/d/f\(i)", "\(i)") }
        try call("mkdir sub") { mkdir(dir + "/d/sub", 0o700) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/d").sorted()
        try check(names == ((0..<300).map { "f\($0)" } + ["sub"]).sorted(), "listing has \(names.count) names")
        try expectErrno(ENOTEMPTY, "rmdir non-empty") { Int(rmdir(dir + "/d")) }
        try expectErrno(EEXIST, "mkdir existing") { Int(mkdir(dir + "/d", 0o755)) }
        try call("rmdir sub") { rmdir(dir + "/d/sub") }
        for i in 0..<300 { try call("unlink") { unlink(dir + "/d/f\(i)") } }
        try call("rmdir") { rmdir(dir + "/d") }
        try expectErrno(ENOENT, "stat removed dir") { var st = stat(); return Int(stat(dir + "/d", &st)) }
    },
    // 6
    PosixCase(name: "rename, RENAME_NOREPLACE, RENAME_EXCHANGE") { dir in
        try writeFile(dir + "/r1", "one")
        try writeFile(dir + "/r2", "two")
        try expectErrno(EEXIST, "renameat2 NOREPLACE") {
            Int(cairn_renameat2(AT_FDCWD, dir + "/r1", AT_FDCWD, dir + "/r2", 1))
        }
        try call("renameat2 EXCHANGE") {
            cairn_renameat2(AT_FDCWD, dir + "/r1", AT_FDCWD, dir + "/r2", 2)
        }
        try check(try readFile(dir + "/r1") == "two" && readFile(dir + "/r2") == "one", "exchange")
        try call("rename over") { rename(dir + "/r1", dir + "/r2") }
        try check(try readFile(dir + "/r2") == "two", "replace")
        try expectErrno(ENOENT, "old name gone") { var st = stat(); return Int(lstat(dir + "/r1", &st)) }
        try call("mkdir") { mkdir(dir + "/rd", 0o755) }
        try call("rename into dir") { rename(dir + "/r2", dir + "/rd/r3") }
        try check(try readFile(dir + "/rd/r3") == "two", "moved")
        try call("rename dir") { rename(dir + "/rd", dir + "/rd2") }
        try check(try readFile(dir + "/rd2/r3") == "two", "dir moved")
    },
    // 7
    PosixCase(name: "link, unlink") { dir in
        try writeFile(dir + "/l1", "data")
        try call("link") { link(dir + "/l1", dir + "/l2") }
        let a = try lstatOf(dir + "/l1"), b = try lstatOf(dir + "/l2")
        try check(a.st_ino == b.st_ino && a.st_nlink == 2 && b.st_nlink == 2, "nlink \(a.st_nlink)")
        try call("unlink") { unlink(dir + "/l1") }
        try check(try lstatOf(dir + "/l2").st_nlink == 1, "nlink after unlink")
        try check(try readFile(dir + "/l2") == "data", "content through link")
        try call("mkdir") { mkdir(dir + "/ld", 0o755) }
        try expectErrno(EPERM, "link a directory") { Int(link(dir + "/ld", dir + "/ld2")) }
    },
    // 8
    PosixCase(name: "symlink, readlink") { dir in
        try call("symlink") { symlink("some/where/../x", dir + "/s") }
        var buf = [CChar](repeating: 0, count: 256)
        let n = try callSize("readlink") { readlink(dir + "/s", &buf, 255) }
        try check(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == "some/where/../x", "target")
        try check(try lstatOf(dir + "/s").st_mode & S_IFMT == S_IFLNK, "type")
        try writeFile(dir + "/target", "t")
        try call("symlink") { symlink("target", dir + "/s2") }
        try check(try readFile(dir + "/s2") == "t", "follow")
    },
    // 9
    PosixCase(name: "FIFO") { dir in
        try call("mkfifo") { mkfifo(dir + "/p", 0o644) }
        try check(try lstatOf(dir + "/p").st_mode & S_IFMT == S_IFIFO, "type")
        let r = try call("open fifo read") { open(dir + "/p", O_RDONLY | O_NONBLOCK) }
        let w = try call("open fifo write") { open(dir + "/p", O_WRONLY | O_NONBLOCK) }
        try check(write(w, "ping", 4) == 4, "fifo write")
        var buf = [UInt8](repeating: 0, count: 4)
        try check(read(r, &buf, 4) == 4 && buf == Array("ping".utf8), "fifo read")
        close(r); close(w)
    },
    // 10
    PosixCase(name: "xattrs") { dir in
        try writeFile(dir + "/x", "x")
        try call("setxattr") { setxattr(dir + "/x", "user.cairn", "value", 5, 0) }
        var buf = [UInt8](repeating: 0, count: 64)
        try check(getxattr(dir + "/x", "user.cairn", nil, 0) == 5, "size query")
        try check(getxattr(dir + "/x", "user.cairn", &buf, 64) == 5 && Array(buf[0..<5]) == Array("value".utf8), "value")
        try expectErrno(EEXIST, "XATTR_CREATE existing") { Int(setxattr(dir + "/x", "user.cairn", "v", 1, Int32(XATTR_CREATE))) }
        var list = [CChar](repeating: 0, count: 256)
        let n = try callSize("listxattr") { listxattr(dir + "/x", &list, 256) }
        let names = list[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        try check(names.contains("user.cairn"), "list \(names)")
        try call("removexattr") { removexattr(dir + "/x", "user.cairn") }
        try expectErrno(ENODATA, "getxattr removed") { getxattr(dir + "/x", "user.cairn", &buf, 64) }
        try call("mkdir") { mkdir(dir + "/xd", 0o755) }
        try call("setxattr dir") { setxattr(dir + "/xd", "user.d", "1", 1, 0) }
    },
    // 11
    PosixCase(name: "flock") { dir in
        try writeFile(dir + "/fl", "x")
        let a = try call("open a") { open(dir + "/fl", O_RDWR) }
        let b = try call("open b") { open(dir + "/fl", O_RDWR) }
        defer { close(a); close(b) }
        try call("flock a") { flock(a, LOCK_EX) }
        try expectErrno(EWOULDBLOCK, "flock b while a holds it") { Int(flock(b, LOCK_EX | LOCK_NB)) }
        try call("flock shared on a") { flock(a, LOCK_UN) }
        try call("flock b") { flock(b, LOCK_EX | LOCK_NB) }
    },
    // 12
    PosixCase(name: "fcntl POSIX and OFD locks") { dir in
        try writeFile(dir + "/pl", "0123456789")
        let a = try call("open a") { open(dir + "/pl", O_RDWR) }
        let b = try call("open b") { open(dir + "/pl", O_RDWR) }
        defer { close(a); close(b) }
        var lk = flock()
        lk.l_type = Int16(F_WRLCK); lk.l_whence = Int16(SEEK_SET); lk.l_start = 0; lk.l_len = 5
        try call("F_SETLK") { fcntl(a, F_SETLK, &lk) }
        // An OFD lock (F_OFD_SETLK = 37) on another open file conflicts with the process's lock.
        var ofd = flock()
        ofd.l_type = Int16(F_WRLCK); ofd.l_whence = Int16(SEEK_SET); ofd.l_start = 2; ofd.l_len = 2
        try expectErrno(EAGAIN, "conflicting OFD lock") { Int(fcntl(b, 37, &ofd)) }
        ofd.l_start = 6
        try call("non-overlapping OFD lock") { fcntl(b, 37, &ofd) }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK); probe.l_whence = Int16(SEEK_SET); probe.l_start = 6; probe.l_len = 1
        try call("F_OFD_GETLK") { fcntl(a, 36, &probe) }
        try check(probe.l_type == Int16(F_WRLCK), "F_OFD_GETLK sees the other lock")
        // Another process sees the POSIX lock.
        let r = try run(["flock", "--nonblock", "--exclusive", dir + "/pl", "true"])
        _ = r  // flock(2) locks do not conflict with fcntl locks on Linux; only must not hang
    },
    // 13
    PosixCase(name: "fallocate") { dir in
        let fd = try call("open") { open(dir + "/fa", O_RDWR | O_CREAT, 0o644) }
        defer { close(fd) }
        try call("fallocate") { posix_fallocate(fd, 0, 1 << 20) == 0 ? 0 : -1 }
        var st = stat()
        fstat(fd, &st)
        try check(st.st_size == 1 << 20 && st.st_blocks * 512 >= 1 << 20, "size \(st.st_size) blocks \(st.st_blocks)")
        try call("punch hole") { cairn_fallocate(fd, 3, 0, 1 << 19) }
        fstat(fd, &st)
        try check(st.st_size == 1 << 20 && st.st_blocks * 512 < 1 << 20, "after punch blocks \(st.st_blocks)")
    },
    // 14
    PosixCase(name: "copy_file_range") { dir in
        let text = String(repeating: "cairn-", count: 20000)
        try writeFile(dir + "/cs", text)
        let i = try call("open in") { open(dir + "/cs", O_RDONLY) }
        let o = try call("open out") { open(dir + "/cd", O_WRONLY | O_CREAT, 0o644) }
        var copied = 0
        while copied < text.utf8.count {
            let n = try callSize("copy_file_range") { cairn_copy_file_range(i, nil, o, nil, text.utf8.count - copied, 0) }
            if n == 0 { break }
            copied += n
        }
        close(i); close(o)
        try check(try readFile(dir + "/cd") == text, "copy differs")
    },
    // 15
    PosixCase(name: "shared writable mmap") { dir in
        let fd = try call("open") { open(dir + "/mm", O_RDWR | O_CREAT, 0o644) }
        try call("ftruncate") { ftruncate(fd, 8192) }
        guard let p = mmap(nil, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            close(fd)
            throw CaseFailure(description: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let bytes = p.assumingMemoryBound(to: UInt8.self)
        for i in 0..<8192 { bytes[i] = UInt8(i % 251) }
        try call("msync") { msync(p, 8192, MS_SYNC) }
        munmap(p, 8192)
        close(fd)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/mm"))
        try check(data.count == 8192 && data.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) }, "mapped writes not in file")
    },
    // 16
    PosixCase(name: "O_DIRECT") { dir in
        let fd = try call("open O_DIRECT") { open(dir + "/od", O_RDWR | O_CREAT | 0o40000, 0o644) }
        defer { close(fd) }
        var raw: UnsafeMutableRawPointer?
        posix_memalign(&raw, 4096, 8192)
        guard let buf = raw else { throw CaseFailure(description: "posix_memalign") }
        defer { free(buf) }
        memset(buf, 0x5a, 8192)
        try check(pwrite(fd, buf, 8192, 0) == 8192, "direct write: \(String(cString: strerror(errno)))")
        memset(buf, 0, 8192)
        try check(pread(fd, buf, 8192, 0) == 8192, "direct read")
        try check(buf.assumingMemoryBound(to: UInt8.self)[8191] == 0x5a, "direct content")
    },
    // 17
    PosixCase(name: "ownership of what a non-root user creates") { dir in
        try call("mkdir") { mkdir(dir + "/own", 0o777) }
        try call("chmod") { chmod(dir + "/own", 0o777) }
        try runAs(uid: 1000, gid: 1000, in: dir + "/own",
                  "umask 022 && echo x > f && mkdir d && ln -s f s && mkfifo p && ln f h")
        for (name, mode) in [("f", 0o644), ("d", 0o755), ("p", 0o644), ("h", 0o644)] as [(String, mode_t)] {
            let st = try lstatOf(dir + "/own/" + name)
            try check(st.st_uid == 1000 && st.st_gid == 1000, "\(name) owner \(st.st_uid):\(st.st_gid)")
            try check(st.st_mode & 0o7777 == mode, "\(name) mode \(String(st.st_mode & 0o7777, radix: 8))")
        }
        let s = try lstatOf(dir + "/own/s")
        try check(s.st_uid == 1000 && s.st_gid == 1000, "symlink owner \(s.st_uid):\(s.st_gid)")
        // The kernel enforces modes: another user cannot write the file.
        let r = try run(["setpriv", "--reuid=1001", "--regid=1001", "--clear-groups", "sh", "-c", "echo y >> f"], cwd: dir + "/own")
        try check(r.status != 0, "uid 1001 wrote a 0644 file of uid 1000")
    },
    // 18
    PosixCase(name: "set-group-ID directories") { dir in
        try call("mkdir") { mkdir(dir + "/sg", 0o777) }
        try call("chown") { chown(dir + "/sg", 0, 4321) }
        try call("chmod") { chmod(dir + "/sg", 0o2777) }
        try runAs(uid: 1000, gid: 1000, in: dir + "/sg", "umask 022 && touch f && mkdir d && mkfifo p")
        let f = try lstatOf(dir + "/sg/f"), d = try lstatOf(dir + "/sg/d"), p = try lstatOf(dir + "/sg/p")
        try check(f.st_uid == 1000 && f.st_gid == 4321, "file owner \(f.st_uid):\(f.st_gid)")
        try check(p.st_gid == 4321, "fifo group \(p.st_gid)")
        try check(d.st_gid == 4321 && d.st_mode & S_ISGID != 0, "dir group \(d.st_gid) mode \(String(d.st_mode, radix: 8))")
        try check(f.st_mode & S_ISGID == 0, "file inherited S_ISGID")
        try runAs(uid: 1000, gid: 1000, in: dir + "/sg/d", "touch g")
        try check(try lstatOf(dir + "/sg/d/g").st_gid == 4321, "grandchild group")
    },
    // 19
    PosixCase(name: "umask applied exactly") { dir in
        try call("mkdir") { mkdir(dir + "/um", 0o777) }
        try call("chmod") { chmod(dir + "/um", 0o777) }
        try runAs(uid: 1000, gid: 1000, in: dir + "/um",
                  "umask 077 && touch a && mkdir b && umask 002 && touch c && mkdir d && umask 0 && mkfifo e")
        let expected: [(String, mode_t)] = [("a", 0o600), ("b", 0o700), ("c", 0o664), ("d", 0o775), ("e", 0o666)]
        for (name, mode) in expected {
            let st = try lstatOf(dir + "/um/" + name)
            try check(st.st_mode & 0o7777 == mode, "\(name) mode \(String(st.st_mode & 0o7777, radix: 8)) want \(String(mode, radix: 8))")
        }
    },
    // 20
    PosixCase(name: "sparse files and SEEK_DATA/SEEK_HOLE") { dir in
        let fd = try call("open") { open(dir + "/sp", O_RDWR | O_CREAT, 0o644) }
        defer { close(fd) }
        try check(pwrite(fd, "end", 3, 8 << 20) == 3, "pwrite far")
        var st = stat()
        fstat(fd, &st)
        try check(st.st_size == (8 << 20) + 3 && st.st_blocks * 512 <= 64 << 10, "sparse blocks \(st.st_blocks)")
        let data = lseek(fd, 0, 3)  // SEEK_DATA
        try check(data >= (8 << 20) - (1 << 20) && data <= 8 << 20, "SEEK_DATA \(data)")
    },
    // 21 (pjdfstest truncate/12, ftruncate/12: a length past the largest file is EFBIG or EINVAL,
    // and the size stays; a Cairn volume's largest file is its capacity)
    PosixCase(name: "truncate past the largest file size") { dir in
        try writeFile(dir + "/big", "x")
        errno = 0
        let r = truncate(dir + "/big", 999_999_999_999_999)
        try check(r == 0 || errno == EFBIG || errno == EINVAL, "truncate: \(String(cString: strerror(errno)))")
        if r != 0 { try check(try lstatOf(dir + "/big").st_size == 1, "size changed after a refused truncate") }
        let fd = try call("open") { open(dir + "/big", O_RDWR) }
        defer { close(fd) }
        errno = 0
        let f = ftruncate(fd, 999_999_999_999_999)
        try check(f == 0 || errno == EFBIG || errno == EINVAL, "ftruncate: \(String(cString: strerror(errno)))")
    },
    // 22 (pjdfstest chmod/12: a write by someone without CAP_FSETID clears set-user-ID and, with
    // group execute, set-group-ID; through passthrough too)
    PosixCase(name: "a non-owner's write clears set-user-ID and set-group-ID") { dir in
        try call("mkdir") { mkdir(dir + "/sx", 0o777) }
        try call("chmod") { chmod(dir + "/sx", 0o777) }
        for mode in [0o4777, 0o2777, 0o6777] as [mode_t] {
            let path = dir + "/sx/f\(String(mode, radix: 8))"
            try writeFile(path, "")
            try call("chmod") { chmod(path, mode) }
            try runAs(uid: 65534, gid: 65534, in: dir + "/sx", "printf x >> f\(String(mode, radix: 8))")
            let st = try lstatOf(path)
            try check(st.st_mode & 0o7777 == 0o777, "mode \(String(mode, radix: 8)) after the write: \(String(st.st_mode & 0o7777, radix: 8))")
        }
    },
    // 23 (pjdfstest mknod: block and character devices are made; Cairn makes them only where the
    // backing is nodev, where they open nothing on the host either)
    PosixCase(name: "block and character device nodes") { dir in
        for (name, type) in [("c", S_IFCHR), ("b", S_IFBLK)] as [(String, mode_t)] {
            let path = dir + "/dev-" + name
            try call("mknod \(name)") { mknod(path, type | 0o644, dev_t(0x1234_5678 & 0xfff_ffff)) }
            let st = try lstatOf(path)
            try check(st.st_mode & S_IFMT == type && st.st_rdev == dev_t(0x1234_5678 & 0xfff_ffff),
                      "\(name): mode \(String(st.st_mode, radix: 8)) rdev \(String(st.st_rdev, radix: 16))")
            try call("unlink") { unlink(path) }
        }
    },
]

@Suite(.serialized) struct PosixTableTests {
    @Test func plainDirectory() throws {
        let dir = try makeTempDir("posix")
        defer { removeTree(dir) }
        try runTable(in: dir, label: "plain")
    }

    @Test(arguments: CapacityMode.allCases)
    func cairnVolume(mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "posix")
        defer { quota?.stop() }
        let mount = try HarnessMount(volumes: [(id: "pvc-posix", capacity: 1 << 30, readOnly: false)], root: root,
                                     inertBacking: true)
        defer { mount.stop(removeRoot: true) }
        try mount.expectEnforcement("pvc-posix", mode)
        chmod(mount.backing("pvc-posix"), 0o755)
        #expect(HarnessMount.isMounted(mount.mountPoint), "not mounted")
        try runTable(in: mount.volume("pvc-posix"), label: "cairn (\(mode))")
    }

    func runTable(in base: String, label: String) throws {
        for (index, c) in posixCases.enumerated() {
            let dir = base + "/case\(index + 1)"
            mkdir(dir, 0o755)
            chmod(dir, 0o755)
            do {
                try c.body(dir)
            } catch {
                Issue.record("\(label) case \(index + 1) (\(c.name)): \(error)")
            }
        }
    }
}
