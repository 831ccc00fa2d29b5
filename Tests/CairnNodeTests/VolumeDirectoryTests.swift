import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

@Suite struct VolumeDirectoryCreateTests {
    @Test func createsWithExactModeRegardlessOfUmask() throws {
        try withScratch { s in
            let dataRoot = s.sub("data/root")
            let path = try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o777)
            #expect(path == dataRoot + "/pvc-a")
            #expect(try mode(of: path) == 0o777)
            #expect(try mode(of: dataRoot) == 0o711)
            let sticky = try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-b", mode: 0o1770)
            #expect(try mode(of: sticky) == 0o1770)
        }
    }

    @Test func createIsIdempotentAndKeepsContent() throws {
        try withScratch { s in
            let dataRoot = s.sub("data")
            let path = try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o750)
            try s.write("data/pvc-a/keep.txt", "keep")
            #expect(try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o750) == path)
            #expect(exists(path + "/keep.txt"))
            #expect(try mode(of: path) == 0o750)
        }
    }

    @Test func createRefusesASymlinkOrFileInPlaceOfTheVolume() throws {
        try withScratch { s in
            let dataRoot = try s.makeDirectory("data")
            let outside = try s.makeDirectory("outside")
            symlink(outside, dataRoot + "/pvc-link")
            try s.write("data/pvc-file", "x")
            #expect(throws: NodeError.notADirectory(path: dataRoot + "/pvc-link")) {
                try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-link", mode: 0o777)
            }
            #expect(throws: NodeError.notADirectory(path: dataRoot + "/pvc-file")) {
                try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-file", mode: 0o777)
            }
            #expect(try mode(of: outside) == 0o755)
        }
    }

    @Test(arguments: ["", ".", "..", "a/b", "/abs"])
    func rejectsNamesThatAreNotOneComponent(name: String) throws {
        try withScratch { s in
            #expect(throws: NodeError.invalidName(kind: "volume directory", name: name)) {
                try VolumeDirectory.create(dataRoot: s.sub("data"), name: name, mode: 0o700)
            }
            #expect(throws: NodeError.invalidName(kind: "volume directory", name: name)) {
                try VolumeDirectory.remove(dataRoot: s.sub("data"), name: name)
            }
        }
    }

    @Test func orphansAreUnknownPvcDirectoriesOnly() throws {
        try withScratch { s in
            let dataRoot = s.sub("data")
            for name in ["pvc-a", "pvc-b", "other"] {
                try VolumeDirectory.create(dataRoot: dataRoot, name: name, mode: 0o700)
            }
            symlink(try s.makeDirectory("outside"), dataRoot + "/pvc-link")
            try s.write("data/pvc-file", "x")
            #expect(VolumeDirectory.orphans(dataRoot: dataRoot, known: ["pvc-a"]) == ["pvc-b"])
            #expect(VolumeDirectory.orphans(dataRoot: s.sub("missing"), known: []) == [])
        }
    }
}

@Suite struct VolumeDirectoryRemoveTests {
    @Test func removeNeverFollowsSymlinksOutOfTheVolume() throws {
        try withScratch { s in
            let dataRoot = s.sub("data")
            let volume = try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o777)
            let outsideFile = try s.write("outside/keep.txt", "outside")
            try s.write("data/pvc-a/dir/file.txt", "inside")
            symlink("/etc", volume + "/etc")
            symlink(s.sub("outside"), volume + "/dir/outside-dir")
            symlink(outsideFile, volume + "/outside-file")
            symlink("../../../outside", volume + "/dir/relative")

            try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")

            #expect(!exists(volume))
            #expect(exists(outsideFile))
            #expect(exists("/etc/passwd"))
            #expect(exists(dataRoot))
        }
    }

    @Test func aSymlinkInPlaceOfTheVolumeIsUnlinkedNotFollowed() throws {
        try withScratch { s in
            let dataRoot = try s.makeDirectory("data")
            let outsideFile = try s.write("outside/keep.txt", "outside")
            symlink(s.sub("outside"), dataRoot + "/pvc-a")
            try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")
            #expect(!exists(dataRoot + "/pvc-a"))
            #expect(exists(outsideFile))
        }
    }

    @Test func removeStopsAtAMountInsideTheVolumeBeforeDeletingAnything() throws {
        try withScratch { s in
            let dataRoot = s.sub("data")
            let volume = try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o777)
            let own = try s.write("data/pvc-a/own.txt", "mine")
            let outsideFile = try s.write("outside/keep.txt", "outside")
            try MountTable.bindMount(source: s.sub("outside"), target: volume + "/sub/mnt", readOnly: false)

            #expect(throws: NodeError.mountInside(tree: volume, mountPoint: volume + "/sub/mnt")) {
                try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")
            }
            #expect(exists(own))
            #expect(exists(outsideFile))

            try MountTable.unmount(volume + "/sub/mnt", lazy: false)
            try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")
            #expect(!exists(volume))
            #expect(exists(outsideFile))
        }
    }

    @Test func removeIsIdempotent() throws {
        try withScratch { s in
            let dataRoot = s.sub("data")
            try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o700)
            try s.write("data/pvc-a/a/b/c/d.txt", "deep")
            try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")
            try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")
            try VolumeDirectory.remove(dataRoot: s.sub("no-such-root"), name: "pvc-a")
            #expect(!exists(dataRoot + "/pvc-a"))
        }
    }

    @Test func removeHandlesNamesThatAreNotUTF8() throws {
        try withScratch { s in
            let dataRoot = s.sub("data")
            let volume = try VolumeDirectory.create(dataRoot: dataRoot, name: "pvc-a", mode: 0o700)
            let name: [UInt8] = Array((volume + "/bad-").utf8) + [0xFF, 0xFE, 0]
            let fd = name.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o600) }
            }
            #expect(fd >= 0)
            close(fd)
            try VolumeDirectory.remove(dataRoot: dataRoot, name: "pvc-a")
            #expect(!exists(volume))
        }
    }
}

@Suite struct VolumeDirectoryUsageTests {
    @Test func sparseFilesCountAllocatedBytesNotApparentSize() throws {
        try withScratch { s in
            let volume = try s.makeDirectory("vol")
            let fd = open(volume + "/sparse", O_CREAT | O_WRONLY, 0o600)
            #expect(ftruncate(fd, 64 << 20) == 0)
            close(fd)
            let usage = try VolumeDirectory.usage(path: volume)
            #expect(usage.files == 1)
            #expect(usage.bytes < 1 << 20)
            #expect(try VolumeDirectory.fingerprint(path: volume, deep: false).bytes == 64 << 20)
        }
    }

    @Test func hardLinksCountOnce() throws {
        try withScratch { s in
            let volume = try s.makeDirectory("vol")
            let file = try s.write("vol/data.bin", String(repeating: "x", count: 1 << 20))
            let before = try VolumeDirectory.usage(path: volume)
            #expect(before.bytes >= 1 << 20)
            #expect(link(file, volume + "/again.bin") == 0)
            let after = try VolumeDirectory.usage(path: volume)
            #expect(after.bytes == before.bytes)
            #expect(after.files == before.files)
        }
    }

    @Test func symlinksAndMountsToOutsideAreNotCounted() throws {
        try withScratch { s in
            let volume = try s.makeDirectory("vol")
            try s.write("vol/small.txt", "small")
            try s.write("outside/big.bin", String(repeating: "y", count: 1 << 20))
            let before = try VolumeDirectory.usage(path: volume)
            symlink("/etc", volume + "/etc")
            symlink(s.sub("outside"), volume + "/outside")
            try MountTable.bindMount(source: s.sub("outside"), target: volume + "/mounted", readOnly: true)
            let after = try VolumeDirectory.usage(path: volume)
            // Two fast symlinks (no blocks) and one mount point (not entered, not counted).
            #expect(after.files == before.files + 2)
            #expect(after.bytes < before.bytes + (1 << 20))
            #expect(throws: NodeError.notADirectory(path: volume + "/etc")) {
                try VolumeDirectory.usage(path: volume + "/etc")
            }
        }
    }
}

func mode(of path: String) throws -> UInt32 {
    var st = stat()
    guard lstat(path, &st) == 0 else { throw NodeError.system(operation: "stat", path: path, errno: errno) }
    return UInt32(st.st_mode & 0o7777)
}
