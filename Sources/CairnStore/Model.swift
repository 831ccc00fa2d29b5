import CairnCore
import Foundation

/// Where an object lives: its kind, its namespace ("" for cluster-scoped kinds) and its name.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    public var kind: Kind
    public var namespace: String
    public var name: String

    public init(kind: Kind, namespace: String = "", name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `persistentvolumeclaims "default/data-0"`, for logs (errors use Kubernetes' wording instead).
    public var description: String {
        namespace.isEmpty ? "\(kind.resource) \"\(name)\"" : "\(kind.resource) \"\(namespace)/\(name)\""
    }
}

/// One stored object: its key, the columns the store keeps beside the body, and the body as the JSON
/// text stored (sorted keys). `body` parses the text on demand, so a list of 10,000 objects that is only
/// served back as JSON never builds a tree.
public struct StoredObject: Sendable, Hashable {
    public var key: ObjectKey
    public var uid: String
    public var resourceVersion: Int64
    public var json: String

    public init(key: ObjectKey, uid: String, resourceVersion: Int64, json: String) {
        self.key = key
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.json = json
    }

    /// The body as a tree, or `.null` if the text does not parse (the schema only admits valid JSON, so
    /// that would mean the file was altered outside Cairn; `decodedBody()` says so as an error).
    public var body: JSONValue { (try? decodedBody()) ?? .null }

    /// The body as a tree; throws `StoreError.corrupt` if the stored text is not JSON.
    public func decodedBody() throws -> JSONValue {
        do {
            return try JSONValue.parse(json)
        } catch {
            throw StoreError.corrupt("stored body of \(key) is not valid JSON: \(error)")
        }
    }
}

/// What a change did to its object (the watch event types that come from writes).
public enum ChangeType: String, Sendable, Codable, Hashable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
}

/// One row of the change log: the object as that write left it (a deletion: as it was, stamped with
/// the deletion's resourceVersion).
public struct ChangeRecord: Sendable, Hashable {
    public var resourceVersion: Int64
    public var type: ChangeType
    public var key: ObjectKey
    public var json: String

    public init(resourceVersion: Int64, type: ChangeType, key: ObjectKey, json: String) {
        self.resourceVersion = resourceVersion
        self.type = type
        self.key = key
        self.json = json
    }
}

/// One row of `binding_history`: what happened to a claim, when, and with which volume, node and pod.
/// `id` is assigned by the store; leave it nil when appending.
public struct HistoryEntry: Sendable, Hashable {
    public var id: Int64?
    public var at: Time
    public var namespace: String
    public var claim: String
    public var claimUID: String
    public var volume: String?
    public var node: String?
    public var pod: String?
    public var action: BindingAction
    public var detail: String?

    public init(id: Int64? = nil, at: Time, namespace: String, claim: String, claimUID: String,
                volume: String? = nil, node: String? = nil, pod: String? = nil,
                action: BindingAction, detail: String? = nil) {
        self.id = id
        self.at = at
        self.namespace = namespace
        self.claim = claim
        self.claimUID = claimUID
        self.volume = volume
        self.node = node
        self.pod = pod
        self.action = action
        self.detail = detail
    }
}

/// The content fingerprint Cairn records when a pod leaves a volume: enough to tell, when the next pod
/// arrives, whether the data it finds is the data the last pod left.
public struct Fingerprint: Sendable, Hashable {
    public var claimUID: String
    public var kind: FingerprintKind
    public var namespace: String
    public var claim: String
    public var volume: String
    public var pod: String?
    public var recordedAt: Time
    public var files: Int64
    public var bytes: Int64
    public var digest: String

    public init(claimUID: String, kind: FingerprintKind, namespace: String, claim: String, volume: String, pod: String?,
                recordedAt: Time, files: Int64, bytes: Int64, digest: String) {
        self.claimUID = claimUID
        self.kind = kind
        self.namespace = namespace
        self.claim = claim
        self.volume = volume
        self.pod = pod
        self.recordedAt = recordedAt
        self.files = files
        self.bytes = bytes
        self.digest = digest
    }
}

/// The last usage figures the filesystem reported for a volume.
public struct VolumeUsageRecord: Sendable, Hashable {
    public var volume: String
    public var usedBytes: Int64
    public var capacityBytes: Int64
    public var updatedAt: Time

    public init(volume: String, usedBytes: Int64, capacityBytes: Int64, updatedAt: Time) {
        self.volume = volume
        self.usedBytes = usedBytes
        self.capacityBytes = capacityBytes
        self.updatedAt = updatedAt
    }
}

/// Every failure of the store. The first three carry Kubernetes' own messages, so the API server can
/// hand them on as a `Status` (404 NotFound, 409 AlreadyExists, 409 Conflict).
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case notFound(ObjectKey)
    case alreadyExists(ObjectKey)
    /// The string is the reason after the colon, e.g. `StoreError.objectModified`.
    case conflict(ObjectKey, String)
    /// The store refused the write: a schema constraint (a binding invariant, a unique uid) or a body
    /// the store cannot key (no name, no namespace). The message says which, in words.
    case invariant(String)
    /// The database could not be opened, read or written as expected (SQLite error, unknown schema
    /// version, a row that does not decode). Not the caller's fault; the message names the file.
    case corrupt(String)

    public static let objectModified =
        "the object has been modified; please apply your changes to the latest version and try again"

    public var description: String {
        switch self {
        case .notFound(let k): "\(k.kind.resource) \"\(k.name)\" not found"
        case .alreadyExists(let k): "\(k.kind.resource) \"\(k.name)\" already exists"
        case .conflict(let k, let why): "Operation cannot be fulfilled on \(k.kind.resource) \"\(k.name)\": \(why)"
        case .invariant(let m): m
        case .corrupt(let m): m
        }
    }
}

extension StoreError: LocalizedError {
    public var errorDescription: String? { description }
}
