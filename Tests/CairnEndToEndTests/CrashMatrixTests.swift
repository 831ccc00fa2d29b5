import CairnCrashPoint
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The crash matrix: every crash point of every multi-step operation, the daemon killed there,
/// started again, and the invariants checked once it settled. The suite runs a fixed slice;
/// `tools/crash-matrix.sh` runs the whole matrix (CAIRN_CRASH_MATRIX=quick|full).
@Suite(.serialized) struct CrashMatrixTests {
    /// CAIRN_CRASH_AT's grammar (numbered cases).
    @Test func crashPointSpecificationsParse() {
        let cases: [(String, CrashPoint.Specification?)] = [
            /* 1 */ ("provision-pv-written:3", .init(name: "provision-pv-written", count: 3)),
            /* 2 */ ("statefulset-controller:create-Pod:1", .init(name: "statefulset-controller:create-Pod", count: 1)),
            /* 3 */ ("kubelet:history-mounted:2@store-committed", .init(name: "kubelet:history-mounted", count: 2, then: "store-committed")),
            /* 4 */ ("store-committed:0", nil),
            /* 5 */ ("store-committed", nil),
            /* 6 */ (":3", nil),
            /* 7 */ ("a:1@", nil),
            /* 8 */ ("a:1@b:c", .init(name: "a", count: 1, then: "b:c")),
            /* 9 */ ("a:1@b@c", nil),
            /* 10 */ ("a:x", nil),
            /* 11 */ ("a:-1", nil),
            /* 12 */ ("a::1", nil),
        ]
        for (i, c) in cases.enumerated() {
            #expect(CrashPoint.Specification(parsing: c.0) == c.1, "case \(i + 1): \(c.0)")
        }
    }

    /// An armed daemon dies at its point, announces it, and a daemon started after it finds the
    /// state as the invariants promise. A malformed specification refuses to start.
    @Test func anArmedPointKillsTheDaemonThere() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        d.environment = [CrashPoint.armVariable: "no-such-point"]
        d.terminate()
        #expect(throws: (any Error).self) { try d.start() }
        #expect(d.log().contains("CAIRN_CRASH_AT=no-such-point is not NAME:N"), "\(d.log().suffix(2000))")
        d.environment = [CrashPoint.armVariable: "provision-pv-written:1"]
        try d.start()
        _ = try Client.apply(d, Manifests.claim("c", class: "fast"))
        try d.waitUntil("the daemon killed at provision-pv-written") { d.process?.isRunning != true }
        #expect(CrashMatrix.crashes(in: d) == 1)
        #expect(d.log().contains("cairn: crash point provision-pv-written reached 1 time(s)"))
        d.pid = 0
        d.environment = [:]
        try d.start()
        try Client.wait(d, "claim c Bound after the restart") { $0.claimBound("default/c") }
        #expect(ClusterInvariants.violations(d) == [])
        print(d.log().split(separator: "\n").filter { $0.contains("crash point") || $0.contains("serve started") }.joined(separator: "\n"))
    }

    /// Found by the crash matrix (every cell that crashed a daemon while pods were mounted): after a
    /// kill -9 the next daemon created the node mount point with a call that stats it; once the
    /// kernel's cached attributes of the mount (10 s) had expired that stat waited for the daemon
    /// itself, the holder gave up after its takeover timeout and the start failed with "File
    /// exists". Now the restart takes the mount over, and the pod keeps its data.
    @Test func aRestartAfterTheAttributeCacheExpiredTakesTheMountOver() throws {
        let d = try TestDaemon()
        defer { d.stop() }
        let data = try CrashScenarios.podWithData(d, claim: "data", class: "standard")
        d.crash()
        sleep(12)
        try d.start()
        #expect(d.log().contains("took over"), "\(d.log().suffix(2000))")
        try Client.wait(d, "pod app Running") { $0.podReady("default/app") }
        #expect(ClusterInvariants.violations(d, data) == [])
    }

    /// The suite's slice: one cell per kind of operation, each a point that sits between two steps
    /// that must not be separated.
    static let slice: [CrashCell] = [
        CrashCell(scenario: "provision", arm: "provision-directory-made:2"),
        CrashCell(scenario: "pod-start", arm: "pod-start-bind-mounted:1"),
        CrashCell(scenario: "pod-stop", arm: "pod-stop-unmounted:1"),
        CrashCell(scenario: "reclaim", arm: "reclaim-entry-removed:300"),
        CrashCell(scenario: "scale-up", arm: "statefulset-controller:create-Pod:1@store-committed"),
        CrashCell(scenario: "gc", arm: "garbage-collector:delete-PersistentVolumeClaim:1"),
        CrashCell(scenario: "scale-down", arm: "statefulset-controller:delete-Pod:1", recoveryArm: "recovery-loaded:1"),
    ]

    @Test(arguments: slice) func crashMatrixSlice(_ cell: CrashCell) throws {
        let scenario = try #require(CrashScenarios.named(cell.scenario))
        let result = try CrashMatrix.run(cell, scenario)
        print(CrashMatrix.table([result], scenarios: [cell.scenario]))
        #expect(result.crashes == (cell.recoveryArm == nil ? 1 : 2), "\(cell) did not crash where armed")
        #expect(result.violations == [], "\(cell)")
    }

    /// The whole matrix, when asked for: CAIRN_CRASH_MATRIX=quick|full, CAIRN_CRASH_MATRIX_SCENARIOS
    /// (comma-separated, default all), CAIRN_CRASH_MATRIX_SECONDS (no new run starts after it),
    /// CAIRN_CRASH_MATRIX_REPORT (a file the table is written to).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CAIRN_CRASH_MATRIX"] != nil))
    func crashMatrix() throws {
        let env = ProcessInfo.processInfo.environment
        let scope = CrashMatrix.Scope(rawValue: env["CAIRN_CRASH_MATRIX"] ?? "") ?? .quick
        let wanted = env["CAIRN_CRASH_MATRIX_SCENARIOS"].map { Set($0.split(separator: ",").map(String.init)) }
        let scenarios = CrashScenarios.all.filter { wanted?.contains($0.name) ?? true }
        let budget = Double(env["CAIRN_CRASH_MATRIX_SECONDS"] ?? "") ?? .infinity
        let start = Date()
        var results: [CellResult] = []
        var planned = 0
        func report() {
            let text = CrashMatrix.table(results, scenarios: scenarios.map(\.name))
                + (results.count < planned ? "\n(time budget reached: \(results.count) of \(planned) planned runs done)\n" : "")
            if let path = env["CAIRN_CRASH_MATRIX_REPORT"] { try? text.write(toFile: path, atomically: true, encoding: .utf8) }
            print(text)
        }
        var plans: [(CrashScenario, [CrashCell])] = []
        for s in scenarios {
            let (counts, baseline) = try CrashMatrix.trace(s)
            results.append(CellResult(cell: CrashCell(scenario: s.name, arm: "", recoveryArm: nil), crashes: 0,
                                      violations: baseline.violations, seconds: baseline.seconds))
            let cells = CrashMatrix.cells(for: s.name, counts: counts, scope: scope)
            plans.append((s, cells))
            planned += cells.count + 1
            print("crash matrix: \(s.name) reaches \(counts.count) points; \(cells.count) runs planned")
        }
        // Interleave scenarios so a time budget samples every one of them.
        var queues = plans.map { ($0.0, ArraySlice($0.1)) }
        while queues.contains(where: { !$0.1.isEmpty }) && Date().timeIntervalSince(start) < budget {
            for i in queues.indices {
                guard let cell = queues[i].1.popFirst(), Date().timeIntervalSince(start) < budget else { continue }
                print("crash matrix: running \(cell)")
                let r: CellResult
                do {
                    r = try CrashMatrix.run(cell, queues[i].0)
                } catch {
                    // A start that failed outright, or a setup that did not get there: this cell's
                    // finding, and the matrix goes on.
                    r = CellResult(cell: cell, crashes: 0, violations: ["the run failed: \(error)"], seconds: 0)
                }
                results.append(r)
                print("crash matrix: \(cell): \(r.crashes) crash(es), \(r.violations.count) violation(s), \(Int(r.seconds)) s")
                if results.count % 10 == 0 { report() }
            }
        }
        report()
        let inconsistent = results.filter { !$0.violations.isEmpty }.count
        #expect(inconsistent == 0)
    }
}
