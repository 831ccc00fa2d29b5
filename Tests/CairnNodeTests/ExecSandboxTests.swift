import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

/// ExecSandbox.run needs a fresh single-threaded process, so these tests run it in one: the dev
/// package's `exec-harness`, found beside the test binary or through CAIRN_EXEC_HARNESS:
///
///     exec-harness [--mount HOST:MOUNTPATH[:ro]]... [--workdir DIR] -- COMMAND [ARGS...]
enum Harness {
    /// The program and leading arguments: the dev harness, or `cairn exec-sandbox` (same arguments).
    static let command: [String]? = {
        if let explicit = ProcessInfo.processInfo.environment["CAIRN_EXEC_HARNESS"] { return [explicit] }
        if let cairn = ProcessInfo.processInfo.environment["CAIRN_BINARY"], FileManager.default.isExecutableFile(atPath: cairn) {
            return [cairn, "exec-sandbox"]
        }
        return path.map { [$0] }
    }()

    static let path: String? = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("exec-harness").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }()

    static func run(_ mounts: [String], workdir: String? = nil, stdin: String? = nil,
                    _ command: String...) throws -> ProcessResult {
        var arguments = mounts.flatMap { ["--mount", $0] }
        if let workdir { arguments += ["--workdir", workdir] }
        let program = Harness.command!
        return try CairnNodeTests.run(program[0], Array(program.dropFirst()) + arguments + ["--"] + command, stdin: stdin)
    }
}

@Suite(.enabled(if: Harness.command != nil, "needs `cairn exec-sandbox` (CAIRN_BINARY) or the dev package's exec-harness"))
struct ExecSandboxTests {
    static func unique(_ prefix: String) -> String { prefix + UUID().uuidString.prefix(8).lowercased() }

    @Test func topLevelMountPathAppearsOnlyInsideTheNamespace() throws {
        try withScratch { s in
            let host = try s.makeDirectory("applog")
            let mountPath = Self.unique("/cairn-applog-")
            let result = try Harness.run(["\(host):\(mountPath)"], "sh", "-c",
                                         "touch \(mountPath)/server.log && ls /proc/self >/dev/null && ls -A /")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(exists(host + "/server.log"))
            #expect(!exists(mountPath))
            // The new root shows the old root's entries, plus the mount path.
            let inside = Set(result.stdout.split(separator: "\n").map(String.init))
            let outside = Set(try FileManager.default.contentsOfDirectory(atPath: "/"))
            #expect(inside == outside.union([String(mountPath.dropFirst())]))
            #expect(!MountTable.mounts().contains { $0.mountPoint.hasPrefix(mountPath) || $0.root.contains("applog") })
        }
    }

    @Test func exitCodeStdinAndWorkingDirectoryPassThrough() throws {
        try withScratch { s in
            let host = try s.makeDirectory("vol")
            let mountPath = Self.unique("/cairn-vol-")
            #expect(try Harness.run(["\(host):\(mountPath)"], "sh", "-c", "exit 7").status == 7)

            let echo = try Harness.run(["\(host):\(mountPath)"], stdin: "hello\nworld\n",
                                       "sh", "-c", "cat > \(mountPath)/in.txt && cat \(mountPath)/in.txt")
            #expect(echo.status == 0)
            #expect(echo.stdout == "hello\nworld\n")
            #expect(try String(contentsOfFile: host + "/in.txt", encoding: .utf8) == "hello\nworld\n")

            #expect(try Harness.run(["\(host):\(mountPath)"], workdir: mountPath, "pwd").stdout == mountPath + "\n")
            // Without --workdir the caller's directory is kept.
            let callerDirectory = FileManager.default.currentDirectoryPath
            #expect(try Harness.run(["\(host):\(mountPath)"], "pwd").stdout == callerDirectory + "\n")
            #expect(!exists(mountPath))
        }
    }

    @Test func readOnlyMountGivesEROFS() throws {
        try withScratch { s in
            let host = try s.makeDirectory("ro")
            try s.write("ro/existing.txt", "keep")
            let mountPath = Self.unique("/cairn-ro-")
            let result = try Harness.run(["\(host):\(mountPath):ro"], "sh", "-c",
                                         "cat \(mountPath)/existing.txt; touch \(mountPath)/new.txt")
            #expect(result.status != 0)
            #expect(result.stdout == "keep")
            #expect(result.stderr.contains("Read-only file system"))
            #expect(!exists(host + "/new.txt"))
        }
    }

    @Test func nestedMountPathLeavesTheExistingAncestorUntouched() throws {
        try withScratch { s in
            let host = try s.makeDirectory("data")
            let missing = Self.unique("cairn-lib-")
            let mountPath = "/var/\(missing)/data"
            let varBefore = try FileManager.default.contentsOfDirectory(atPath: "/var").sorted()
            let result = try Harness.run(["\(host):\(mountPath)"], "sh", "-c",
                                         "touch \(mountPath)/db && ls -A /var && touch /var/stray")
            // The ancestor's other entries are all there, and writing beside the volume fails loudly.
            let listed = result.stdout.split(separator: "\n").map(String.init).sorted()
            #expect(listed == (varBefore + [missing]).sorted())
            #expect(result.stderr.contains("Read-only file system"))
            #expect(exists(host + "/db"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "/var").sorted() == varBefore)
        }
    }

    @Test func twoMountsAtOnce() throws {
        try withScratch { s in
            let logs = try s.makeDirectory("logs")
            let data = try s.makeDirectory("data")
            let base = Self.unique("/cairn-two-")
            let result = try Harness.run(["\(logs):\(base)/logs", "\(data):\(base)/data:ro"], "sh", "-c",
                                         "echo l > \(base)/logs/l.txt && ! touch \(base)/data/d.txt 2>/dev/null")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(exists(logs + "/l.txt"))
            #expect(!exists(data + "/d.txt"))
            #expect(!exists(base))
        }
    }

    @Test func failuresBeforeExecExitLikeAShell() throws {
        try withScratch { s in
            let host = try s.makeDirectory("vol")
            let notFound = try Harness.run(["\(host):/cairn-x"], "cairn-no-such-command")
            #expect(notFound.status == 127)
            #expect(notFound.stderr.contains("command not found"))

            let missingHost = try Harness.run(["\(s.sub("nope")):/cairn-x"], "true")
            #expect(missingHost.status == 126)
            #expect(missingHost.stderr.contains(s.sub("nope")))

            let relative = try Harness.run(["\(host):relative/path"], "true")
            #expect(relative.status == 126)
            #expect(relative.stderr.contains("must be absolute"))
        }
    }
}
