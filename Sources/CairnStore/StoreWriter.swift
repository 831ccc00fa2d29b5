import CairnCore
import Foundation
import GRDB

/// Writes inside `Store.write` (one transaction). Each object write runs in its own savepoint, so a
/// call that throws leaves nothing behind even when the caller catches the error and goes on.
public struct StoreWriter {
    let db: Database
    private let times = TimeText()

    init(db: Database) { self.db = db }

    /// The same reads as `Store.read`, seeing this transaction's own writes.
    public var reader: StoreReader { StoreReader(db: db) }

    public func get(_ key: ObjectKey) throws -> StoredObject? { try reader.get(key) }
    public func list(kind: Kind, namespace: String? = nil) throws -> [StoredObject] {
        try reader.list(kind: kind, namespace: namespace)
    }
    public func currentResourceVersion() throws -> Int64 { try reader.currentResourceVersion() }
    public func history(claimUID: String) throws -> [HistoryEntry] { try reader.history(claimUID: claimUID) }
    public func history(namespace: String, claim: String) throws -> [HistoryEntry] {
        try reader.history(namespace: namespace, claim: claim)
    }
    public func fingerprint(claimUID: String, kind: FingerprintKind) throws -> Fingerprint? {
        try reader.fingerprint(claimUID: claimUID, kind: kind)
    }
    public func usage(volume: String) throws -> VolumeUsageRecord? { try reader.usage(volume: volume) }
    public func allUsage() throws -> [String: VolumeUsageRecord] { try reader.allUsage() }

    // MARK: - Objects

    /// Stores a new object. `body` needs `metadata.name`, and `metadata.namespace` for namespaced kinds
    /// (cluster-scoped kinds lose any namespace, as in Kubernetes). Sets `apiVersion` and `kind`, and
    /// `metadata.resourceVersion` to a new counter value; sets `metadata.uid` (a new lowercased UUID),
    /// `metadata.creationTimestamp` (`now`) and `metadata.generation` (1) unless the body has them.
    @discardableResult
    public func create(_ kind: Kind, _ body: JSONValue, now: Time) throws -> StoredObject {
        var (root, meta, key) = try parts(kind, body)
        return try atomically("creating \(key)") {
            if try reader.get(key) != nil { throw StoreError.alreadyExists(key) }
            let uid: String
            switch meta["uid"] {
            case nil, .null?:
                uid = UUID().uuidString.lowercased()
                meta["uid"] = .string(uid)
            case .string(let s)? where !s.isEmpty:
                uid = s
            case let other?:
                throw StoreError.invariant("\(key) has metadata.uid of type \(other.typeName); it must be a non-empty string")
            }
            if meta["creationTimestamp"] == nil || meta["creationTimestamp"] == .null {
                meta["creationTimestamp"] = .string(times.text(now))
            }
            if meta["generation"] == nil || meta["generation"] == .null {
                meta["generation"] = .int(1)
            }
            let version = try takeResourceVersion()
            meta["resourceVersion"] = .string(String(version))
            root["metadata"] = .object(meta)
            let json = encode(root)
            try storeRow(key, uid: uid, version: version, json: json, root: root, insert: true)
            try appendChange(.added, key, version, json)
            return StoredObject(key: key, uid: uid, resourceVersion: version, json: json)
        }
    }

    /// Replaces a stored object. If the body carries `metadata.resourceVersion` (or
    /// `requireResourceVersion` is set) it must equal the stored one, else `.conflict`. Keeps the stored
    /// uid and creationTimestamp; bumps `metadata.generation` when `spec` changed. An update that changes
    /// nothing returns the stored object as it is, with no new resourceVersion (as Kubernetes does).
    @discardableResult
    public func update(_ kind: Kind, _ body: JSONValue, requireResourceVersion: Bool = false) throws -> StoredObject {
        var (root, meta, key) = try parts(kind, body)
        return try atomically("updating \(key)") {
            guard let stored = try reader.get(key) else { throw StoreError.notFound(key) }
            switch meta["resourceVersion"] {
            case nil, .null?:
                if requireResourceVersion {
                    throw StoreError.conflict(key, "metadata.resourceVersion must be specified for an update")
                }
            case let given?:
                let text = given.stringValue ?? (given == .int(stored.resourceVersion) ? String(stored.resourceVersion) : "")
                if text != String(stored.resourceVersion) { throw StoreError.conflict(key, StoreError.objectModified) }
            }
            if let given = meta["uid"], given != .null, given != .string(stored.uid) {
                throw StoreError.conflict(key, "Precondition failed: UID in precondition: "
                    + "\(given.stringValue ?? given.jsonText()), UID in object meta: \(stored.uid)")
            }
            let storedBody = try stored.decodedBody()
            let storedMeta = storedBody["metadata"]?.objectValue ?? [:]
            meta["uid"] = .string(stored.uid)
            meta["creationTimestamp"] = storedMeta["creationTimestamp"]
            var generation = storedGeneration(storedMeta)
            if canonical(root["spec"]) != canonical(storedBody["spec"]) { generation += 1 }
            meta["generation"] = .int(generation)

            // No-op check: the body as it would be stored under the old resourceVersion.
            meta["resourceVersion"] = .string(String(stored.resourceVersion))
            root["metadata"] = .object(meta)
            if encode(root) == stored.json { return stored }

            let version = try takeResourceVersion()
            meta["resourceVersion"] = .string(String(version))
            root["metadata"] = .object(meta)
            let json = encode(root)
            try storeRow(key, uid: stored.uid, version: version, json: json, root: root, insert: false)
            try appendChange(.modified, key, version, json)
            return StoredObject(key: key, uid: stored.uid, resourceVersion: version, json: json)
        }
    }

    /// Deletes an object and returns it as it was, stamped with the resourceVersion of the deletion
    /// (what a watcher sees). `preconditionUID` guards against deleting a re-created namesake.
    @discardableResult
    public func delete(_ key: ObjectKey, preconditionUID: String? = nil) throws -> StoredObject {
        try atomically("deleting \(key)") {
            guard let stored = try reader.get(key) else { throw StoreError.notFound(key) }
            if let preconditionUID, preconditionUID != stored.uid {
                throw StoreError.conflict(key, "Precondition failed: UID in precondition: \(preconditionUID), "
                    + "UID in object meta: \(stored.uid)")
            }
            let version = try takeResourceVersion()
            let statement = try db.cachedStatement(sql: "DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?")
            try statement.execute(arguments: [key.kind.rawValue, key.namespace, key.name])
            var body = try stored.decodedBody()
            body["metadata"]?["resourceVersion"] = .string(String(version))
            let json = body.jsonText()
            try appendChange(.deleted, key, version, json)
            return StoredObject(key: key, uid: stored.uid, resourceVersion: version, json: json)
        }
    }

    // MARK: - Change log

    /// Removes the oldest changes so that at most `retain` remain, and records how far the log now
    /// reaches back (a watch from before that gets 410 Expired). Returns how many were removed.
    @discardableResult
    public func compactChanges(retain: Int) throws -> Int {
        try guarded("compacting the change log") {
            let current = try reader.currentResourceVersion()
            let compacted = try reader.compactedResourceVersion()
            guard let oldestKept = try Int64.fetchOne(db, sql: """
                SELECT resource_version FROM changes ORDER BY resource_version DESC LIMIT 1 OFFSET ?
                """, arguments: [max(retain, 1) - 1]) else { return 0 }
            let cutoff = min(oldestKept - 1, current)
            guard cutoff > compacted else { return 0 }
            try db.execute(sql: "DELETE FROM changes WHERE resource_version <= ?", arguments: [cutoff])
            let removed = db.changesCount
            try db.execute(sql: "UPDATE counters SET value = ? WHERE name = ?", arguments: [cutoff, Schema.compactedCounter])
            return removed
        }
    }

    private func appendChange(_ type: ChangeType, _ key: ObjectKey, _ version: Int64, _ json: String) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO changes (resource_version, type, kind, namespace, name, body) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [version, type.rawValue, key.kind.rawValue, key.namespace, key.name, json])
    }

    // MARK: - History, fingerprints, usage

    /// Appends one entry to the binding history; returns its id. `entry.id` is ignored.
    @discardableResult
    public func appendHistory(_ entry: HistoryEntry) throws -> Int64 {
        try guarded("recording \(entry.action.rawValue) of claim \(entry.namespace)/\(entry.claim)") {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO binding_history (at, namespace, claim, claim_uid, volume, node, pod, action, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            try statement.execute(arguments: [
                times.text(entry.at), entry.namespace, entry.claim, entry.claimUID, entry.volume,
                entry.node, entry.pod, entry.action.rawValue, entry.detail,
            ])
            return db.lastInsertedRowID
        }
    }

    /// Records a fingerprint of a claim's volume, replacing the previous one of that kind for that claim.
    public func recordFingerprint(_ f: Fingerprint) throws {
        guard f.files >= 0, f.bytes >= 0 else {
            throw StoreError.invariant("fingerprint of claim \(f.namespace)/\(f.claim) has negative counts "
                + "(files \(f.files), bytes \(f.bytes))")
        }
        try guarded("recording the fingerprint of claim \(f.namespace)/\(f.claim)") {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO fingerprints (claim_uid, kind, namespace, claim, volume, pod, recorded_at, files, bytes, digest)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (claim_uid, kind) DO UPDATE SET
                    namespace = excluded.namespace, claim = excluded.claim, volume = excluded.volume,
                    pod = excluded.pod, recorded_at = excluded.recorded_at, files = excluded.files,
                    bytes = excluded.bytes, digest = excluded.digest
                """)
            try statement.execute(arguments: [
                f.claimUID, f.kind.rawValue, f.namespace, f.claim, f.volume, f.pod, times.text(f.recordedAt), f.files,
                f.bytes, f.digest,
            ])
        }
    }

    /// Records the latest usage figures of a volume, replacing the previous ones.
    public func recordUsage(volume: String, used: Int64, capacity: Int64, at: Time) throws {
        guard used >= 0, capacity >= 0 else {
            throw StoreError.invariant("usage of volume \(volume) has negative figures (used \(used), capacity \(capacity))")
        }
        try guarded("recording the usage of volume \(volume)") {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO volume_usage (volume, used_bytes, capacity_bytes, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (volume) DO UPDATE SET
                    used_bytes = excluded.used_bytes, capacity_bytes = excluded.capacity_bytes,
                    updated_at = excluded.updated_at
                """)
            try statement.execute(arguments: [volume, used, capacity, times.text(at)])
        }
    }

    // MARK: - Helpers

    /// Splits a body into its root object, its metadata and its key, and sets apiVersion and kind.
    private func parts(_ kind: Kind, _ body: JSONValue) throws
        -> (root: [String: JSONValue], meta: [String: JSONValue], key: ObjectKey)
    {
        guard case .object(var root) = body else {
            throw StoreError.invariant("a \(kind.rawValue) must be a JSON object, not \(body.typeName)")
        }
        var meta: [String: JSONValue]
        switch root["metadata"] {
        case .object(let m)?: meta = m
        case nil, .null?: meta = [:]
        case let other?: throw StoreError.invariant("\(kind.rawValue) metadata must be an object, not \(other.typeName)")
        }
        guard let name = meta["name"]?.stringValue, !name.isEmpty else {
            throw StoreError.invariant("\(kind.rawValue): metadata.name: Required value: name is required")
        }
        var namespace = ""
        if kind.namespaced {
            guard let ns = meta["namespace"]?.stringValue, !ns.isEmpty else {
                throw StoreError.invariant(
                    "\(kind.resource) \"\(name)\": metadata.namespace: Required value: \(kind.rawValue) is namespaced")
            }
            namespace = ns
        } else {
            meta["namespace"] = nil
        }
        root["apiVersion"] = .string(kind.apiVersion)
        root["kind"] = .string(kind.rawValue)
        return (root, meta, ObjectKey(kind: kind, namespace: namespace, name: name))
    }

    /// Runs one object write in a savepoint; any failure undoes just that write and surfaces as a
    /// StoreError.
    private func atomically<T>(_ doing: String, _ body: () throws -> T) throws -> T {
        var result: T?
        try guarded(doing) {
            try db.inSavepoint {
                result = try body()
                return .commit
            }
        }
        guard let result else { throw StoreError.corrupt("internal: \(doing) produced no result") }
        return result
    }

    /// Increments the global counter and returns its new value.
    private func takeResourceVersion() throws -> Int64 {
        let statement = try db.cachedStatement(sql: "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value")
        guard let value = try Int64.fetchOne(statement, arguments: [Schema.resourceVersionCounter]) else {
            throw StoreError.corrupt("the resourceVersion counter row is missing from the counters table")
        }
        return value
    }

    private func encode(_ root: [String: JSONValue]) -> String {
        JSONText.string(.object(root))
    }

    private func canonical(_ value: JSONValue?) -> String {
        guard let value, value != .null else { return "null" }
        // JSONText writes a whole double as an integer, so 1 and 1.0 (or a tree and its re-parsed
        // text) already come out as the same text.
        return value.jsonText()
    }

    private func storedGeneration(_ meta: [String: JSONValue]) -> Int64 {
        switch meta["generation"] {
        case .int(let g)?: g
        case .double(let d)? where d.rounded() == d && abs(d) < 1e15: Int64(d)
        default: 1
        }
    }

    /// Inserts or updates the row, translating constraint violations into errors that name the objects.
    private func storeRow(_ key: ObjectKey, uid: String, version: Int64, json: String,
                          root: [String: JSONValue], insert: Bool) throws {
        do {
            if insert {
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO objects (kind, namespace, name, uid, resource_version, body) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                try statement.execute(arguments: [key.kind.rawValue, key.namespace, key.name, uid, version, json])
            } else {
                let statement = try db.cachedStatement(sql: """
                    UPDATE objects SET uid = ?, resource_version = ?, body = ?
                    WHERE kind = ? AND namespace = ? AND name = ?
                    """)
                try statement.execute(arguments: [uid, version, json, key.kind.rawValue, key.namespace, key.name])
            }
        } catch let error as DatabaseError {
            throw try refusal(error, key: key, uid: uid, root: root)
        }
    }

    private func refusal(_ error: DatabaseError, key: ObjectKey, uid: String, root: [String: JSONValue]) throws -> StoreError {
        let message = error.message ?? ""
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_PRIMARYKEY:
            return .alreadyExists(key)
        case .SQLITE_CONSTRAINT_UNIQUE where message.contains(Schema.volumeBoundOnceIndex):
            let volume = root["spec"]?["volumeName"]?.stringValue ?? "?"
            let holder = try String.fetchOne(db, sql: """
                SELECT namespace || '/' || name FROM objects
                WHERE kind = 'PersistentVolumeClaim' AND nullif(json_extract(body, '$.spec.volumeName'), '') = ?
                """, arguments: [volume])
            return .invariant("persistentvolumeclaim \"\(key.namespace)/\(key.name)\" cannot be bound to volume "
                + "\"\(volume)\": persistentvolume \"\(volume)\" is already bound to another claim"
                + (holder.map { " (persistentvolumeclaim \"\($0)\")" } ?? ""))
        case .SQLITE_CONSTRAINT_UNIQUE where message.contains(Schema.claimBoundOnceIndex):
            let ref = root["spec"]?["claimRef"]
            let claimUID = ref?["uid"]?.stringValue ?? "?"
            let claim = "\(ref?["namespace"]?.stringValue ?? "?")/\(ref?["name"]?.stringValue ?? "?")"
            let holder = try String.fetchOne(db, sql: """
                SELECT name FROM objects
                WHERE kind = 'PersistentVolume' AND nullif(json_extract(body, '$.spec.claimRef.uid'), '') = ?
                """, arguments: [claimUID])
            return .invariant("persistentvolume \"\(key.name)\" cannot be bound to claim \"\(claim)\" (uid \(claimUID)): "
                + "persistentvolumeclaim \"\(claim)\" is already bound to another volume"
                + (holder.map { " (persistentvolume \"\($0)\")" } ?? ""))
        case .SQLITE_CONSTRAINT_UNIQUE where message.contains("objects.uid"):
            let holder = try Row.fetchOne(db, sql: "SELECT kind, namespace, name FROM objects WHERE uid = ?", arguments: [uid])
            let holderText = holder.map { row -> String in
                let kind = Kind(rawValue: (try? row.decode(String.self, atIndex: 0)) ?? "").map(\.resource) ?? "object"
                let ns = (try? row.decode(String.self, atIndex: 1)) ?? ""
                let name = (try? row.decode(String.self, atIndex: 2)) ?? ""
                return "\(kind) \"\(ns.isEmpty ? name : "\(ns)/\(name)")\""
            } ?? "another object"
            return .invariant("\(key) cannot use uid \(uid): it belongs to \(holderText)")
        case let code where code.primaryResultCode == .SQLITE_CONSTRAINT:
            return .invariant("the store refused \(key): \(message)")
        default:
            return .corrupt("SQLite error while writing \(key): \(Store.describe(error))")
        }
    }
}

/// `Time.description` builds a date formatter on every call (about 70 µs on Linux, most of the cost of a
/// create); a transaction usually stamps one `now` on everything it writes, so the last text is kept.
private final class TimeText {
    private var last: (Time, String)?

    func text(_ time: Time) -> String {
        if let last, last.0 == time { return last.1 }
        let text = time.description
        last = (time, text)
        return text
    }
}

@available(*, unavailable, message: "a StoreWriter is only valid inside the closure it was given to")
extension StoreWriter: Sendable {}
