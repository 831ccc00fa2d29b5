import CFuseKernel
import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

/// What the node agent does to data roots for the filesystem: a btrfs data root with qgroups gets
/// a subvolume per volume (so the kernel can limit it), and every data root is made nodev,nosuid
/// (so device nodes pods make in it are inert on the host).
@Suite(.serialized) struct KernelQuotaLayoutTests {
    @Test func volumesOnBtrfsWithQgroupsAreNocowSubvolumes() throws {
        try withScratch { s in
            let image = s.sub("btrfs.img"), root = try s.makeDirectory("root")
            for step in [["/usr/bin/truncate", "-s", "256M", image], ["/usr/sbin/mkfs.btrfs", "-q", "-f", image],
                         ["/usr/bin/mount", "-o", "loop", image, root], ["/usr/bin/btrfs", "quota", "enable", root]] {
                let r = try run(step[0], Array(step.dropFirst()))
                try #require(r.status == 0, "\(step): \(r.stderr)")
            }
            let path = try VolumeDirectory.create(dataRoot: root, name: "pvc-1", mode: 0o750)
            var st = stat()
            try #require(stat(path, &st) == 0)
            #expect(st.st_ino == 256, "a subvolume's root is inode 256, got \(st.st_ino)")
            #expect(st.st_mode & 0o7777 == 0o750)
            let attrs = try run("/usr/bin/lsattr", ["-d", path])
            #expect(attrs.stdout.split(separator: " ").first?.contains("C") == true, "NOCOW: \(attrs.stdout)")
            // Level-triggered: asking again keeps it; removal deletes the subvolume (rmdir).
            try s.write("root/pvc-1/data", "x")
            #expect(try VolumeDirectory.create(dataRoot: root, name: "pvc-1", mode: 0o750) == path)
            try VolumeDirectory.remove(dataRoot: root, name: "pvc-1")
            #expect(access(path, F_OK) != 0)
            // Without qgroups: a plain directory.
            _ = try run("/usr/bin/btrfs", ["quota", "disable", root])
            let plain = try VolumeDirectory.create(dataRoot: root, name: "pvc-2", mode: 0o700)
            try #require(stat(plain, &st) == 0)
            #expect(st.st_ino != 256)
        }
    }

    @Test func dataRootsAreMadeInert() throws {
        try withScratch { s in
            let root = try s.makeDirectory("data")
            #expect(try MountTable.makeInert(root), "a plain /tmp directory is bind-mounted")
            var sv = statvfs()
            try #require(statvfs(root, &sv) == 0)
            #expect(sv.f_flag & UInt(CAIRN_ST_NODEV) != 0 && sv.f_flag & UInt(CAIRN_ST_NOSUID) != 0, "flags \(sv.f_flag)")
            #expect(try !MountTable.makeInert(root), "already inert: nothing more is mounted")
            #expect(MountTable.mounts().filter { $0.mountPoint == root }.count == 1)
            // A device node made there opens nothing.
            #expect(mknod(root + "/null", S_IFCHR | 0o666, dev_t(0x0103)) == 0)
            #expect(open(root + "/null", O_RDONLY) < 0 && errno == EACCES)
        }
    }
}
