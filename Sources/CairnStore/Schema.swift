import GRDB

/// The schema, as GRDB migrations run at every open. A migration, once released, is never edited:
/// a change is a new migration appended to the list.
enum Schema {
    /// Names of the indexes that carry the binding invariants; the writer maps their violations to
    /// `StoreError.invariant` with a message in words.
    static let claimBoundOnceIndex = "pv_claim_ref_uid_unique"
    static let volumeBoundOnceIndex = "pvc_volume_name_unique"
    static let resourceVersionCounter = "resourceVersion"
    /// Changes at or below this resourceVersion have been compacted away: a watch from an older one
    /// gets 410 Expired.
    static let compactedCounter = "compactedResourceVersion"

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-objects-history-fingerprints-usage") { db in
            try db.execute(sql: v1)
        }
        m.registerMigration("v2-change-log-remounts-fingerprint-kinds") { db in
            try db.execute(sql: v2)
        }
        CSISchema.register(in: &m)
        return m
    }

    // STRICT tables: SQLite refuses a value of the wrong type instead of storing it, so a row always
    // decodes. Every column of `objects` beside `body` is a copy of a field of the body; the CHECKs keep
    // the copies equal to the body, so there is one truth.
    private static let v1 = """
        CREATE TABLE counters (
            name TEXT PRIMARY KEY NOT NULL,
            value INTEGER NOT NULL CHECK (value >= 0)
        ) STRICT;
        INSERT INTO counters (name, value) VALUES ('\(resourceVersionCounter)', 0);
        -- resourceVersions never go backwards, even across restarts and restores of old rows.
        CREATE TRIGGER counters_never_decrease BEFORE UPDATE OF value ON counters
            WHEN NEW.value < OLD.value
            BEGIN SELECT RAISE(ABORT, 'counters never decrease'); END;
        CREATE TRIGGER counters_never_deleted BEFORE DELETE ON counters
            BEGIN SELECT RAISE(ABORT, 'counters are never deleted'); END;

        CREATE TABLE objects (
            kind TEXT NOT NULL,
            namespace TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL CHECK (name <> ''),
            uid TEXT NOT NULL UNIQUE CHECK (uid <> ''),
            resource_version INTEGER NOT NULL UNIQUE CHECK (resource_version > 0),
            body TEXT NOT NULL CHECK (json_valid(body)),
            PRIMARY KEY (kind, namespace, name),
            CHECK (json_extract(body, '$.kind') = kind),
            CHECK (json_extract(body, '$.metadata.name') = name),
            CHECK (coalesce(json_extract(body, '$.metadata.namespace'), '') = namespace),
            CHECK (json_extract(body, '$.metadata.uid') = uid),
            CHECK (json_extract(body, '$.metadata.resourceVersion') = CAST(resource_version AS TEXT))
        ) STRICT;

        -- Every object write takes a fresh value of the counter (taken in the same transaction).
        CREATE TRIGGER objects_insert_takes_fresh_version BEFORE INSERT ON objects
            WHEN NEW.resource_version <> (SELECT value FROM counters WHERE name = '\(resourceVersionCounter)')
            BEGIN SELECT RAISE(ABORT, 'resource_version must be the value just taken from the counter'); END;
        CREATE TRIGGER objects_update_takes_fresh_version BEFORE UPDATE ON objects
            WHEN NEW.resource_version <> (SELECT value FROM counters WHERE name = '\(resourceVersionCounter)')
            BEGIN SELECT RAISE(ABORT, 'resource_version must be the value just taken from the counter'); END;
        CREATE TRIGGER objects_uid_immutable BEFORE UPDATE OF uid ON objects
            WHEN NEW.uid <> OLD.uid
            BEGIN SELECT RAISE(ABORT, 'metadata.uid is immutable'); END;

        -- Binding invariants. A claim (by uid) is named in the claimRef of at most one volume, and a
        -- volume (by name) is named in the volumeName of at most one claim. An empty string counts as
        -- unset, as Kubernetes treats it.
        CREATE UNIQUE INDEX \(claimBoundOnceIndex)
            ON objects (nullif(json_extract(body, '$.spec.claimRef.uid'), ''))
            WHERE kind = 'PersistentVolume' AND nullif(json_extract(body, '$.spec.claimRef.uid'), '') IS NOT NULL;
        CREATE UNIQUE INDEX \(volumeBoundOnceIndex)
            ON objects (nullif(json_extract(body, '$.spec.volumeName'), ''))
            WHERE kind = 'PersistentVolumeClaim' AND nullif(json_extract(body, '$.spec.volumeName'), '') IS NOT NULL;

        -- What happened to each claim, append-only; it outlives the claim, so no foreign key.
        CREATE TABLE binding_history (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            namespace TEXT NOT NULL,
            claim TEXT NOT NULL,
            claim_uid TEXT NOT NULL,
            volume TEXT,
            node TEXT,
            pod TEXT,
            action TEXT NOT NULL
                CHECK (action IN ('provisioned','bound','mounted','unmounted','released','deleted','lost')),
            detail TEXT
        ) STRICT;
        CREATE INDEX binding_history_by_claim_uid ON binding_history (claim_uid, id);
        CREATE INDEX binding_history_by_claim ON binding_history (namespace, claim, id);
        CREATE TRIGGER binding_history_append_only BEFORE UPDATE ON binding_history
            BEGIN SELECT RAISE(ABORT, 'binding_history is append-only'); END;

        -- The last content fingerprint taken when a pod left the claim's volume.
        CREATE TABLE fingerprints (
            claim_uid TEXT PRIMARY KEY NOT NULL,
            namespace TEXT NOT NULL,
            claim TEXT NOT NULL,
            volume TEXT NOT NULL,
            pod TEXT,
            recorded_at TEXT NOT NULL,
            files INTEGER NOT NULL CHECK (files >= 0),
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            digest TEXT NOT NULL
        ) STRICT;

        -- The last usage the filesystem reported per volume (used may exceed capacity: it is a report).
        CREATE TABLE volume_usage (
            volume TEXT PRIMARY KEY NOT NULL,
            used_bytes INTEGER NOT NULL CHECK (used_bytes >= 0),
            capacity_bytes INTEGER NOT NULL CHECK (capacity_bytes >= 0),
            updated_at TEXT NOT NULL
        ) STRICT;
        """

    // The change log (what watch serves and what a restarted watch resumes from), written in the same
    // transaction as each object write; binding history with the actions a restart and an expansion
    // add; fingerprints keyed by what they describe. SQLite cannot alter a CHECK, so the two tables are
    // rebuilt, keeping every row.
    private static let v2 = """
        CREATE TABLE changes (
            resource_version INTEGER PRIMARY KEY NOT NULL CHECK (resource_version > 0),
            type TEXT NOT NULL CHECK (type IN ('ADDED','MODIFIED','DELETED')),
            kind TEXT NOT NULL,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            body TEXT NOT NULL CHECK (json_valid(body)),
            CHECK (json_extract(body, '$.metadata.resourceVersion') = CAST(resource_version AS TEXT))
        ) STRICT;
        CREATE INDEX changes_by_kind ON changes (kind, resource_version);
        CREATE INDEX changes_by_object ON changes (kind, namespace, name, resource_version);
        CREATE TRIGGER changes_append_only BEFORE UPDATE ON changes
            BEGIN SELECT RAISE(ABORT, 'changes are append-only'); END;
        -- Objects written before the change log existed have no changes: a watch starts after them.
        INSERT INTO counters (name, value)
            SELECT '\(compactedCounter)', value FROM counters WHERE name = '\(resourceVersionCounter)';

        CREATE TABLE binding_history_v2 (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            namespace TEXT NOT NULL,
            claim TEXT NOT NULL,
            claim_uid TEXT NOT NULL,
            volume TEXT,
            node TEXT,
            pod TEXT,
            action TEXT NOT NULL CHECK (action IN
                ('provisioned','bound','mounted','remounted','unmounted','expanded','released','deleted','lost')),
            detail TEXT
        ) STRICT;
        INSERT INTO binding_history_v2 SELECT id, at, namespace, claim, claim_uid, volume, node, pod, action, detail
            FROM binding_history;
        DROP TABLE binding_history;
        ALTER TABLE binding_history_v2 RENAME TO binding_history;
        CREATE INDEX binding_history_by_claim_uid ON binding_history (claim_uid, id);
        CREATE INDEX binding_history_by_claim ON binding_history (namespace, claim, id);
        CREATE TRIGGER binding_history_append_only BEFORE UPDATE ON binding_history
            BEGIN SELECT RAISE(ABORT, 'binding_history is append-only'); END;

        CREATE TABLE fingerprints_v2 (
            claim_uid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('left','arrival')),
            namespace TEXT NOT NULL,
            claim TEXT NOT NULL,
            volume TEXT NOT NULL,
            pod TEXT,
            recorded_at TEXT NOT NULL,
            files INTEGER NOT NULL CHECK (files >= 0),
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            digest TEXT NOT NULL,
            PRIMARY KEY (claim_uid, kind)
        ) STRICT;
        -- Version 1 kept what a pod found on arrival under the key "arrival:<claim uid>".
        INSERT INTO fingerprints_v2
            SELECT CASE WHEN claim_uid LIKE 'arrival:%' THEN substr(claim_uid, 9) ELSE claim_uid END,
                   CASE WHEN claim_uid LIKE 'arrival:%' THEN 'arrival' ELSE 'left' END,
                   namespace, claim, volume, pod, recorded_at, files, bytes, digest
            FROM fingerprints;
        DROP TABLE fingerprints;
        ALTER TABLE fingerprints_v2 RENAME TO fingerprints;
        """
}
