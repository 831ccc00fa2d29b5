import CairnCore
import Dispatch
import Foundation
import Testing
@testable import CairnStore

/// Correctness at the sizes the daemon meets; no timing thresholds (timings depend on the machine).
@Suite struct ScaleTests {
    @Test func aThousandObjectsInOneTransaction() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try Store(path: dir.path("cairn.db"))
        let created = try store.write { w in
            try (0..<1000).map { i in
                try w.create(.persistentVolumeClaim, claim("data-\(i)", namespace: "ns-\(i % 7)", volumeName: "pv-\(i)"), now: t0)
            }
        }
        #expect(created.map(\.resourceVersion) == Array(1...1000))
        #expect(Set(created.map(\.uid)).count == 1000)

        let (listed, rv) = try store.read { r in (try r.list(kind: .persistentVolumeClaim), try r.currentResourceVersion()) }
        #expect(rv == 1000)
        #expect(listed.count == 1000)
        let expectedOrder = created.map { ($0.key.namespace, $0.key.name) }.sorted { $0 < $1 }
        #expect(listed.map { ($0.key.namespace, $0.key.name) }.elementsEqual(expectedOrder, by: ==))
        let byName = Dictionary(uniqueKeysWithValues: created.map { ($0.key, $0) })
        #expect(listed.allSatisfy { byName[$0.key] == $0 })
        #expect(try store.read { r in try r.list(kind: .persistentVolumeClaim, namespace: "ns-3").count } == 143)
    }

    @Test func listingTenThousandObjectsReturnsThemAll() throws {
        let store = try Store.inMemory()
        try store.write { w in
            for i in 0..<10_000 { _ = try w.create(.pod, pod(String(format: "p-%05d", i)), now: t0) }
        }
        let listed = try store.read { r in try r.list(kind: .pod) }
        #expect(listed.count == 10_000)
        #expect(listed.first?.key.name == "p-00000" && listed.last?.key.name == "p-09999")
        #expect(listed[1234].body.at("metadata.name") == .string("p-01234"))
    }

    @Test func readersAreNotBlockedByAnOpenWrite() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try Store(path: dir.path("cairn.db"))
        try store.write { w in for i in 0..<10 { _ = try w.create(.pod, pod("before-\(i)"), now: t0) } }

        let writing = DispatchSemaphore(value: 0)
        let readersDone = DispatchSemaphore(value: 0)
        let writerFinished = DispatchSemaphore(value: 0)
        let writerError = Locked<(any Error)?>(nil)
        DispatchQueue.global().async {
            do {
                try store.write { w in
                    for i in 0..<5 { _ = try w.create(.pod, pod("during-\(i)"), now: t0) }
                    writing.signal()
                    // Hold the transaction open until the readers are done (bounded, so a reader that
                    // blocks on the writer makes the test fail instead of hang).
                    _ = readersDone.wait(timeout: .now() + 10)
                }
            } catch {
                writerError.withLock { $0 = error }
            }
            writerFinished.signal()
        }
        #expect(writing.wait(timeout: .now() + 10) == .success)

        let seen = Locked<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let count = (try? store.read { r in try r.list(kind: .pod).count }) ?? -1
            seen.withLock { $0.append(count) }
        }
        readersDone.signal()
        #expect(writerFinished.wait(timeout: .now() + 10) == .success)

        #expect(seen.current == [10, 10, 10, 10], "readers saw the snapshot before the open write")
        #expect(writerError.current == nil)
        #expect(try store.read { r in try r.list(kind: .pod).count } == 15)
    }

    @Test func concurrentWritersSerializeWithoutLosingVersions() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try Store(path: dir.path("cairn.db"))
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<50 {
                do {
                    try store.write { w in _ = try w.create(.pod, pod("w\(worker)-\(i)"), now: t0) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.current.isEmpty)
        let (pods, rv) = try store.read { r in (try r.list(kind: .pod), try r.currentResourceVersion()) }
        #expect(rv == 200)
        #expect(pods.map(\.resourceVersion).sorted() == Array(1...200))
    }
}
