import CairnCore
import Crypto

/// What CreateVolume's parameters ask for, checked.
public struct VolumeParameters: Sendable, Hashable {
    /// The claim the volume is for, from external-provisioner's `--extra-create-metadata`.
    public struct Claim: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var persistentVolume: String
    }

    public var dirMode: UInt32
    public var claim: Claim?
}

/// Names: the volume id Cairn hands out, the directory a volume gets, and the parameters that decide
/// them. A person reading a node's data root must be able to tell whose each directory is, so a
/// volume made for a claim is `<pv name>_<namespace>_<claim>` (the same as embedded mode's
/// `pvc-<claim uid>_<namespace>_<claim>`: external-provisioner names the PV `pvc-<claim uid>`).
public enum VolumeNaming {
    public static let claimNameKey = "csi.storage.k8s.io/pvc/name"
    public static let claimNamespaceKey = "csi.storage.k8s.io/pvc/namespace"
    public static let persistentVolumeKey = "csi.storage.k8s.io/pv/name"
    /// Kubernetes' reserved prefix: external-provisioner's own keys, never a user's.
    static let kubernetesPrefix = "csi.storage.k8s.io/"
    static let dirModeKey = "dirMode"
    static let defaultDirMode: UInt32 = 0o777
    /// Longest name one directory entry may have (NAME_MAX).
    static let maxDirectoryBytes = 255
    /// CSI's general size limit for a string field.
    static let maxNameBytes = 128

    /// The volume id for a request name: the name itself when it is already a safe directory and
    /// FUSE entry name (what external-provisioner sends: `pvc-<uid>`), else `csi-` and 32 hex digits
    /// of its SHA-256. The same name always gives the same id.
    public static func volumeID(requestName name: String) -> Result<String, CSIFailure> {
        if name.isEmpty { return .failure(.missing("name")) }
        if name.utf8.count > maxNameBytes {
            return .failure(.invalid("name", "\(name.utf8.count) bytes is longer than CSI's limit of \(maxNameBytes)"))
        }
        if let banned = name.unicodeScalars.first(where: isBanned) {
            return .failure(.invalid("name", "contains the control character U+\(String(banned.value, radix: 16, uppercase: true)), which CSI does not allow"))
        }
        if isSafeComponent(name) { return .success(name) }
        let digest = SHA256.hash(data: Array(name.utf8))
        return .success("csi-" + digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined())
    }

    /// Checks the parameters: `dirMode` (octal, default 0777), Kubernetes' `csi.storage.k8s.io/*`
    /// keys (the claim metadata is used, the rest are Kubernetes' own and ignored). Anything else is
    /// refused rather than silently dropped.
    public static func parameters(_ parameters: [String: String]) -> Result<VolumeParameters, CSIFailure> {
        var mode = defaultDirMode
        for key in parameters.keys.sorted() {
            let value = parameters[key]!
            if key.hasPrefix(kubernetesPrefix) { continue }
            switch key {
            case dirModeKey:
                guard let m = UInt32(value, radix: 8), m <= 0o7777, !value.isEmpty else {
                    return .failure(.invalid("parameters.dirMode", "\"\(value)\" is not an octal mode such as \"0777\" or \"0750\""))
                }
                mode = m
            case "placement":
                return .failure(.invalid("parameters.placement",
                    "in CSI mode the Kubernetes scheduler places volumes (each node provisions the claims scheduled "
                    + "to it); remove placement from the StorageClass"))
            default:
                return .failure(.invalid("parameters.\(key)",
                    "unknown parameter; Cairn's StorageClass parameters are \(dirModeKey) (octal, e.g. \"0750\")"))
            }
        }
        let claimKeys = [claimNamespaceKey, claimNameKey, persistentVolumeKey]
        let present = claimKeys.filter { parameters[$0] != nil }
        guard !present.isEmpty else { return .success(VolumeParameters(dirMode: mode, claim: nil)) }
        if let missing = claimKeys.first(where: { parameters[$0] == nil }) {
            return .failure(.invalid("parameters.\(missing)",
                "required with \(present.joined(separator: ", ")) (external-provisioner's --extra-create-metadata sends all three)"))
        }
        let namespace = parameters[claimNamespaceKey]!, claim = parameters[claimNameKey]!
        let pv = parameters[persistentVolumeKey]!
        if let problem = Names.isDNS1123Label(namespace).first {
            return .failure(.invalid("parameters.\(claimNamespaceKey)", "\"\(namespace)\": \(problem)"))
        }
        for (key, value) in [(claimNameKey, claim), (persistentVolumeKey, pv)] {
            if let problem = Names.isDNS1123Subdomain(value).first {
                return .failure(.invalid("parameters.\(key)", "\"\(value)\": \(problem)"))
            }
        }
        return .success(VolumeParameters(dirMode: mode, claim: .init(namespace: namespace, name: claim, persistentVolume: pv)))
    }

    /// The directory of a volume: `<pv>_<namespace>_<claim>` for a claim (the claim's name shortened
    /// if the whole would pass NAME_MAX; the PV name keeps it unique), else the volume id.
    public static func directory(volumeID: String, claim: VolumeParameters.Claim?) -> String {
        guard let claim else { return volumeID }
        let head = "\(claim.persistentVolume)_\(claim.namespace)_"
        let room = maxDirectoryBytes - head.utf8.count
        // DNS-1123 names are ASCII, so a byte prefix is a character prefix.
        return head + String(claim.name.prefix(max(0, room)))
    }

    /// The claim uid a PV name `pvc-<uid>` carries (external-provisioner's default naming), for the
    /// binding history; nil for other names.
    public static func claimUID(persistentVolume: String) -> String? {
        guard persistentVolume.hasPrefix("pvc-") else { return nil }
        let uid = String(persistentVolume.dropFirst(4))
        let groups = uid.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], uid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        return uid.lowercased()
    }

    /// Letters, digits, `.`, `_`, `-`, not starting with `.`: a name that is a directory, a FUSE entry
    /// and a mountinfo field as it is.
    static func isSafeComponent(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first != ".", s.utf8.count <= maxNameBytes else { return false }
        return s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "_" || c == "-"
        }
    }

    /// CSI's banned characters in a name: U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F-U+009F.
    static func isBanned(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return v <= 0x08 || v == 0x0B || v == 0x0C || (0x0E...0x1F).contains(v) || (0x7F...0x9F).contains(v)
    }
}
