import GRPCCore
import SwiftProtobuf

/// CSI Identity: who the driver is, what it offers, and whether it is ready. Probe answers
/// `ready: false` until the restore after a start has remounted every staged volume, and fails
/// (FAILED_PRECONDITION, the spec's "plugin not healthy") once the node's FUSE session is gone, so
/// the livenessprobe sidecar has the kubelet restart the driver, which remounts everything.
struct IdentityService: Csi_V1_Identity.SimpleServiceProtocol {
    let state: DriverState

    func getPluginInfo(request: Csi_V1_GetPluginInfoRequest, context: ServerContext) async throws
        -> Csi_V1_GetPluginInfoResponse
    {
        var response = Csi_V1_GetPluginInfoResponse()
        response.name = CSIDriverConfig.driverName
        response.vendorVersion = state.config.version
        response.manifest = ["node": state.config.nodeID]
        return response
    }

    func getPluginCapabilities(request: Csi_V1_GetPluginCapabilitiesRequest, context: ServerContext) async throws
        -> Csi_V1_GetPluginCapabilitiesResponse
    {
        var response = Csi_V1_GetPluginCapabilitiesResponse()
        for service: Csi_V1_PluginCapability.Service.TypeEnum in [.controllerService, .volumeAccessibilityConstraints] {
            var c = Csi_V1_PluginCapability()
            c.service.type = service
            response.capabilities.append(c)
        }
        var expansion = Csi_V1_PluginCapability()
        expansion.volumeExpansion.type = .online
        response.capabilities.append(expansion)
        return response
    }

    func probe(request: Csi_V1_ProbeRequest, context: ServerContext) async throws -> Csi_V1_ProbeResponse {
        try await state.serve("Probe", needsReady: false) { [state] in
            if state.isReady, !state.volumes.sessionAlive {
                throw CSIFailure(.failedPrecondition,
                    "the node's FUSE session at \(state.volumes.mountPoint) is gone; restart the driver to remount the volumes")
            }
            var response = Csi_V1_ProbeResponse()
            response.ready = Google_Protobuf_BoolValue(state.isReady)
            return response
        }
    }
}
