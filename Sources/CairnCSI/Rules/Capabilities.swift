/// The CSI access modes, by the spec's enum numbers. Cairn's volumes are directories on one node's
/// disk, so only the single-node modes can be served.
public enum AccessMode: Int, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    case singleNodeWriter = 1
    case singleNodeReaderOnly = 2
    case multiNodeReaderOnly = 3
    case multiNodeSingleWriter = 4
    case multiNodeMultiWriter = 5
    case singleNodeSingleWriter = 6
    case singleNodeMultiWriter = 7

    /// The spec's name, as stored and shown.
    public var description: String {
        switch self {
        case .singleNodeWriter: "SINGLE_NODE_WRITER"
        case .singleNodeReaderOnly: "SINGLE_NODE_READER_ONLY"
        case .multiNodeReaderOnly: "MULTI_NODE_READER_ONLY"
        case .multiNodeSingleWriter: "MULTI_NODE_SINGLE_WRITER"
        case .multiNodeMultiWriter: "MULTI_NODE_MULTI_WRITER"
        case .singleNodeSingleWriter: "SINGLE_NODE_SINGLE_WRITER"
        case .singleNodeMultiWriter: "SINGLE_NODE_MULTI_WRITER"
        }
    }

    public init?(name: String) {
        guard let mode = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = mode
    }

    public var isSingleNode: Bool {
        switch self {
        case .singleNodeWriter, .singleNodeReaderOnly, .singleNodeSingleWriter, .singleNodeMultiWriter: true
        case .multiNodeReaderOnly, .multiNodeSingleWriter, .multiNodeMultiWriter: false
        }
    }

    /// A reader-only mode: every mount of it is read-only, whatever `readonly` says.
    public var isReadOnly: Bool { self == .singleNodeReaderOnly || self == .multiNodeReaderOnly }

    /// Whether a second NodePublishVolume at another target path is allowed (the spec's table for a
    /// plugin with SINGLE_NODE_MULTI_WRITER: only that mode and the multi-node ones).
    public var allowsSeveralTargets: Bool { !isSingleNode || self == .singleNodeMultiWriter }

    /// The Kubernetes access mode a claim asked for to get this CSI mode (external-provisioner's
    /// mapping for a driver with SINGLE_NODE_MULTI_WRITER), for `cairn bindings`.
    public var kubernetesName: String {
        switch self {
        case .singleNodeWriter, .singleNodeMultiWriter: "ReadWriteOnce"
        case .singleNodeSingleWriter: "ReadWriteOncePod"
        case .multiNodeReaderOnly: "ReadOnlyMany"
        case .multiNodeSingleWriter, .multiNodeMultiWriter: "ReadWriteMany"
        case .singleNodeReaderOnly: "SINGLE_NODE_READER_ONLY"
        }
    }

    public static func < (a: AccessMode, b: AccessMode) -> Bool { a.rawValue < b.rawValue }
}

/// One `VolumeCapability` as the request carried it, before validation.
public struct CapabilityRequest: Sendable, Hashable {
    public enum AccessType: Sendable, Hashable {
        case mount(fsType: String, mountFlags: [String], volumeMountGroup: String)
        case block
    }

    public var accessType: AccessType?
    /// The enum number sent (0 = UNKNOWN, or a number this build does not know).
    public var accessMode: Int?

    public init(accessType: AccessType?, accessMode: Int?) {
        self.accessType = accessType
        self.accessMode = accessMode
    }
}

/// A capability Cairn can serve: a mount volume in a single-node mode.
public struct Capability: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var mode: AccessMode

    public init(mode: AccessMode) { self.mode = mode }

    /// Canonical text, stored to compare a repeated request with the first.
    public var description: String { "mount/\(mode)" }

    public static func < (a: Capability, b: Capability) -> Bool { a.mode < b.mode }
}

/// How Cairn checks a capability. A volume is a directory served through Cairn's FUSE filesystem and
/// bind-mounted, so there is no file system type to choose and no mount option to pass; a block
/// volume or a multi-node mode cannot be served and is refused with what to ask for instead.
public enum CapabilityRules {
    /// Why `request` cannot be served, or the capability it is.
    public static func check(_ request: CapabilityRequest, field: String) -> Result<Capability, CSIFailure> {
        guard let accessType = request.accessType else {
            return .failure(.invalid("\(field).access_type", "one of mount or block is required"))
        }
        switch accessType {
        case .block:
            return .failure(.invalid("\(field).block",
                "Cairn serves mount volumes only (a directory through its FUSE filesystem), not raw block devices; "
                + "use volumeMode: Filesystem"))
        case let .mount(fsType, mountFlags, volumeMountGroup):
            if !fsType.isEmpty {
                return .failure(.invalid("\(field).mount.fs_type",
                    "\"\(fsType)\" cannot be honoured: a Cairn volume is a directory served by Cairn's FUSE filesystem, "
                    + "there is no file system to make; leave fsType (csi.storage.k8s.io/fstype) unset"))
            }
            if !mountFlags.isEmpty {
                return .failure(.invalid("\(field).mount.mount_flags",
                    "\(mountFlags) cannot be honoured: Cairn bind-mounts its FUSE filesystem (always nosuid,nodev); "
                    + "remove mountOptions from the StorageClass or PersistentVolume"))
            }
            if !volumeMountGroup.isEmpty {
                return .failure(.invalid("\(field).mount.volume_mount_group",
                    "Cairn does not advertise VOLUME_MOUNT_GROUP; the pod's fsGroup is applied by the kubelet"))
            }
        }
        guard let number = request.accessMode, number != 0 else {
            return .failure(.invalid("\(field).access_mode.mode", "an access mode is required"))
        }
        guard let mode = AccessMode(rawValue: number) else {
            return .failure(.invalid("\(field).access_mode.mode", "unknown access mode \(number)"))
        }
        guard mode.isSingleNode else {
            return .failure(.invalid("\(field).access_mode.mode",
                "\(mode) is not supported: a Cairn volume lives on one node's disk; use SINGLE_NODE_WRITER, "
                + "SINGLE_NODE_SINGLE_WRITER, SINGLE_NODE_MULTI_WRITER or SINGLE_NODE_READER_ONLY "
                + "(ReadWriteOnce, ReadWriteOncePod in Kubernetes)"))
        }
        return .success(Capability(mode: mode))
    }

    /// Checks a list (CreateVolume, ValidateVolumeCapabilities): at least one, every one servable.
    /// Returns them sorted and without repeats.
    public static func checkAll(_ requests: [CapabilityRequest], field: String) -> Result<[Capability], CSIFailure> {
        guard !requests.isEmpty else { return .failure(.missing(field)) }
        var out = Set<Capability>()
        for (i, r) in requests.enumerated() {
            switch check(r, field: "\(field)[\(i)]") {
            case .success(let c): out.insert(c)
            case .failure(let f): return .failure(f)
            }
        }
        return .success(out.sorted())
    }

    /// The canonical text of a set of capabilities (what `csi_volumes.capabilities` holds).
    public static func canonical(_ capabilities: [Capability]) -> String {
        Set(capabilities).sorted().map(\.description).joined(separator: ",")
    }
}
