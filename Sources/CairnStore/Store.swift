import CairnCore
import CairnCrashPoint
import Foundation
import GRDB
import Synchronization

/// Cairn's durable state: one SQLite file in the daemon's state directory.
///
/// Thread safety: `Store` is shared by every task of the daemon. `read` runs on one of several reader
/// connections and sees a consistent snapshot (WAL), so it never waits for a write; `write` calls run one
/// at a time, each as one transaction. Both block the calling thread: call them off an event loop.
/// Neither may be called from inside the closure of another (GRDB refuses reentrant access). Writes may
/// be staged (`stage`) and committed together (`commit`): group commit.
public final class Store: Sendable {
    private let database: any DatabaseWriter

    /// The database file, or nil for an in-memory store.
    public let path: String?

    /// Opens (creating if needed, with its parent directory) the store at `path` and migrates it.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.corrupt(
                "cannot create the state directory \(directory.path): \(error.localizedDescription)")
        }
        do {
            let pool = try DatabasePool(path: path, configuration: Store.configuration)
            // GRDB turns WAL on and sets synchronous=NORMAL on the writer connection once the pool is
            // open; FULL has to be set after that. See README.md, "Durability".
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Store.migrate(pool, path: path)
            database = pool
        } catch {
            throw Store.storeError(error, while: "opening the store at \(path)")
        }
        self.path = path
    }

    private init(inMemory queue: DatabaseQueue) {
        database = queue
        path = nil
    }

    /// A fresh store that lives as long as the returned object (for tests and dry runs).
    public static func inMemory() throws -> Store {
        do {
            let queue = try DatabaseQueue(configuration: configuration)
            try migrate(queue, path: ":memory:")
            return Store(inMemory: queue)
        } catch {
            throw storeError(error, while: "opening an in-memory store")
        }
    }

    /// Whether a staged transaction is open on the writer connection (see `stage`).
    private let staged = Mutex(false)
    /// Woken after every commit, with the resourceVersion then current.
    public let commits = CommitFeed()

    /// Runs `body` in a savepoint of the open transaction, opening one first if none is open, and
    /// leaves it open: writes from many callers then share one commit (one fsync with
    /// synchronous=FULL) when `commit()` is called. A write that throws undoes only itself. Nothing
    /// staged is visible to `read` (other connections) until the commit; `readStaged` sees it.
    @discardableResult
    public func stage<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        do {
            return try database.writeWithoutTransaction { db in
                if !db.isInsideTransaction {
                    try db.beginTransaction(.immediate)
                    staged.withLock { $0 = true }
                }
                var result: T?
                try db.inSavepoint {
                    result = try body(StoreWriter(db: db))
                    return .commit
                }
                return result!
            }
        } catch {
            throw Store.storeError(error, while: "writing \(path ?? "the in-memory store")")
        }
    }

    /// Whether staged writes wait for `commit()`.
    public var hasStagedWrites: Bool { staged.withLock { $0 } }

    /// Makes every staged write durable. If the commit fails, nothing staged is stored.
    public func commit() throws {
        guard hasStagedWrites else { return }
        do {
            let version = try database.writeWithoutTransaction { db -> Int64 in
                defer { staged.withLock { $0 = false } }
                do {
                    CrashPoint.reached("store-commit-begin")
                    try db.commit()
                    CrashPoint.reached("store-committed")
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    throw error
                }
                return try StoreReader(db: db).currentResourceVersion()
            }
            commits.publish(version)
        } catch {
            throw Store.storeError(error, while: "committing to \(path ?? "the in-memory store")")
        }
    }

    /// Drops every staged write.
    public func rollback() {
        guard hasStagedWrites else { return }
        try? database.writeWithoutTransaction { db in
            defer { staged.withLock { $0 = false } }
            if db.isInsideTransaction { try db.rollback() }
        }
    }

    /// Runs `body` with everything it writes staged, then commits: one transaction for all of it,
    /// each write in a savepoint of its own, so a failing write undoes only itself. If `body` throws,
    /// nothing it staged is stored (writes staged before the call are committed with it, or dropped).
    @discardableResult
    public func batch<T>(_ body: () throws -> T) throws -> T {
        do {
            try stage { _ in }
            let result = try body()
            try commit()
            return result
        } catch {
            rollback()
            throw error
        }
    }

    /// Runs `body` with a consistent snapshot of what is committed.
    @discardableResult
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        do {
            return try database.read { db in try body(StoreReader(db: db)) }
        } catch {
            throw Store.storeError(error, while: "reading \(path ?? "the in-memory store")")
        }
    }

    /// Reads on the writer connection, seeing staged writes too.
    @discardableResult
    public func readStaged<T>(_ body: (StoreReader) throws -> T) throws -> T {
        do {
            return try database.writeWithoutTransaction { db in try body(StoreReader(db: db)) }
        } catch {
            throw Store.storeError(error, while: "reading \(path ?? "the in-memory store")")
        }
    }

    /// Runs `body` in one transaction that commits when `body` returns and rolls back everything when it
    /// throws (the error is rethrown as it was). With staged writes open, `body` joins them instead (in a
    /// savepoint) and is committed with them.
    @discardableResult
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        if hasStagedWrites { return try stage(body) }
        let result: T
        do {
            result = try database.write { db in try body(StoreWriter(db: db)) }
        } catch {
            throw Store.storeError(error, while: "writing \(path ?? "the in-memory store")")
        }
        if let version = try? read({ try $0.currentResourceVersion() }) { commits.publish(version) }
        return result
    }

    // MARK: - Opening

    private static var configuration: Configuration {
        var c = Configuration()
        c.foreignKeysEnabled = true
        // Another process (a second daemon, sqlite3 in a shell) may hold the write lock briefly.
        c.busyMode = .timeout(5)
        c.label = "CairnStore"
        // `stage` leaves a transaction open between calls, so that many writes share one commit.
        c.allowsUnsafeTransactions = true
        return c
    }

    private static func migrate(_ writer: any DatabaseWriter, path: String) throws {
        let migrator = Schema.migrator
        try writer.write { db in
            let version = try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "unknown"
            guard try Bool.fetchOne(db, sql: "SELECT json_valid('{}')") == true else {
                throw StoreError.corrupt("SQLite \(version) has no JSON functions; Cairn needs 3.38 or later")
            }
            if try migrator.hasBeenSuperseded(db) {
                let known = Set(migrator.migrations)
                let unknown = try migrator.appliedIdentifiers(db).subtracting(known).sorted()
                throw StoreError.corrupt(
                    "the store at \(path) was written by a newer Cairn (schema migrations "
                    + "\(unknown.joined(separator: ", ")) are unknown to this one); upgrade Cairn to open it")
            }
        }
        try migrator.migrate(writer)
    }

    /// Names of the migrations applied to the file, oldest first (for tests and `cairn debug`).
    func appliedMigrations() throws -> [String] {
        try database.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// The connection's `PRAGMA` value on the writer connection (tests check durability settings).
    func writerPragma(_ name: String) throws -> String? {
        try database.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    // MARK: - Errors

    /// Store errors pass through; SQLite and decoding failures become `.corrupt` naming what was being
    /// done; any other error is the caller's own and is rethrown unchanged.
    static func storeError(_ error: any Error, while doing: String) -> any Error {
        switch error {
        case let e as StoreError: e
        case let e as DatabaseError: StoreError.corrupt("SQLite error while \(doing): \(describe(e))")
        case let e as RowDecodingError: StoreError.corrupt("a stored row does not decode while \(doing): \(e)")
        default: error
        }
    }

    static func describe(_ e: DatabaseError) -> String {
        let message = e.message ?? "no message"
        return "\(message) (\(e.extendedResultCode))"
    }
}

extension Store {
    /// Runs raw SQL on the writer outside any check of this module: tests use it to tamper with the
    /// file and prove the schema refuses, or that bad rows surface as errors.
    func unsafeExecute(_ sql: String) throws {
        do {
            try database.writeWithoutTransaction { db in try db.execute(sql: sql) }
        } catch {
            throw Store.storeError(error, while: "running raw SQL")
        }
    }
}
