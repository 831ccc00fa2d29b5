import CairnNode
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A command run for `kubectl exec` in `cairn exec`'s sandbox (`cairn exec-sandbox`, a fresh
/// single-threaded process that unshares its mount namespace and puts the pod's volumes at their
/// mountPaths): its stdin, stdout and stderr are pipes, or with a terminal one pseudo-terminal whose
/// slave becomes the command's controlling terminal. The daemon only moves bytes.
final class ExecProcess: Sendable {
    enum Stream: Sendable { case stdout, stderr }

    let pid: pid_t
    /// Where the command's input goes (the pty master with a terminal); -1 once closed.
    private let input: Mutex<Int32>
    private let tty: Int32?
    /// Output in the order it was read, per stream; finishes when every output descriptor is at EOF.
    let output: AsyncStream<(Stream, [UInt8])>

    struct StartError: Error, CustomStringConvertible { var description: String }

    /// glibc's GNU-only spawn extensions, which Swift's Glibc module (imported without _GNU_SOURCE)
    /// does not declare: POSIX_SPAWN_SETSID, and posix_spawn_file_actions_addclosefrom_np looked up
    /// at run time (glibc 2.34+).
    static let spawnSetSID: Int32 = 0x80
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    // asm-generic/ioctls.h: the pty master's unlock and slave-number requests.
    static let TIOCSPTLCK: UInt = 0x4004_5431
    static let TIOCGPTN: UInt = 0x8004_5430

    /// pipe2(O_CLOEXEC) without the GNU declaration: the spawn's closefrom covers the moment between.
    static func pipeCloseOnExec(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Counts the output descriptors still open.
    final class Countdown: Sendable {
        let left: Mutex<Int>
        init(_ n: Int) { left = Mutex(n) }
        /// True for the last one.
        func tick() -> Bool { left.withLock { $0 -= 1; return $0 == 0 } }
    }

    /// Starts `argv` (argv[0] an absolute path). With `tty`, stdout and stderr are the terminal.
    init(argv: [String], tty: Bool, stdin wantsInput: Bool) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)

        var readers: [(Int32, Stream)] = []
        var closeInParent: [Int32] = []
        var inputFD: Int32 = -1
        if tty {
            let slavePath: String
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            // unlockpt and ptsname, as glibc does them on Linux (devpts needs no grantpt).
            guard master >= 0, ioctl(master, Self.TIOCSPTLCK, &unlock) == 0, ioctl(master, Self.TIOCGPTN, &number) == 0 else {
                let why = String(cString: strerror(errno))
                if master >= 0 { close(master) }
                throw StartError(description: "cannot allocate a pseudo-terminal: \(why)")
            }
            slavePath = "/dev/pts/\(number)"
            // A new session whose first terminal opened is the slave: it becomes the controlling tty.
            posix_spawnattr_setflags(&attributes, Int16(Self.spawnSetSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
            inputFD = master
            readers = [(master, .stdout)]
            self.tty = master
        } else {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            posix_spawnattr_setpgroup(&attributes, 0)
            var fds: [Int32] = [-1, -1]
            if wantsInput {
                guard Self.pipeCloseOnExec(&fds) else { throw StartError(description: "pipe: \(String(cString: strerror(errno)))") }
                posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
                inputFD = fds[1]
                closeInParent.append(fds[0])
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            for (target, stream) in [(Int32(1), Stream.stdout), (Int32(2), Stream.stderr)] {
                guard Self.pipeCloseOnExec(&fds) else { throw StartError(description: "pipe: \(String(cString: strerror(errno)))") }
                posix_spawn_file_actions_adddup2(&actions, fds[1], target)
                readers.append((fds[0], stream))
                closeInParent.append(fds[1])
            }
            self.tty = nil
        }
        // Nothing else of the daemon's reaches the command.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var child: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        let rc = posix_spawn(&child, argv[0], &actions, &attributes, cargs, environ)
        for fd in closeInParent { close(fd) }
        guard rc == 0 else {
            for (fd, _) in readers { close(fd) }
            if inputFD >= 0 && tty == false { close(inputFD) }
            throw StartError(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        pid = child
        input = Mutex(inputFD)
        let (stream, continuation) = AsyncStream<(Stream, [UInt8])>.makeStream()
        output = stream
        let remaining = Countdown(readers.count)
        for (fd, kind) in readers {
            // One thread per descriptor: a blocking read that ends at EOF (EIO for a pty whose slave
            // every process closed).
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: 32 * 1024)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n > 0 { continuation.yield((kind, Array(buffer[0..<n]))); continue }
                    if n < 0 && errno == EINTR { continue }
                    break
                }
                if !tty { close(fd) }
                if remaining.tick() { continuation.finish() }
            }
            thread.start()
        }
    }

    /// Writes the client's input; false when the command no longer reads it.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        input.withLock { fd in
            guard fd >= 0 else { return false }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// End of input: the pipe is closed; a terminal gets its EOF character (^D), as a user types it.
    func closeInput() {
        if tty != nil { write([4]); return }
        input.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    func resize(width: UInt16, height: UInt16) {
        guard let tty else { return }
        var size = winsize(ws_row: height, ws_col: width, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(tty, UInt(TIOCSWINSZ), &size)
    }

    /// Ends the command and everything it started (its process group or session).
    func kill() {
        Glibc.kill(-pid, SIGKILL)
        Glibc.kill(pid, SIGKILL)
    }

    /// The exit code, once the command has ended: its status, or 128 + the signal that killed it,
    /// as a shell reports it. Waits on a thread of its own.
    func waitForExit() async -> Int32 {
        let pid = self.pid
        let code = await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let thread = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let signal = status & 0x7f
                c.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
            thread.start()
        }
        input.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
        return code
    }
}
