import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

/// Each case changes one thing in a recorded tree and says whether a shallow and a deep
/// fingerprint must see it.
@Suite struct FingerprintTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let shallowChanges: Bool
        let deepChanges: Bool
        let change: @Sendable (String) throws -> Void
        var testDescription: String { name }
    }

    static let fixedTime = timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789)

    static let cases: [Case] = [
        Case(name: "1 nothing", shallowChanges: false, deepChanges: false) { _ in },
        Case(name: "2 reading every file", shallowChanges: false, deepChanges: false) { root in
            _ = try Data(contentsOf: URL(fileURLWithPath: root + "/a.txt"))
            _ = try Data(contentsOf: URL(fileURLWithPath: root + "/dir/b.txt"))
        },
        Case(name: "3 same-size content, mtime restored", shallowChanges: false, deepChanges: true) { root in
            try Data("AAAA".utf8).write(to: URL(fileURLWithPath: root + "/a.txt"))
            setTime(root + "/a.txt")
        },
        Case(name: "4 mtime only", shallowChanges: true, deepChanges: true) { root in
            var times = [fixedTime, timespec(tv_sec: fixedTime.tv_sec, tv_nsec: fixedTime.tv_nsec + 1)]
            utimensat(AT_FDCWD, root + "/a.txt", &times, 0)
        },
        Case(name: "5 rename", shallowChanges: true, deepChanges: true) { root in
            rename(root + "/dir/b.txt", root + "/dir/c.txt")
            setTime(root + "/dir")
        },
        Case(name: "6 chmod", shallowChanges: true, deepChanges: true) { root in
            chmod(root + "/a.txt", 0o600)
        },
        Case(name: "7 symlink target", shallowChanges: true, deepChanges: true) { root in
            unlink(root + "/link")
            symlink("/usr", root + "/link")
            setTime(root, nofollow: false)
            var times = [fixedTime, fixedTime]
            utimensat(AT_FDCWD, root + "/link", &times, AT_SYMLINK_NOFOLLOW)
        },
        Case(name: "8 size", shallowChanges: true, deepChanges: true) { root in
            try Data("aaaaa".utf8).write(to: URL(fileURLWithPath: root + "/a.txt"))
            setTime(root + "/a.txt")
        },
    ]

    static func setTime(_ path: String, nofollow: Bool = true) {
        var times = [fixedTime, fixedTime]
        utimensat(AT_FDCWD, path, &times, nofollow ? AT_SYMLINK_NOFOLLOW : 0)
    }

    /// A tree whose every mtime is fixed, so a rewrite can restore it exactly.
    static func makeTree(_ s: Scratch) throws -> String {
        let root = try s.makeDirectory("vol")
        try s.write("vol/a.txt", "aaaa")
        try s.write("vol/dir/b.txt", "bbbb")
        symlink("/etc", root + "/link")
        for path in ["/a.txt", "/dir/b.txt", "/link", "/dir", ""] { setTime(root + path) }
        return root
    }

    @Test(arguments: cases)
    func fingerprintSeesChangesAndOnlyChanges(_ c: Case) throws {
        try withScratch { s in
            let root = try Self.makeTree(s)
            let shallow = try VolumeDirectory.fingerprint(path: root, deep: false)
            let deep = try VolumeDirectory.fingerprint(path: root, deep: true)
            try c.change(root)
            Self.setTime(root)
            #expect((try VolumeDirectory.fingerprint(path: root, deep: false) != shallow) == c.shallowChanges)
            #expect((try VolumeDirectory.fingerprint(path: root, deep: true) != deep) == c.deepChanges)
        }
    }

    @Test func countsAndFormat() throws {
        try withScratch { s in
            let root = try Self.makeTree(s)
            let shallow = try VolumeDirectory.fingerprint(path: root, deep: false)
            let deep = try VolumeDirectory.fingerprint(path: root, deep: true)
            // a.txt, dir, dir/b.txt, link; the symlink to /etc is not followed.
            #expect(shallow.files == 4)
            #expect(shallow.bytes == 8)
            #expect(shallow.digest.count == 64)
            #expect(shallow.digest != deep.digest)
            let decoded = try JSONDecoder().decode(Fingerprint.self, from: JSONEncoder().encode(deep))
            #expect(decoded == deep)
        }
    }

    @Test func theSameContentInTwoPlacesFingerprintsTheSame() throws {
        try withScratch { s in
            let first = try Self.makeTree(s)
            let second = s.sub("copy")
            #expect(try run("/bin/cp", ["-a", first, second]).status == 0)
            #expect(try VolumeDirectory.fingerprint(path: first, deep: true)
                    == VolumeDirectory.fingerprint(path: second, deep: true))
        }
    }

    @Test func aSymlinkRootIsRefused() throws {
        try withScratch { s in
            let root = try Self.makeTree(s)
            #expect(throws: NodeError.notADirectory(path: root + "/link")) {
                try VolumeDirectory.fingerprint(path: root + "/link", deep: true)
            }
        }
    }
}
