import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MountInfoParsingTests {
    @Test func parsesFieldsOptionalFieldsAndEscapes() {
        let text = """
        27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
        36 27 0:45 /vol\\040one /srv/with\\040space\\011tab rw,nosuid master:2 propagate_from:3 - fuse.bindfs src\\134dir rw,user_id=0
        40 27 0:50 / /plain ro - tmpfs tmpfs ro,size=4k
        garbage line
        41 27 x:y / /bad rw - tmpfs tmpfs rw
        """
        let entries = MountTable.parse(mountInfo: text)
        #expect(entries.count == 3)
        #expect(entries[0] == MountEntry(mountID: 27, parentID: 1, major: 254, minor: 0, root: "/",
                                         mountPoint: "/", options: "rw,relatime", optionalFields: ["shared:1"],
                                         fsType: "ext4", source: "/dev/vda", superOptions: "rw,discard"))
        #expect(entries[1].root == "/vol one")
        #expect(entries[1].mountPoint == "/srv/with space\ttab")
        #expect(entries[1].optionalFields == ["master:2", "propagate_from:3"])
        #expect(entries[1].source == "src\\dir")
        #expect(entries[1].isFuse)
        #expect(entries[1].minor == 45)
        #expect(entries[2].optionalFields == [])
        #expect(entries[2].isReadOnly)
        #expect(!entries[0].isReadOnly)
    }

    @Test func readsTheLiveTable() {
        let mounts = MountTable.mounts()
        #expect(mounts.contains { $0.mountPoint == "/" })
        #expect(MountTable.isMountPoint("/proc"))
        #expect(!MountTable.isMountPoint("/etc"))
    }
}

@Suite struct BindMountTests {
    @Test func readOnlyBindGivesEROFSAndUnmountIsIdempotent() throws {
        try withScratch { s in
            let source = try s.makeDirectory("src")
            let target = s.sub("missing/parents/target")
            try MountTable.bindMount(source: source, target: target, readOnly: true)
            #expect(MountTable.isMountPoint(target))
            #expect(MountTable.isMountPoint(target + "/"))
            #expect(MountTable.mounts().last { $0.mountPoint == target }?.isReadOnly == true)
            let fd = open(target + "/new.txt", O_CREAT | O_WRONLY, 0o600)
            #expect(fd == -1 && errno == EROFS)

            try MountTable.unmount(target, lazy: false)
            #expect(!MountTable.isMountPoint(target))
            try MountTable.unmount(target, lazy: false)
            try MountTable.unmount(s.sub("never/existed"), lazy: true)
        }
    }

    @Test func writableBindWritesThrough() throws {
        try withScratch { s in
            let source = try s.makeDirectory("src")
            let target = s.sub("target")
            try MountTable.bindMount(source: source, target: target, readOnly: false)
            defer { try? MountTable.unmount(target, lazy: true) }
            try s.write("target/x.txt", "x")
            #expect(exists(source + "/x.txt"))
        }
    }

    @Test func missingSourceSaysWhat() throws {
        try withScratch { s in
            let error = #expect(throws: NodeError.self) {
                try MountTable.bindMount(source: s.sub("nope"), target: s.sub("t"), readOnly: false)
            }
            #expect(error?.errno == ENOENT)
            #expect(error?.description.contains(s.sub("nope")) == true)
            #expect(error?.description.contains("No such file or directory") == true)
        }
    }
}

@Suite(.enabled(if: BindfsMount.available, "needs bindfs (apt-get install -y bindfs)"))
struct StaleMountTests {
    @Test func killedFuseDaemonAndItsBindMountAreCleanedDeepestFirst() throws {
        try withScratch { s in
            let source = try s.makeDirectory("data")
            try s.makeDirectory("data/vol")
            let healthySource = try s.makeDirectory("healthy-src")
            let nodeMount = s.sub("state/mnt/node")
            let fuse = try BindfsMount(source: source, mountPoint: nodeMount)
            defer { fuse.kill() }
            let podVolume = s.sub("state/pods/ns/pod/volumes/v")
            try MountTable.bindMount(source: nodeMount + "/vol", target: podVolume, readOnly: false)
            let healthy = s.sub("state/healthy")
            try MountTable.bindMount(source: healthySource, target: healthy, readOnly: false)

            #expect(MountTable.cleanStaleMounts(under: s.sub("state")) == [])

            fuse.kill()
            #expect(statfsErrno(nodeMount) == ENOTCONN)
            #expect(statfsErrno(podVolume) == ENOTCONN)

            let cleaned = MountTable.cleanStaleMounts(under: s.sub("state"))
            #expect(cleaned == [podVolume, nodeMount])
            #expect(!MountTable.isMountPoint(nodeMount))
            #expect(!MountTable.isMountPoint(podVolume))
            #expect(MountTable.isMountPoint(healthy))
            #expect(MountTable.cleanStaleMounts(under: s.sub("state")) == [])
        }
    }

    @Test func abortingTheConnectionMakesTheMountStale() throws {
        try withScratch { s in
            let source = try s.makeDirectory("data")
            try s.write("data/file.txt", "x")
            let mountPoint = s.sub("mnt")
            let fuse = try BindfsMount(source: source, mountPoint: mountPoint)
            defer { fuse.kill() }
            #expect(exists(mountPoint + "/file.txt"))
            let fusectlBefore = MountTable.mounts().contains { $0.fsType == "fusectl" }
            #expect(!MountTable.abortFuseConnection(mountPoint: source))

            #expect(MountTable.abortFuseConnection(mountPoint: mountPoint))
            #expect(statfsErrno(mountPoint) == ENOTCONN)
            #expect(MountTable.cleanStaleMounts(under: mountPoint) == [mountPoint])
            #expect(!MountTable.isMountPoint(mountPoint))
            // fusectl, mounted for the abort if it was not, is gone again.
            #expect(MountTable.mounts().contains { $0.fsType == "fusectl" } == fusectlBefore)
        }
    }
}
