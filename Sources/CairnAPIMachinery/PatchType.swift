import CairnCore

/// The Content-Type of a PATCH request, as kube-apiserver accepts them.
public enum PatchType: String, Sendable, Hashable, CaseIterable {
    case json = "application/json-patch+json"
    case merge = "application/merge-patch+json"
    case strategic = "application/strategic-merge-patch+json"
    case apply = "application/apply-patch+yaml"

    /// The patch type named by a Content-Type header (parameters such as `charset` ignored), or
    /// kube-apiserver's 415 listing what it accepts.
    public init(contentType: String?) throws(Status) {
        let bare = (contentType ?? "").split(separator: ";").first.map { String($0.trimmingSpaces).lowercased() } ?? ""
        // kubectl sends server-side apply as YAML; JSON is YAML, and the CBOR form is not used by kubectl.
        if bare == "application/apply-patch+json" { self = .apply; return }
        guard let t = PatchType(rawValue: bare) else {
            let accepted = PatchType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw Status(code: 415, reason: .unsupportedMediaType,
                         message: "the body of the request was in an unknown format - accepted media types include: \(accepted)")
        }
        self = t
    }

    /// validateAndTranscodePatch: every patch but apply must be valid JSON, else "invalid JSON patch".
    public static func parseJSONBody(_ body: some Collection<UInt8>) throws(Status) -> JSONValue {
        do { return try JSONText.parse(body) } catch { throw Status.badRequest("invalid JSON patch") }
    }
}

/// kube-apiserver's limit on the operations of one JSON patch.
public let maximumJSONPatchOperations = 10_000
