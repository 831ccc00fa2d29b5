import CairnCore
import Foundation
import Testing
@testable import CairnStore

@Suite struct RecordTests {
    @Test func historyRoundTripsInOrderByClaimUIDAndByName() throws {
        let store = try Store.inMemory()
        let t1 = Time(t0.date.addingTimeInterval(60))
        let entries = [
            HistoryEntry(at: t0, namespace: "default", claim: "data-web-0", claimUID: "u1", volume: "pv-a",
                         node: "node-1", action: .provisioned, detail: "1Gi on /var/lib/cairn/pv-a"),
            HistoryEntry(at: t0, namespace: "default", claim: "data-web-0", claimUID: "u1", volume: "pv-a", action: .bound),
            HistoryEntry(at: t1, namespace: "default", claim: "data-web-0", claimUID: "u1", volume: "pv-a",
                         node: "node-1", pod: "web-0", action: .mounted),
            HistoryEntry(at: t1, namespace: "other", claim: "data-web-0", claimUID: "u9", action: .lost),
            // The same claim name re-created: a new uid, the same (namespace, claim).
            HistoryEntry(at: t1, namespace: "default", claim: "data-web-0", claimUID: "u2", volume: "pv-b", action: .bound),
        ]
        let ids = try store.write { w in try entries.map { try w.appendHistory($0) } }
        #expect(ids == [1, 2, 3, 4, 5])

        let (byUID, byName, none) = try store.read { r in
            (try r.history(claimUID: "u1"), try r.history(namespace: "default", claim: "data-web-0"),
             try r.history(claimUID: "nope"))
        }
        var expected = Array(entries[0..<3])
        for i in expected.indices { expected[i].id = Int64(i + 1) }
        #expect(byUID == expected)
        #expect(byName.map(\.claimUID) == ["u1", "u1", "u1", "u2"])
        #expect(none.isEmpty)
    }

    @Test(arguments: BindingAction.allCases)
    func everyActionIsAccepted(_ action: BindingAction) throws {
        let store = try Store.inMemory()
        try store.write { w in
            try w.appendHistory(HistoryEntry(at: t0, namespace: "n", claim: "c", claimUID: "u", action: action))
        }
        #expect(try store.read { r in try r.history(claimUID: "u").first?.action } == action)
    }

    @Test func theLatestFingerprintOfAClaimWins() throws {
        let store = try Store.inMemory()
        let first = Fingerprint(claimUID: "u1", kind: .left, namespace: "default", claim: "data", volume: "pv-a", pod: "web-0",
                                recordedAt: t0, files: 10, bytes: 4096, digest: "sha256:0001")
        var second = first
        second.pod = nil
        second.recordedAt = Time(t0.date.addingTimeInterval(3600))
        second.files = 11
        second.bytes = 8192
        second.digest = "sha256:0002"
        try store.write { w in try w.recordFingerprint(first) }
        #expect(try store.read { r in try r.fingerprint(claimUID: "u1", kind: .left) } == first)
        try store.write { w in try w.recordFingerprint(second) }
        #expect(try store.read { r in try r.fingerprint(claimUID: "u1", kind: .left) } == second)
        #expect(try store.read { r in try r.fingerprint(claimUID: "u2", kind: .left) } == nil)
    }

    @Test func usageKeepsTheLastReportPerVolume() throws {
        let store = try Store.inMemory()
        let t1 = Time(t0.date.addingTimeInterval(30))
        try store.write { w in
            try w.recordUsage(volume: "pv-a", used: 100, capacity: 1000, at: t0)
            try w.recordUsage(volume: "pv-b", used: 5, capacity: 10, at: t0)
            try w.recordUsage(volume: "pv-a", used: 1200, capacity: 1000, at: t1)   // over: a report, not a rule
        }
        let (a, all) = try store.read { r in (try r.usage(volume: "pv-a"), try r.allUsage()) }
        #expect(a == VolumeUsageRecord(volume: "pv-a", usedBytes: 1200, capacityBytes: 1000, updatedAt: t1))
        #expect(all.keys.sorted() == ["pv-a", "pv-b"])
        #expect(all["pv-b"]?.usedBytes == 5)
    }

    @Test func negativeFiguresAreRefused() throws {
        let store = try Store.inMemory()
        #expect(throws: StoreError.invariant("usage of volume pv-a has negative figures (used -1, capacity 10)")) {
            try store.write { w in try w.recordUsage(volume: "pv-a", used: -1, capacity: 10, at: t0) }
        }
        #expect(throws: StoreError.self) {
            try store.write { w in
                try w.recordFingerprint(Fingerprint(claimUID: "u", kind: .left, namespace: "n", claim: "c", volume: "v", pod: nil,
                                                    recordedAt: t0, files: -1, bytes: 0, digest: ""))
            }
        }
    }

    @Test func recordsDoNotMoveTheResourceVersion() throws {
        let store = try Store.inMemory()
        try store.write { w in
            try w.appendHistory(HistoryEntry(at: t0, namespace: "n", claim: "c", claimUID: "u", action: .bound))
            try w.recordUsage(volume: "v", used: 1, capacity: 2, at: t0)
        }
        #expect(try store.read { r in try r.currentResourceVersion() } == 0)
    }
}
