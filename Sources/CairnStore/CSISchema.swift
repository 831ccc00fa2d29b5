import GRDB

/// The CSI driver's tables (`cairn csi`): the volumes this node provisioned, where each is staged, and
/// where each is published. A migration of its own, registered after the others in `Schema.migrator`;
/// once released it is never edited.
///
/// The lifecycle is in the foreign keys, so no code path can break it: a publication needs its volume
/// staged, a stage needs its volume provisioned, and `ON DELETE RESTRICT` refuses to unstage a
/// published volume or delete a staged one.
enum CSISchema {
    static let migration = "csi-v1-volumes-stages-publications"

    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration(migration) { db in try db.execute(sql: v1) }
    }

    private static let v1 = """
        -- One row per volume CreateVolume made on this node. `name` is the CO's request name
        -- (idempotency key); `directory` is the volume's directory under `data_root`.
        CREATE TABLE csi_volumes (
            volume_id TEXT PRIMARY KEY NOT NULL CHECK (volume_id <> '' AND length(CAST(volume_id AS BLOB)) <= 128),
            name TEXT NOT NULL UNIQUE CHECK (name <> ''),
            node TEXT NOT NULL CHECK (node <> ''),
            data_root TEXT NOT NULL CHECK (substr(data_root, 1, 1) = '/'),
            directory TEXT NOT NULL
                CHECK (directory <> '' AND directory NOT IN ('.', '..') AND instr(directory, '/') = 0),
            capacity_bytes INTEGER NOT NULL CHECK (capacity_bytes > 0),
            -- The capabilities CreateVolume was asked for, canonical text (a repeat must ask the same).
            capabilities TEXT NOT NULL,
            -- The CSI access mode names of those capabilities, as a JSON array.
            access_modes TEXT NOT NULL CHECK (json_valid(access_modes) AND json_type(access_modes) = 'array'),
            parameters TEXT NOT NULL CHECK (json_valid(parameters) AND json_type(parameters) = 'object'),
            claim_namespace TEXT,
            claim_name TEXT,
            persistent_volume TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (data_root, directory)
        ) STRICT;
        CREATE INDEX csi_volumes_by_node ON csi_volumes (node, volume_id);

        -- A staged volume: attached to the node's FUSE session and bind-mounted at staging_path.
        CREATE TABLE csi_stages (
            volume_id TEXT PRIMARY KEY NOT NULL REFERENCES csi_volumes (volume_id) ON DELETE RESTRICT,
            staging_path TEXT NOT NULL UNIQUE CHECK (substr(staging_path, 1, 1) = '/'),
            capability TEXT NOT NULL,
            access_mode TEXT NOT NULL,
            read_only INTEGER NOT NULL CHECK (read_only IN (0, 1)),
            staged_at TEXT NOT NULL
        ) STRICT;

        -- A published volume: its staging path bind-mounted at target_path for one workload.
        CREATE TABLE csi_publications (
            target_path TEXT PRIMARY KEY NOT NULL CHECK (substr(target_path, 1, 1) = '/'),
            volume_id TEXT NOT NULL REFERENCES csi_stages (volume_id) ON DELETE RESTRICT,
            capability TEXT NOT NULL,
            access_mode TEXT NOT NULL,
            read_only INTEGER NOT NULL CHECK (read_only IN (0, 1)),
            pod_namespace TEXT,
            pod_name TEXT,
            pod_uid TEXT,
            published_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX csi_publications_by_volume ON csi_publications (volume_id, target_path);

        -- Only SINGLE_NODE_MULTI_WRITER may be published at a second target path; every other
        -- single-node mode (SINGLE_NODE_WRITER, SINGLE_NODE_SINGLE_WRITER = Kubernetes'
        -- ReadWriteOncePod, SINGLE_NODE_READER_ONLY) allows one at a time (the CSI spec's second
        -- NodePublishVolume table).
        CREATE TRIGGER csi_publications_single_writer BEFORE INSERT ON csi_publications
            WHEN EXISTS (
                SELECT 1 FROM csi_publications p
                WHERE p.volume_id = NEW.volume_id AND p.target_path <> NEW.target_path
                  AND (p.access_mode <> 'SINGLE_NODE_MULTI_WRITER' OR NEW.access_mode <> 'SINGLE_NODE_MULTI_WRITER'))
            BEGIN SELECT RAISE(ABORT, 'csi volume is already published at another target path and its access mode allows one'); END;
        """
}
