import SwiftProtobuf

// Between the generated messages and the rules' own values. Only shapes change here; every decision
// is in Rules/.

extension CapabilityRequest {
    init(_ c: Csi_V1_VolumeCapability) {
        let type: AccessType?
        switch c.accessType {
        case .block?: type = .block
        case .mount(let m)?: type = .mount(fsType: m.fsType, mountFlags: m.mountFlags, volumeMountGroup: m.volumeMountGroup)
        case nil: type = nil
        }
        self.init(accessType: type, accessMode: c.hasAccessMode ? c.accessMode.mode.rawValue : nil)
    }
}

extension CapacityRange {
    init(_ r: Csi_V1_CapacityRange) {
        self.init(requiredBytes: r.requiredBytes, limitBytes: r.limitBytes)
    }
}

extension Csi_V1_Topology {
    init(segments: [String: String]) {
        self.init()
        self.segments = segments
    }
}

extension Csi_V1_VolumeCapability {
    /// A mount capability in `mode` (for tests and for the Confirmed answer).
    public static func mount(_ mode: Csi_V1_VolumeCapability.AccessMode.Mode) -> Csi_V1_VolumeCapability {
        var c = Csi_V1_VolumeCapability()
        c.mount = Csi_V1_VolumeCapability.MountVolume()
        c.accessMode.mode = mode
        return c
    }
}
