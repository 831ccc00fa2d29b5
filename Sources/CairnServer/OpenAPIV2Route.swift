import CairnAPIMachinery
import CairnCore
import Foundation

/// GET /openapi/v2: the Swagger 2.0 document (CairnAPIMachinery.OpenAPIV2), as protobuf when asked for
/// (kubectl 1.27 and 1.28 ask for nothing else), else as JSON. Both are made once.
enum OpenAPIV2Route {
    static let json: String = OpenAPIV2.document.jsonText()
    static let protobuf: Data = Data(GnosticProtobuf.document(OpenAPIV2.document))

    static func answer(accept: String?) throws -> APIResponse {
        for range in MediaType.parseAccept(accept) {
            if "\(range.type)/\(range.subtype)" == GnosticProtobuf.mediaType {
                // kube-openapi answers with this type: the requested one does not parse as a MIME type in Go.
                return APIResponse(status: 200, bytes: protobuf, contentType: "application/octet-stream")
            }
            if range.acceptsJSON { return APIResponse(status: 200, body: json) }
        }
        throw NotAcceptable(accepted: ["application/json", GnosticProtobuf.mediaType])
    }
}
