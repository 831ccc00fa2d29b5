/// `CapacityRange` as CSI defines it: 0 means unspecified, negatives are invalid.
public struct CapacityRange: Sendable, Hashable {
    public var requiredBytes: Int64
    public var limitBytes: Int64

    public init(requiredBytes: Int64 = 0, limitBytes: Int64 = 0) {
        self.requiredBytes = requiredBytes
        self.limitBytes = limitBytes
    }

    /// Whether a volume of `bytes` satisfies the range.
    public func admits(_ bytes: Int64) -> Bool {
        (requiredBytes == 0 || bytes >= requiredBytes) && (limitBytes == 0 || bytes <= limitBytes)
    }
}

/// The sizes Cairn gives volumes, and whether a node has room for them. A node offers a fixed amount
/// of storage (its data root's filesystem size, or `--capacity`), and the capacity of every volume on
/// it counts against that whether or not the volume is full: Cairn never promises more than the node
/// has, as in embedded mode.
public enum CapacityRules {
    /// A volume created without a capacity range gets this much (1 GiB), or its limit if smaller.
    public static let defaultBytes: Int64 = 1 << 30

    /// Checks the range on its own: no negatives, limit not below required.
    public static func check(_ range: CapacityRange, field: String = "capacity_range") -> CSIFailure? {
        if range.requiredBytes < 0 {
            return CSIFailure(.outOfRange, "\(field).required_bytes is \(range.requiredBytes); it must not be negative")
        }
        if range.limitBytes < 0 {
            return CSIFailure(.outOfRange, "\(field).limit_bytes is \(range.limitBytes); it must not be negative")
        }
        if range.requiredBytes > 0, range.limitBytes > 0, range.limitBytes < range.requiredBytes {
            return CSIFailure(.outOfRange,
                "\(field): limit_bytes \(range.limitBytes) is below required_bytes \(range.requiredBytes); no size satisfies both")
        }
        return nil
    }

    /// The capacity of a new volume: what is required, else the default capped by the limit.
    public static func newVolumeSize(_ range: CapacityRange?) -> Result<Int64, CSIFailure> {
        guard let range else { return .success(defaultBytes) }
        if let failure = check(range) { return .failure(failure) }
        if range.requiredBytes > 0 { return .success(range.requiredBytes) }
        if range.limitBytes > 0 { return .success(min(defaultBytes, range.limitBytes)) }
        return .success(defaultBytes)
    }

    /// Storage of the node not yet promised to a volume.
    public static func free(nodeCapacity: Int64, provisioned: Int64) -> Int64 {
        max(0, nodeCapacity - provisioned)
    }

    /// Refuses `bytes` more on a node that has `free` left. `code` is the spec's code for the RPC:
    /// RESOURCE_EXHAUSTED for CreateVolume (external-provisioner then reschedules the claim to another
    /// node), OUT_OF_RANGE for the expansion RPCs.
    public static func room(for bytes: Int64, free: Int64, node: String, code: CSIFailure.Code,
                            what: String) -> CSIFailure? {
        guard bytes > free else { return nil }
        return CSIFailure(code,
            "node \(node) has \(free) bytes of storage not yet promised to volumes, \(what) needs \(bytes); "
            + "free some (delete volumes) or give the node more (--capacity)")
    }

    /// The capacity after an expansion: at least the current one (CSI volumes never shrink; a smaller
    /// request is already satisfied), at least what is required, and within the limit.
    public static func expandedSize(current: Int64, range: CapacityRange, field: String = "capacity_range")
        -> Result<Int64, CSIFailure>
    {
        if let failure = check(range, field: field) { return .failure(failure) }
        let target = max(current, range.requiredBytes)
        if range.limitBytes > 0, target > range.limitBytes {
            return .failure(CSIFailure(.outOfRange,
                "\(field).limit_bytes \(range.limitBytes) is below the volume's capacity \(current); "
                + "volumes cannot shrink"))
        }
        return .success(target)
    }
}
