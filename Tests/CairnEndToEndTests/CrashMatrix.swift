import CairnCrashPoint
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One cell of the crash matrix: a scenario run with one crash point armed (and, for restart
/// recovery, a second one armed in the daemon that starts after the crash).
struct CrashCell: Sendable, CustomStringConvertible {
    var scenario: String
    /// CAIRN_CRASH_AT for the daemon that runs the operation.
    var arm: String
    /// CAIRN_CRASH_AT for the daemon that starts after that crash (a crash during recovery).
    var recoveryArm: String?

    /// The point's name, for the table's row.
    var point: String {
        if arm.isEmpty && recoveryArm == nil { return "(none armed)" }
        let spec = CrashPoint.Specification(parsing: recoveryArm ?? arm)
        guard let spec else { return recoveryArm ?? arm }
        return spec.then.map { "\(spec.name)@\($0)" } ?? spec.name
    }
    var description: String { "\(scenario) \(arm)\(recoveryArm.map { " then \($0)" } ?? "")" }
}

struct CellResult: Sendable {
    var cell: CrashCell
    /// Daemons killed by their armed point (0 when the point was not reached this time).
    var crashes: Int
    var violations: [String]
    var seconds: Double
}

/// Runs scenarios with crash points armed: the daemon dies at the point, is started again, the
/// client retries what was not answered, the cluster settles, and the invariants are checked.
enum CrashMatrix {
    /// Lines every crash-point death writes to the daemon's log.
    static func crashes(in d: TestDaemon) -> Int { d.log().components(separatedBy: CrashPoint.announcement).count - 1 }

    /// How long the cluster gets to reach the scenario's goal after the last restart.
    static let settleTimeout: TimeInterval = 120

    /// Runs the scenario once with only the trace on: which points it reaches, how often.
    static func trace(_ scenario: CrashScenario) throws -> (counts: [String: Int], result: CellResult) {
        let traceFile = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-trace-\(UUID().uuidString)").path
        defer { unlink(traceFile) }
        let result = try run(CrashCell(scenario: scenario.name, arm: "", recoveryArm: nil), scenario,
                             extraEnvironment: [CrashPoint.traceVariable: traceFile])
        var counts: [String: Int] = [:]
        let text = (try? String(contentsOfFile: traceFile, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") { counts[String(line), default: 0] += 1 }
        return (counts, result)
    }

    static func run(_ cell: CrashCell, _ scenario: CrashScenario, extraEnvironment: [String: String] = [:]) throws -> CellResult {
        let started = Date()
        let d = try TestDaemon()
        defer { d.stop() }
        var data = try scenario.setup(d)
        scenario.effect(&data)
        var violations: [String] = []
        var armed = extraEnvironment
        if !cell.arm.isEmpty { armed[CrashPoint.armVariable] = cell.arm }
        d.environment = armed
        d.terminate()
        // Each start after a crash is armed with the next of these (the recovery point), then none.
        var nextArms: [[String: String]] = cell.recoveryArm.map { [[CrashPoint.armVariable: $0]] } ?? []
        var crashed = 0
        // TestDaemon.start() begins a fresh log, so each start's log is read for its own death; the
        // log is also emptied here, so this holds whether a start truncates it or appends.
        /// After a death: whether the armed point killed it (counted, and the next start armed
        /// with the next recovery point) or something else did.
        func diedAtArmedPoint() -> Bool {
            let text = d.log()
            guard text.contains(CrashPoint.announcement) else { return false }
            crashed += 1
            try? "".write(toFile: d.logPath, atomically: false, encoding: .utf8)
            d.pid = 0
            d.environment = nextArms.isEmpty ? [:] : nextArms.removeFirst()
            return true
        }
        func startAfterCrashes() throws {
            while true {
                do {
                    try d.start()
                    return
                } catch {
                    // Died during start-up: by its armed point (a recovery crash), or for real.
                    guard diedAtArmedPoint() else { throw error }
                }
            }
        }
        try startAfterCrashes()
        var step = 0
        var failedAttempts = 0
        let deadline = Date().addingTimeInterval(settleTimeout + 60)
        var settled = false
        while Date() < deadline {
            if d.process?.isRunning != true {
                if !diedAtArmedPoint() {
                    violations.append("the daemon died without reaching its crash point:\n\(d.log().suffix(3000))")
                    break
                }
                try startAfterCrashes()
                continue
            }
            if step < scenario.steps.count {
                if (try? scenario.steps[step](d)) == true {
                    step += 1
                    failedAttempts = 0
                } else if d.process?.isRunning == true {
                    // Answered with an error by a live daemon: a client retries a few times.
                    failedAttempts += 1
                    if failedAttempts > 20 { violations.append("request \(step + 1) of \(scenario.name) keeps failing"); break }
                    usleep(500_000)
                }
                continue
            }
            if let view = try? ClusterView.read(d), scenario.goal(view, d) { settled = true; break }
            usleep(200_000)
        }
        if !settled && violations.isEmpty { violations.append("did not settle within \(Int(settleTimeout + 60)) s: \(scenario.goalDescription)") }
        if settled {
            // The goal is reached; what is left to converge (pods remounted after a restart) gets a while.
            var last = ClusterInvariants.violations(d, data)
            let end = Date().addingTimeInterval(30)
            while !last.isEmpty && Date() < end {
                usleep(300_000)
                last = ClusterInvariants.violations(d, data)
            }
            violations += last
        }
        if d.process?.isRunning != true && violations.isEmpty {
            violations.append("the daemon is not running at the end")
        }
        return CellResult(cell: cell, crashes: crashed, violations: violations, seconds: Date().timeIntervalSince(started))
    }

    /// Which cells a scope runs for a scenario whose trace reached `counts`.
    ///
    /// - quick: every point once, at its first reach.
    /// - full: every point at its first, middle and last reach, each both at once and just after the
    ///   commit that follows it (`@store-committed`); and every recovery point after a crash at the
    ///   middle commit of the operation.
    static func cells(for scenario: String, counts: [String: Int], scope: Scope) -> [CrashCell] {
        var cells: [CrashCell] = []
        for (point, count) in counts.sorted(by: { $0.key < $1.key }) {
            let reaches: [Int]
            switch scope {
            case .quick: reaches = [1]
            case .full: reaches = Array(Set([1, (count + 1) / 2, count])).sorted()
            }
            for n in reaches {
                cells.append(CrashCell(scenario: scenario, arm: "\(point):\(n)"))
                if scope == .full && point != "store-committed" {
                    cells.append(CrashCell(scenario: scenario, arm: "\(point):\(n)@store-committed"))
                }
            }
        }
        let commits = counts["store-committed"] ?? 0
        let recoveryPoints = counts.keys.filter { $0.hasPrefix("recovery-") }.sorted()
        if commits > 0 {
            let middle = "store-committed:\(max(commits / 2, 1))"
            for r in recoveryPoints where scope == .full || r == "recovery-loaded" {
                cells.append(CrashCell(scenario: scenario, arm: middle, recoveryArm: "\(r):1"))
            }
        }
        return cells
    }

    enum Scope: String { case quick, full }

    /// The table: one row per point, one column per scenario; each cell `crashes/runs`, with `!N`
    /// when N runs ended inconsistent. Then the totals and every violation found.
    static func table(_ results: [CellResult], scenarios: [String]) -> String {
        let points = Array(Set(results.map(\.cell.point))).sorted()
        var rows: [[String]] = [["point"] + scenarios]
        for p in points {
            var row = [p]
            for s in scenarios {
                let mine = results.filter { $0.cell.point == p && $0.cell.scenario == s }
                if mine.isEmpty { row.append("."); continue }
                let crashed = mine.filter { $0.crashes > 0 }.count
                let bad = mine.filter { !$0.violations.isEmpty }.count
                row.append("\(crashed)/\(mine.count)\(bad > 0 ? " !\(bad)" : "")")
            }
            rows.append(row)
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = rows.map { row in
            row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
        let crashed = results.filter { $0.crashes > 0 }
        let inconsistent = results.filter { !$0.violations.isEmpty }
        let crashedPoints = Set(crashed.map(\.cell.point))
        out += "\n\n\(results.count) runs (\(Int(results.map(\.seconds).reduce(0, +))) s) over \(points.count) points x \(scenarios.count) scenarios: "
        out += "\(crashed.count) crashed where armed (\(crashedPoints.count) points), \(inconsistent.count) inconsistent\n"
        for r in inconsistent {
            out += "\n\(r.cell):\n" + r.violations.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        }
        return out
    }
}
