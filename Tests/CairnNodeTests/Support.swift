import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

/// A directory of its own under /tmp for one test; `cleanup` detaches every mount under it and
/// removes it without crossing into another filesystem, whatever the test left.
struct Scratch {
    let path: String

    init() throws {
        path = "/tmp/cairn-node-test-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() {
        let mine = MountTable.mounts().filter { $0.mountPoint.hasPrefix(path + "/") }
            .sorted { $0.mountPoint.count > $1.mountPoint.count }
        for entry in mine { umount2(entry.mountPoint, 2 /* MNT_DETACH */) }
        _ = try? run("/bin/rm", ["-rf", "--one-file-system", path])
    }

    func sub(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    func makeDirectory(_ relative: String) throws -> String {
        let full = sub(relative)
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = sub(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        return full
    }
}

func withScratch(_ body: (Scratch) throws -> Void) throws {
    let scratch = try Scratch()
    defer { scratch.cleanup() }
    try body(scratch)
}

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// The errno of statfs on `path` (0 if it works): unlike stat, FUSE never answers it from a cache.
func statfsErrno(_ path: String) -> Int32 {
    var fs = statvfs()
    return statvfs(path, &fs) == 0 ? 0 : errno
}

/// A FUSE mount whose daemon can be killed: bindfs in the foreground, in a child process.
final class BindfsMount {
    static let executable = "/usr/bin/bindfs"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let process = Process()
    let mountPoint: String

    init(source: String, mountPoint: String) throws {
        self.mountPoint = mountPoint
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-f", source, mountPoint]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A readiness wait, not a timing assertion: bounded so a broken bindfs fails the test.
        for _ in 0..<1000 where !MountTable.isMountPoint(mountPoint) {
            guard process.isRunning else { break }
            usleep(10_000)
        }
        guard MountTable.isMountPoint(mountPoint) else {
            kill()
            throw NodeError.system(operation: "bindfs", path: mountPoint, errno: EIO)
        }
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
