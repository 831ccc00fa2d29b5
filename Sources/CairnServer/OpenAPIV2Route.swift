import CairnAPIMachinery
import CairnCore

/// GET /openapi/v2. Cairn publishes its schemas as OpenAPI v3 only (kubectl 1.29+ reads nothing
/// else); the v2 document is answered with kube-apiserver's 404, which kubectl treats as "no v2
/// schema" and so falls back on its compiled-in types.
enum OpenAPIV2Route {
    static func answer(accept: String?) throws -> APIResponse {
        throw Status(code: 404, reason: .notFound, message: "the server could not find the requested resource")
    }
}
