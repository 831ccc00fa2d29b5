import CairnCore
import Foundation
import GRDB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Cairn's durable state: one SQLite file in the daemon's state directory.
///
/// Thread safety: `Store` is shared by every task of the daemon. `read` runs on one of several reader
/// connections and sees a consistent snapshot (WAL), so it never waits for a write; `write` calls run one
/// at a time, each as one transaction. Both block the calling thread: call them off an event loop.
/// Neither may be called from inside the closure of another (GRDB refuses reentrant access), except
/// inside `batch`, which they join.
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

    /// The transaction `batch` holds open, and the thread it belongs to.
    private struct OpenBatch: @unchecked Sendable {
        var thread: pthread_t
        var db: Database  // used only on `thread`, inside the writer's closure
    }
    private let openBatch = Mutex<OpenBatch?>(nil)

    /// The open batch's connection, if the calling thread is the one running it.
    private func batchDatabase() -> Database? {
        openBatch.withLock { b in b.flatMap { pthread_equal($0.thread, pthread_self()) != 0 ? $0.db : nil } }
    }

    /// Runs `body` as one transaction that every `write` (and `read`) made from it on this thread joins,
    /// each write in a savepoint of its own, so a failing write undoes only itself. Many writes then
    /// cost one commit (one fsync with synchronous=FULL) instead of one each: the controllers use it
    /// for the actions of one sync. If the commit fails, nothing of the batch is stored.
    @discardableResult
    public func batch<T>(_ body: () throws -> T) throws -> T {
        if batchDatabase() != nil { return try body() }
        do {
            return try database.write { db in
                openBatch.withLock { $0 = OpenBatch(thread: pthread_self(), db: db) }
                defer { openBatch.withLock { $0 = nil } }
                return try body()
            }
        } catch {
            throw Store.storeError(error, while: "writing \(path ?? "the in-memory store")")
        }
    }

    /// Runs `body` with a consistent snapshot of the store (inside a batch: the batch's own view).
    @discardableResult
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        if let db = batchDatabase() { return try body(StoreReader(db: db)) }
        do {
            return try database.read { db in try body(StoreReader(db: db)) }
        } catch {
            throw Store.storeError(error, while: "reading \(path ?? "the in-memory store")")
        }
    }

    /// Runs `body` in one transaction: it commits when `body` returns and rolls back everything when it
    /// throws (the error is rethrown as it was).
    @discardableResult
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        if let db = batchDatabase() {
            var result: T?
            do {
                try db.inSavepoint {
                    result = try body(StoreWriter(db: db))
                    return .commit
                }
            } catch {
                throw Store.storeError(error, while: "writing \(path ?? "the in-memory store")")
            }
            return result!
        }
        do {
            return try database.write { db in try body(StoreWriter(db: db)) }
        } catch {
            throw Store.storeError(error, while: "writing \(path ?? "the in-memory store")")
        }
    }

    // MARK: - Opening

    private static var configuration: Configuration {
        var c = Configuration()
        c.foreignKeysEnabled = true
        // Another process (a second daemon, sqlite3 in a shell) may hold the write lock briefly.
        c.busyMode = .timeout(5)
        c.label = "CairnStore"
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
