import CairnAPIMachinery
import CairnControl
import CairnCore
import CairnManifest
import Foundation

/// What a PATCH answered: the object as stored, whether it was created (server-side apply of an
/// object that did not exist), and the Warning headers of fieldValidation=Warn.
public struct PatchResult: Sendable {
    public var json: String
    public var created: Bool
    public var warnings: [String]
}

/// PATCH as kube-apiserver's patch handler does it: the patch is applied to the live object (JSON
/// patch, JSON merge patch, strategic merge patch from CairnAPIMachinery, or a server-side apply),
/// the result is checked under fieldValidation, and the result is then an update like any PUT
/// (defaulting, validation, optimistic concurrency, managedFields).
enum PatchVerb {
    /// The patched document for the three non-apply patch types. `kind` nil: an object without a
    /// strategic schema (the Scale subresource), where a strategic patch merges as a JSON merge patch.
    static func applyPatch(_ type: PatchType, _ patch: JSONValue, to live: JSONValue, kind: Kind?) throws(Status) -> JSONValue {
        switch type {
        case .merge:
            return try JSONMergePatch.apply(patch, to: live)
        case .json:
            do {
                return try JSONPatch(patch).apply(to: live)
            } catch {
                throw error.status
            }
        case .strategic:
            guard let kind else { return try JSONMergePatch.apply(patch, to: live) }
            do {
                return try StrategicMergePatch.apply(patch, to: live, kind: kind)
            } catch {
                throw error.status
            }
        case .apply:
            throw Status.internalError("server-side apply is not a patch of the live object")
        }
    }

    /// The body of a server-side apply: YAML (JSON is YAML), one object.
    static func applyConfiguration(_ body: Data, kind: Kind) throws(Status) -> JSONValue {
        let text = String(decoding: body, as: UTF8.self)
        let docs: [ManifestDocument]
        do {
            docs = try ManifestReader.read(text, source: "apply patch")
        } catch {
            throw Status.badRequest("error decoding YAML: \(error)")
        }
        guard docs.count == 1, case .object = docs[0].json else {
            throw Status.badRequest("the apply patch must be exactly one \(kind.rawValue) object, not \(docs.count) documents")
        }
        let object = docs[0].json
        if let apiVersion = object["apiVersion"]?.stringValue, apiVersion != kind.apiVersion {
            throw Status.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(kind.apiVersion))")
        }
        if let k = object["kind"]?.stringValue, k != kind.rawValue {
            throw Status.badRequest("the kind in the data (\(k)) does not match the expected kind (\(kind.rawValue))")
        }
        return object
    }
}

extension ControlPlane {
    /// PATCH of an object (or, for server-side apply, its creation).
    public func patch(_ path: APIPath, type: PatchType, patch body: Data, options: WriteOptions, force: Bool) async throws(Status) -> PatchResult {
        let result = try patchStaged(path, type: type, patch: body, options: options, force: force)
        if !options.dryRun { try await durable() }
        return result
    }

    func patchStaged(_ path: APIPath, type: PatchType, patch body: Data, options: WriteOptions, force: Bool) throws(Status) -> PatchResult {
        guard let name = path.name else { throw Status.methodNotAllowed("PATCH needs an object name in the path") }
        let ns = path.kind.namespaced ? (path.namespace ?? "default") : nil
        let old = index.object(ObjectRef(path.kind, NamespacedName(ns, name)))
        let live: JSONValue?
        do { live = try old.map { try JSONValue(encoding: $0) } } catch { throw Status.internalError("\(error)") }
        var warnings: [String] = []

        if type == .apply {
            var applied = try PatchVerb.applyConfiguration(body, kind: path.kind)
            if let bodyName = applied["metadata"]?["name"]?.stringValue, bodyName != name {
                throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
            let issues = StrictDecoding.unknownFields(of: applied, kind: path.kind)
            if !issues.isEmpty {
                switch options.fieldValidation {
                case .strict: throw StrictDecoding.bodyError(kind: path.kind, issues)
                case .warn: warnings = StrictDecoding.warningHeaders(issues.map(\.description))
                case .ignore: break
                }
                applied = WriteBody.dropUnknown(applied, issues)
            }
            let merged = try ServerSideApply.apply(live: live, applied: applied, kind: path.kind, manager: options.manager,
                                                   force: force, now: clock.now())
            let managed = try managedFieldsEntries(merged)
            if old == nil {
                var body = merged
                body["metadata"]?["name"] = .string(name)
                let stored = try createStaged(path, body: body, options: options, managedFields: managed)
                return PatchResult(json: stored.json, created: true, warnings: warnings)
            }
            return PatchResult(json: try updateStaged(path, body: merged, options: options, managedFields: managed),
                               created: false, warnings: warnings)
        }

        guard let live else { throw Status.notFound(path.kind, name) }
        let patch = try PatchType.parseJSONBody(body)
        if type == .json, case .array(let ops) = patch, ops.count > maximumJSONPatchOperations {
            throw Status(code: 413, reason: .requestEntityTooLarge,
                         message: "The allowed maximum operations in a JSON patch is \(maximumJSONPatchOperations), got \(ops.count)")
        }
        var patched = try PatchVerb.applyPatch(type, patch, to: live, kind: path.kind)
        guard case .object = patched else {
            throw Status(code: 422, reason: .invalid, message: "the patched object is a JSON \(patched.typeName), not a \(path.kind.rawValue) object")
        }
        let unknown = StrictDecoding.unknownFields(of: patched, kind: path.kind)
        if !unknown.isEmpty {
            switch options.fieldValidation {
            case .strict:
                let value = type == .strategic ? StrictDecoding.goValue(patch) : patched.jsonText()
                throw StrictDecoding.patchError(value: value, unknown.map(\.description))
            case .warn: warnings = StrictDecoding.warningHeaders(unknown.map(\.description))
            case .ignore: break
            }
            patched = WriteBody.dropUnknown(patched, unknown)
        }
        // A patched object that does not decode (a string where an integer belongs) is the patch's
        // fault, and kube-apiserver says so on the field "patch", not as an invalid object.
        if case .failure(let errors) = ObjectDecoding.decodeAny(GoEncoding.omittingEmpty(patched, kind: path.kind)) {
            let value = type == .strategic ? StrictDecoding.goValue(patch) : patched.jsonText()
            throw StrictDecoding.patchDecodeError(value: value, errors.errors)
        }
        return PatchResult(json: try updateStaged(path, body: patched, options: options, managedFields: nil),
                           created: false, warnings: warnings)
    }

    func managedFieldsEntries(_ object: JSONValue) throws(Status) -> [ManagedFieldsEntry]? {
        guard let mf = object["metadata"]?["managedFields"], mf != .null else { return nil }
        do { return try mf.decode([ManagedFieldsEntry].self) } catch { throw Status.internalError("managedFields do not decode: \(error)") }
    }

    /// The managedFields after `manager` wrote `new` over `old` (kube-apiserver's fieldmanager on an
    /// update: the manager owns what it changed, others lose it).
    func managedFields(old: (any KubeObject)?, new: any KubeObject, manager: String, subresource: String = "") -> [ManagedFieldsEntry]? {
        guard let newJSON = try? JSONValue(encoding: new) else { return new.metadata.managedFields }
        let oldJSON = old.flatMap { try? JSONValue(encoding: $0) }
        let result = ServerSideApply.update(old: oldJSON, new: newJSON, kind: type(of: new).kind, manager: manager,
                                            subresource: subresource, now: clock.now())
        return (try? managedFieldsEntries(result)) ?? nil
    }
}
