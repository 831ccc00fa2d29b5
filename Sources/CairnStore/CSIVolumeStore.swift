import CairnCore
import Foundation
import GRDB

/// A volume the CSI driver provisioned on its node (`csi_volumes`).
public struct CSIVolumeRecord: Sendable, Hashable {
    public var volumeID: String
    /// The CO's request name: the idempotency key of CreateVolume.
    public var name: String
    public var node: String
    public var dataRoot: String
    /// One path component under `dataRoot`.
    public var directory: String
    public var capacityBytes: Int64
    /// The requested capabilities in the driver's canonical text; a repeated CreateVolume must match.
    public var capabilities: String
    /// CSI access mode names (`SINGLE_NODE_WRITER`, ...), sorted.
    public var accessModes: [String]
    public var parameters: [String: String]
    /// From external-provisioner's `csi.storage.k8s.io/pvc/namespace|name` and `pv/name` parameters.
    public var claimNamespace: String?
    public var claimName: String?
    public var persistentVolume: String?
    public var createdAt: Time

    public init(volumeID: String, name: String, node: String, dataRoot: String, directory: String,
                capacityBytes: Int64, capabilities: String, accessModes: [String], parameters: [String: String],
                claimNamespace: String?, claimName: String?, persistentVolume: String?, createdAt: Time) {
        self.volumeID = volumeID
        self.name = name
        self.node = node
        self.dataRoot = dataRoot
        self.directory = directory
        self.capacityBytes = capacityBytes
        self.capabilities = capabilities
        self.accessModes = accessModes
        self.parameters = parameters
        self.claimNamespace = claimNamespace
        self.claimName = claimName
        self.persistentVolume = persistentVolume
        self.createdAt = createdAt
    }

    /// The volume's directory: `<dataRoot>/<directory>`.
    public var path: String { dataRoot.hasSuffix("/") ? dataRoot + directory : dataRoot + "/" + directory }
}

/// A staged volume (`csi_stages`): attached to the node's FUSE session, bound at `stagingPath`.
public struct CSIStageRecord: Sendable, Hashable {
    public var volumeID: String
    public var stagingPath: String
    public var capability: String
    public var accessMode: String
    public var readOnly: Bool
    public var stagedAt: Time

    public init(volumeID: String, stagingPath: String, capability: String, accessMode: String, readOnly: Bool,
                stagedAt: Time) {
        self.volumeID = volumeID
        self.stagingPath = stagingPath
        self.capability = capability
        self.accessMode = accessMode
        self.readOnly = readOnly
        self.stagedAt = stagedAt
    }
}

/// A published volume (`csi_publications`): the staging path bound at `targetPath` for one workload.
public struct CSIPublicationRecord: Sendable, Hashable {
    public var targetPath: String
    public var volumeID: String
    public var capability: String
    public var accessMode: String
    public var readOnly: Bool
    public var podNamespace: String?
    public var podName: String?
    public var podUID: String?
    public var publishedAt: Time

    public init(targetPath: String, volumeID: String, capability: String, accessMode: String, readOnly: Bool,
                podNamespace: String?, podName: String?, podUID: String?, publishedAt: Time) {
        self.targetPath = targetPath
        self.volumeID = volumeID
        self.capability = capability
        self.accessMode = accessMode
        self.readOnly = readOnly
        self.podNamespace = podNamespace
        self.podName = podName
        self.podUID = podUID
        self.publishedAt = publishedAt
    }
}

// MARK: - Reads

extension StoreReader {
    public func csiVolume(id: String) throws -> CSIVolumeRecord? {
        try guarded("reading csi volume \(id)") {
            try Row.fetchOne(db, sql: "SELECT * FROM csi_volumes WHERE volume_id = ?", arguments: [id]).map(csiVolume)
        }
    }

    public func csiVolume(name: String) throws -> CSIVolumeRecord? {
        try guarded("reading csi volume named \(name)") {
            try Row.fetchOne(db, sql: "SELECT * FROM csi_volumes WHERE name = ?", arguments: [name]).map(csiVolume)
        }
    }

    /// Every volume of `node`, sorted by volume id (the order ListVolumes pages through).
    public func csiVolumes(node: String) throws -> [CSIVolumeRecord] {
        try guarded("listing the csi volumes of node \(node)") {
            try Row.fetchAll(db, sql: "SELECT * FROM csi_volumes WHERE node = ? ORDER BY volume_id", arguments: [node])
                .map(csiVolume)
        }
    }

    /// The capacity promised to the volumes of `node`: what a new volume or an expansion must fit beside.
    public func csiProvisionedBytes(node: String) throws -> Int64 {
        try guarded("summing the csi volumes of node \(node)") {
            try Int64.fetchOne(db, sql: "SELECT coalesce(sum(capacity_bytes), 0) FROM csi_volumes WHERE node = ?",
                               arguments: [node]) ?? 0
        }
    }

    public func csiStage(volumeID: String) throws -> CSIStageRecord? {
        try guarded("reading the stage of csi volume \(volumeID)") {
            try Row.fetchOne(db, sql: "SELECT * FROM csi_stages WHERE volume_id = ?", arguments: [volumeID]).map(csiStage)
        }
    }

    public func csiStage(stagingPath: String) throws -> CSIStageRecord? {
        try guarded("reading the stage at \(stagingPath)") {
            try Row.fetchOne(db, sql: "SELECT * FROM csi_stages WHERE staging_path = ?", arguments: [stagingPath])
                .map(csiStage)
        }
    }

    /// Every stage, sorted by volume id.
    public func csiStages() throws -> [CSIStageRecord] {
        try guarded("listing csi stages") {
            try Row.fetchAll(db, sql: "SELECT * FROM csi_stages ORDER BY volume_id").map(csiStage)
        }
    }

    public func csiPublication(targetPath: String) throws -> CSIPublicationRecord? {
        try guarded("reading the publication at \(targetPath)") {
            try Row.fetchOne(db, sql: "SELECT * FROM csi_publications WHERE target_path = ?", arguments: [targetPath])
                .map(csiPublication)
        }
    }

    /// The publications of one volume, or (nil) of all volumes, sorted by volume id then target path.
    public func csiPublications(volumeID: String? = nil) throws -> [CSIPublicationRecord] {
        try guarded("listing csi publications") {
            if let volumeID {
                return try Row.fetchAll(db, sql: "SELECT * FROM csi_publications WHERE volume_id = ? ORDER BY target_path",
                                        arguments: [volumeID]).map(csiPublication)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM csi_publications ORDER BY volume_id, target_path")
                .map(csiPublication)
        }
    }

    // MARK: decoding

    private func csiVolume(_ row: Row) throws -> CSIVolumeRecord {
        let id: String = row["volume_id"]
        let modesText: String = row["access_modes"]
        let parametersText: String = row["parameters"]
        guard let modes = try? JSONDecoder().decode([String].self, from: Data(modesText.utf8)) else {
            throw StoreError.corrupt("csi_volumes.access_modes of volume \(id) is not a JSON array of strings")
        }
        guard let parameters = try? JSONDecoder().decode([String: String].self, from: Data(parametersText.utf8)) else {
            throw StoreError.corrupt("csi_volumes.parameters of volume \(id) is not a JSON object of strings")
        }
        return CSIVolumeRecord(
            volumeID: id, name: row["name"], node: row["node"], dataRoot: row["data_root"],
            directory: row["directory"], capacityBytes: row["capacity_bytes"], capabilities: row["capabilities"],
            accessModes: modes, parameters: parameters, claimNamespace: row["claim_namespace"],
            claimName: row["claim_name"], persistentVolume: row["persistent_volume"],
            createdAt: try storedTime(row["created_at"], "csi_volumes.created_at of volume \(id)"))
    }

    private func csiStage(_ row: Row) throws -> CSIStageRecord {
        let id: String = row["volume_id"]
        return CSIStageRecord(
            volumeID: id, stagingPath: row["staging_path"], capability: row["capability"],
            accessMode: row["access_mode"], readOnly: (row["read_only"] as Int64) != 0,
            stagedAt: try storedTime(row["staged_at"], "csi_stages.staged_at of volume \(id)"))
    }

    private func csiPublication(_ row: Row) throws -> CSIPublicationRecord {
        let path: String = row["target_path"]
        return CSIPublicationRecord(
            targetPath: path, volumeID: row["volume_id"], capability: row["capability"],
            accessMode: row["access_mode"], readOnly: (row["read_only"] as Int64) != 0,
            podNamespace: row["pod_namespace"], podName: row["pod_name"], podUID: row["pod_uid"],
            publishedAt: try storedTime(row["published_at"], "csi_publications.published_at of \(path)"))
    }
}

// MARK: - Writes

extension StoreWriter {
    public func csiVolume(id: String) throws -> CSIVolumeRecord? { try reader.csiVolume(id: id) }
    public func csiVolume(name: String) throws -> CSIVolumeRecord? { try reader.csiVolume(name: name) }
    public func csiProvisionedBytes(node: String) throws -> Int64 { try reader.csiProvisionedBytes(node: node) }
    public func csiStage(volumeID: String) throws -> CSIStageRecord? { try reader.csiStage(volumeID: volumeID) }
    public func csiStage(stagingPath: String) throws -> CSIStageRecord? { try reader.csiStage(stagingPath: stagingPath) }
    public func csiPublication(targetPath: String) throws -> CSIPublicationRecord? {
        try reader.csiPublication(targetPath: targetPath)
    }
    public func csiPublications(volumeID: String? = nil) throws -> [CSIPublicationRecord] {
        try reader.csiPublications(volumeID: volumeID)
    }

    public func insertCSIVolume(_ v: CSIVolumeRecord) throws {
        let modes = String(decoding: try JSONEncoder().encode(v.accessModes), as: UTF8.self)
        let parameters = String(decoding: try JSONCoding.encoder.encode(v.parameters), as: UTF8.self)
        try csiWrite("recording csi volume \(v.volumeID)") {
            try db.execute(sql: """
                INSERT INTO csi_volumes (volume_id, name, node, data_root, directory, capacity_bytes, capabilities,
                    access_modes, parameters, claim_namespace, claim_name, persistent_volume, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    v.volumeID, v.name, v.node, v.dataRoot, v.directory, v.capacityBytes, v.capabilities, modes,
                    parameters, v.claimNamespace, v.claimName, v.persistentVolume, v.createdAt.description,
                ])
        }
    }

    public func setCSIVolumeCapacity(id: String, bytes: Int64) throws {
        try csiWrite("setting the capacity of csi volume \(id)") {
            try db.execute(sql: "UPDATE csi_volumes SET capacity_bytes = ? WHERE volume_id = ?", arguments: [bytes, id])
            if db.changesCount == 0 { throw StoreError.invariant("csi volume \(id) does not exist") }
        }
    }

    /// Removes the volume's row; refused while it is staged.
    public func deleteCSIVolume(id: String) throws {
        try csiWrite("deleting csi volume \(id)") {
            try db.execute(sql: "DELETE FROM csi_volumes WHERE volume_id = ?", arguments: [id])
        }
    }

    public func insertCSIStage(_ s: CSIStageRecord) throws {
        try csiWrite("recording the stage of csi volume \(s.volumeID) at \(s.stagingPath)") {
            try db.execute(sql: """
                INSERT INTO csi_stages (volume_id, staging_path, capability, access_mode, read_only, staged_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [s.volumeID, s.stagingPath, s.capability, s.accessMode, s.readOnly ? 1 : 0,
                                 s.stagedAt.description])
        }
    }

    /// Removes the stage row; refused while the volume is published.
    public func deleteCSIStage(volumeID: String) throws {
        try csiWrite("removing the stage of csi volume \(volumeID)") {
            try db.execute(sql: "DELETE FROM csi_stages WHERE volume_id = ?", arguments: [volumeID])
        }
    }

    public func insertCSIPublication(_ p: CSIPublicationRecord) throws {
        try csiWrite("recording the publication of csi volume \(p.volumeID) at \(p.targetPath)") {
            try db.execute(sql: """
                INSERT INTO csi_publications (target_path, volume_id, capability, access_mode, read_only,
                    pod_namespace, pod_name, pod_uid, published_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [p.targetPath, p.volumeID, p.capability, p.accessMode, p.readOnly ? 1 : 0,
                                 p.podNamespace, p.podName, p.podUID, p.publishedAt.description])
        }
    }

    public func deleteCSIPublication(targetPath: String) throws {
        try csiWrite("removing the publication at \(targetPath)") {
            try db.execute(sql: "DELETE FROM csi_publications WHERE target_path = ?", arguments: [targetPath])
        }
    }

    /// One write in its own savepoint; a constraint the schema enforces becomes `.invariant` in words.
    private func csiWrite(_ doing: String, _ body: () throws -> Void) throws {
        do {
            try db.inSavepoint {
                try body()
                return .commit
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.invariant("\(doing) was refused: \(Self.constraintText(error))")
        } catch let error as DatabaseError {
            throw StoreError.corrupt("SQLite error while \(doing): \(Store.describe(error))")
        }
    }

    private static func constraintText(_ error: DatabaseError) -> String {
        let message = error.message ?? "constraint failed"
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return "the volume is still staged or published (\(message))"
        default:
            return message
        }
    }
}
