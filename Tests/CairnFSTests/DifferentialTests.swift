import Foundation
import Glibc
import Testing

/// The differential filesystem test: random sequences of file operations (DifferentialOperations)
/// applied, with the same seed, to a native directory and to a Cairn volume served by a
/// cairnfs-harness child. After every step the two calls must have answered alike (return value,
/// errno, data read) and the two trees must hold the same (contents, modes, owners, sizes, link
/// counts, hard links, symlinks, xattrs, the mtimes utimens set). The volume's capacity (1 GiB) is
/// far above what a sequence writes, so no answer may differ by ENOSPC either.
///
/// The suite runs a fixed-seed slice; `tools/fs-differential.sh` runs more: CAIRN_DIFF_SEQUENCES,
/// CAIRN_DIFF_STEPS, CAIRN_DIFF_SEED and CAIRN_DIFF_MODE (daemon or kernelQuota) override the slice.
@Suite(.serialized) struct DifferentialTests {
    struct Plan {
        var sequences = 300
        var steps = 25
        var seed: UInt64 = 11
        var modes: [CapacityMode] = [.daemon]

        static var fromEnvironment: Plan {
            let env = ProcessInfo.processInfo.environment
            var plan = Plan()
            if let n = env["CAIRN_DIFF_SEQUENCES"].flatMap({ Int($0) }) { plan.sequences = n }
            if let n = env["CAIRN_DIFF_STEPS"].flatMap({ Int($0) }) { plan.steps = n }
            if let n = env["CAIRN_DIFF_SEED"].flatMap({ UInt64($0) }) { plan.seed = n }
            if let m = env["CAIRN_DIFF_MODE"] {
                plan.modes = m == "all" ? CapacityMode.allCases : m.split(separator: ",").compactMap { CapacityMode(rawValue: String($0)) }
            }
            return plan
        }
    }

    /// The generator is deterministic: the same seed gives the same sequence (a failure's seed
    /// reproduces it), different seeds differ.
    @Test func sequencesAreReproducible() {
        let a = OperationGenerator.sequence(seed: 42, length: 50).map(\.description)
        #expect(a == OperationGenerator.sequence(seed: 42, length: 50).map(\.description))
        #expect(a != OperationGenerator.sequence(seed: 43, length: 50).map(\.description))
    }

    /// The comparison can fail: a tree that differs from another by one byte, one mode bit or one
    /// hard link is told apart, and an operation's answer carries its errno.
    @Test func snapshotsTellTreesApart() throws {
        let a = try makeTempDir("diff-a"), b = try makeTempDir("diff-b")
        defer { removeTree(a); removeTree(b) }
        for dir in [a, b] {
            #expect(OperationRunner.apply(.create("f", mode: 0o644, exclusive: true), in: dir) == "ok")
            #expect(OperationRunner.apply(.write("f", offset: 3, length: 10, fill: 65), in: dir) == "ok 10")
        }
        #expect(TreeSnapshot.lines(of: a) == TreeSnapshot.lines(of: b))
        let variants: [(FileOperation, String)] = [
            /* 1 */ (.write("f", offset: 0, length: 1, fill: 66), "ok 1"),
            /* 2 */ (.chmod("f", mode: 0o600), "ok 0"),
            /* 3 */ (.link("f", "g"), "ok 0"),
            /* 4 */ (.setxattr("f", name: "user.a", value: "v", flags: 0), "ok 0"),
            /* 5 */ (.utimens("f", atime: 5000, mtime: 6000, noFollow: false), "ok atime 5000 mtime 6000"),
        ]
        for (i, (op, answer)) in variants.enumerated() {
            let c = try makeTempDir("diff-c")
            defer { removeTree(c) }
            _ = OperationRunner.apply(.create("f", mode: 0o644, exclusive: true), in: c)
            _ = OperationRunner.apply(.write("f", offset: 3, length: 10, fill: 65), in: c)
            #expect(OperationRunner.apply(op, in: c) == answer, "case \(i + 1)")
            #expect(TreeSnapshot.lines(of: a) != TreeSnapshot.lines(of: c), "case \(i + 1): \(op) not seen")
        }
        #expect(OperationRunner.apply(.rmdir("f"), in: a) == "error ENOTDIR")
        #expect(OperationRunner.apply(.unlink("nothing"), in: a) == "error ENOENT")
    }

    @Test func nativeAndCairnAgree() throws {
        let plan = Plan.fromEnvironment
        for mode in plan.modes {
            try run(plan, mode: mode)
        }
    }

    func run(_ plan: Plan, mode: CapacityMode) throws {
        let (root, quota) = try modeRoot(mode, "diff")
        defer { quota?.stop() }
        // One deadline for the whole run: its sequences, generously (the watchdog only stops a hang).
        let mount = try HarnessMount(volumes: [(id: "pvc-diff", capacity: 1 << 30, readOnly: false)], root: root,
                                     deadline: Double(max(600, plan.sequences * plan.steps / 10)))
        defer { mount.stop(removeRoot: true) }
        try mount.expectEnforcement("pvc-diff", mode)
        // The native side lives on the same filesystem as the volume's backing (btrfs, say, counts
        // a directory's links differently from ext4).
        let nativeRoot = try quota?.root("diff-native") ?? makeTempDir("diff-native")
        defer { removeTree(nativeRoot) }
        var steps = 0, failures = 0
        var answers: [String: Int] = [:]
        for index in 0..<plan.sequences {
            let seed = plan.seed &* 1_000_003 &+ UInt64(index)
            let ops = OperationGenerator.sequence(seed: seed, length: plan.steps)
            let native = nativeRoot + "/s\(index)", cairn = mount.volume("pvc-diff") + "/s\(index)"
            mkdir(native, 0o755)
            mkdir(cairn, 0o755)
            chmod(native, 0o755)
            chmod(cairn, 0o755)
            for (step, op) in ops.enumerated() {
                let a = OperationRunner.apply(op, in: native)
                let b = OperationRunner.apply(op, in: cairn)
                steps += 1
                answers[a.hasPrefix("ok") ? "ok" : a, default: 0] += 1
                let program = ops[0...step].enumerated().map { "    \($0.offset + 1). \($0.element)" }.joined(separator: "\n")
                if a != b {
                    Issue.record("\(mode) seed \(seed) step \(step + 1): \(op) answered \(a.debugDescription) natively, \(b.debugDescription) on Cairn\n\(program)")
                    failures += 1
                    break
                }
                let ta = TreeSnapshot.lines(of: native), tb = TreeSnapshot.lines(of: cairn)
                if ta != tb {
                    Issue.record("\(mode) seed \(seed) step \(step + 1): after \(op) the trees differ\n  \(TreeSnapshot.difference(ta, tb))\n\(program)")
                    failures += 1
                    break
                }
            }
            removeSequenceTree(native)
            removeSequenceTree(cairn)
            if failures >= 5 { break }
        }
        try mount.waitForReleases("pvc-diff")
        let summary = answers.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("differential (\(mode)): \(plan.sequences) sequences x \(plan.steps) steps, seed \(plan.seed): \(steps) steps compared, \(failures) differing; answers: \(summary)")
        #expect(failures == 0)
    }
}
