import CairnCore
import GRDB

/// Reads inside `Store.read` or `Store.write`. Valid only inside that closure.
public struct StoreReader {
    let db: Database

    init(db: Database) { self.db = db }

    public func get(_ key: ObjectKey) throws -> StoredObject? {
        try guarded("reading \(key)") {
            let statement = try db.cachedStatement(sql: """
                SELECT uid, resource_version, body FROM objects
                WHERE kind = ? AND namespace = ? AND name = ?
                """)
            guard let row = try Row.fetchOne(statement, arguments: [key.kind.rawValue, key.namespace, key.name])
            else { return nil }
            return StoredObject(key: key, uid: try row.decode(atIndex: 0),
                                resourceVersion: try row.decode(atIndex: 1), json: try row.decode(atIndex: 2))
        }
    }

    /// Objects of `kind`, in one namespace or (nil) in all, sorted by namespace then name. Bodies are
    /// returned as text, not parsed.
    public func list(kind: Kind, namespace: String? = nil) throws -> [StoredObject] {
        try guarded("listing \(kind.resource)") {
            let statement: Statement
            let arguments: StatementArguments
            if let namespace {
                statement = try db.cachedStatement(sql: """
                    SELECT namespace, name, uid, resource_version, body FROM objects
                    WHERE kind = ? AND namespace = ? ORDER BY namespace, name
                    """)
                arguments = [kind.rawValue, namespace]
            } else {
                statement = try db.cachedStatement(sql: """
                    SELECT namespace, name, uid, resource_version, body FROM objects
                    WHERE kind = ? ORDER BY namespace, name
                    """)
                arguments = [kind.rawValue]
            }
            var out: [StoredObject] = []
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            while let row = try rows.next() {
                out.append(StoredObject(
                    key: ObjectKey(kind: kind, namespace: try row.decode(atIndex: 0), name: try row.decode(atIndex: 1)),
                    uid: try row.decode(atIndex: 2), resourceVersion: try row.decode(atIndex: 3),
                    json: try row.decode(atIndex: 4)))
            }
            return out
        }
    }

    /// The resourceVersion of the last object write: what a list reports as `metadata.resourceVersion`.
    public func currentResourceVersion() throws -> Int64 {
        try guarded("reading the resourceVersion counter") {
            let statement = try db.cachedStatement(sql: "SELECT value FROM counters WHERE name = ?")
            guard let value = try Int64.fetchOne(statement, arguments: [Schema.resourceVersionCounter]) else {
                throw StoreError.corrupt("the resourceVersion counter row is missing from the counters table")
            }
            return value
        }
    }

    /// Changes after `resourceVersion`, oldest first, at most `limit`: of one kind (in one namespace,
    /// or all with nil), or of every kind (nil kind).
    public func changes(after resourceVersion: Int64, kind: Kind?, namespace: String?, limit: Int) throws -> [ChangeRecord] {
        try guarded("reading the change log after \(resourceVersion)") {
            var conditions = ["resource_version > ?"]
            var arguments: StatementArguments = [resourceVersion]
            if let kind {
                conditions.append("kind = ?")
                arguments += [kind.rawValue]
                if let namespace {
                    conditions.append("namespace = ?")
                    arguments += [namespace]
                }
            }
            let statement = try db.cachedStatement(sql: """
                SELECT resource_version, type, kind, namespace, name, body FROM changes
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY resource_version LIMIT ?
                """)
            arguments += [limit]
            var out: [ChangeRecord] = []
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            while let row = try rows.next() {
                let version: Int64 = try row.decode(atIndex: 0)
                let typeText: String = try row.decode(atIndex: 1), kindText: String = try row.decode(atIndex: 2)
                guard let type = ChangeType(rawValue: typeText), let kind = Kind(rawValue: kindText) else {
                    throw StoreError.corrupt("change \(version) has unknown type \"\(typeText)\" or kind \"\(kindText)\"")
                }
                out.append(ChangeRecord(resourceVersion: version, type: type,
                                        key: ObjectKey(kind: kind, namespace: try row.decode(atIndex: 3), name: try row.decode(atIndex: 4)),
                                        json: try row.decode(atIndex: 5)))
            }
            return out
        }
    }

    /// The newest change of an object at or before `resourceVersion`, if the log still has it: what a
    /// watcher with a selector saw of the object before a later change.
    public func change(of key: ObjectKey, before resourceVersion: Int64) throws -> ChangeRecord? {
        try guarded("reading the change log of \(key)") {
            let statement = try db.cachedStatement(sql: """
                SELECT resource_version, type, body FROM changes
                WHERE kind = ? AND namespace = ? AND name = ? AND resource_version < ?
                ORDER BY resource_version DESC LIMIT 1
                """)
            guard let row = try Row.fetchOne(statement, arguments: [key.kind.rawValue, key.namespace, key.name, resourceVersion]) else {
                return nil
            }
            let typeText: String = try row.decode(atIndex: 1)
            guard let type = ChangeType(rawValue: typeText) else { throw StoreError.corrupt("a change has unknown type \"\(typeText)\"") }
            return ChangeRecord(resourceVersion: try row.decode(atIndex: 0), type: type, key: key, json: try row.decode(atIndex: 2))
        }
    }

    /// Changes at or below this resourceVersion are no longer in the log.
    public func compactedResourceVersion() throws -> Int64 {
        try guarded("reading the compaction point of the change log") {
            let statement = try db.cachedStatement(sql: "SELECT value FROM counters WHERE name = ?")
            return try Int64.fetchOne(statement, arguments: [Schema.compactedCounter]) ?? 0
        }
    }

    /// How many changes the log holds.
    public func changeCount() throws -> Int {
        try guarded("counting the change log") { try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") ?? 0 }
    }

    /// Everything recorded for the claim with this uid, oldest first.
    public func history(claimUID: String) throws -> [HistoryEntry] {
        try guarded("reading the binding history of claim uid \(claimUID)") {
            try fetchHistory(where: "claim_uid = ?", [claimUID])
        }
    }

    /// Everything recorded for claims of this name in this namespace (all their incarnations), oldest first.
    public func history(namespace: String, claim: String) throws -> [HistoryEntry] {
        try guarded("reading the binding history of claim \(namespace)/\(claim)") {
            try fetchHistory(where: "namespace = ? AND claim = ?", [namespace, claim])
        }
    }

    /// The names of every claim of a namespace that the history mentions, deleted ones included, sorted.
    public func historyClaimNames(namespace: String) throws -> [String] {
        try guarded("listing the claims in the binding history of namespace \(namespace)") {
            try String.fetchAll(db, sql: "SELECT DISTINCT claim FROM binding_history WHERE namespace = ? ORDER BY claim",
                                arguments: [namespace])
        }
    }

    public func fingerprint(claimUID: String, kind: FingerprintKind) throws -> Fingerprint? {
        try guarded("reading the \(kind.rawValue) fingerprint of claim uid \(claimUID)") {
            let statement = try db.cachedStatement(sql: """
                SELECT claim_uid, namespace, claim, volume, pod, recorded_at, files, bytes, digest
                FROM fingerprints WHERE claim_uid = ? AND kind = ?
                """)
            guard let row = try Row.fetchOne(statement, arguments: [claimUID, kind.rawValue]) else { return nil }
            return Fingerprint(
                claimUID: try row.decode(atIndex: 0), kind: kind, namespace: try row.decode(atIndex: 1),
                claim: try row.decode(atIndex: 2), volume: try row.decode(atIndex: 3), pod: try row.decode(atIndex: 4),
                recordedAt: try storedTime(row.decode(atIndex: 5), "fingerprints.recorded_at"),
                files: try row.decode(atIndex: 6), bytes: try row.decode(atIndex: 7), digest: try row.decode(atIndex: 8))
        }
    }

    public func usage(volume: String) throws -> VolumeUsageRecord? {
        try guarded("reading the usage of volume \(volume)") {
            let statement = try db.cachedStatement(sql: """
                SELECT volume, used_bytes, capacity_bytes, updated_at FROM volume_usage WHERE volume = ?
                """)
            return try Row.fetchOne(statement, arguments: [volume]).map(usageRecord)
        }
    }

    /// The last usage of every volume, by volume name.
    public func allUsage() throws -> [String: VolumeUsageRecord] {
        try guarded("reading volume usage") {
            let rows = try Row.fetchCursor(db, sql: "SELECT volume, used_bytes, capacity_bytes, updated_at FROM volume_usage")
            var out: [String: VolumeUsageRecord] = [:]
            while let row = try rows.next() {
                let record = try usageRecord(row)
                out[record.volume] = record
            }
            return out
        }
    }

    // MARK: - Helpers

    private func fetchHistory(where condition: String, _ arguments: StatementArguments) throws -> [HistoryEntry] {
        let statement = try db.cachedStatement(sql: """
            SELECT id, at, namespace, claim, claim_uid, volume, node, pod, action, detail
            FROM binding_history WHERE \(condition) ORDER BY id
            """)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var out: [HistoryEntry] = []
        while let row = try rows.next() {
            let id: Int64 = try row.decode(atIndex: 0)
            let actionText: String = try row.decode(atIndex: 8)
            guard let action = BindingAction(rawValue: actionText) else {
                throw StoreError.corrupt("binding_history row \(id) has unknown action \"\(actionText)\"")
            }
            out.append(HistoryEntry(
                id: id, at: try storedTime(row.decode(atIndex: 1), "binding_history.at of row \(id)"),
                namespace: try row.decode(atIndex: 2), claim: try row.decode(atIndex: 3),
                claimUID: try row.decode(atIndex: 4), volume: try row.decode(atIndex: 5),
                node: try row.decode(atIndex: 6), pod: try row.decode(atIndex: 7),
                action: action, detail: try row.decode(atIndex: 9)))
        }
        return out
    }

    private func usageRecord(_ row: Row) throws -> VolumeUsageRecord {
        VolumeUsageRecord(
            volume: try row.decode(atIndex: 0), usedBytes: try row.decode(atIndex: 1),
            capacityBytes: try row.decode(atIndex: 2),
            updatedAt: try storedTime(row.decode(atIndex: 3), "volume_usage.updated_at"))
    }
}

@available(*, unavailable, message: "a StoreReader is only valid inside the closure it was given to")
extension StoreReader: Sendable {}

/// Times are stored as RFC 3339 text (Time's own format), readable in the sqlite3 shell.
func storedTime(_ text: String, _ column: String) throws -> Time {
    do {
        return try JSONValue.string(text).decode(Time.self)
    } catch {
        throw StoreError.corrupt("\(column) holds \"\(text)\", which is not an RFC 3339 time")
    }
}

/// Runs `body`, turning SQLite and row-decoding failures into `StoreError.corrupt` naming `doing`.
func guarded<T>(_ doing: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw Store.storeError(error, while: doing())
    }
}
