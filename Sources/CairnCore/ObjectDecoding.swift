import Foundation

extension Kind {
    /// The Swift type that models this kind.
    public var objectType: any KubeObject.Type {
        switch self {
        case .storageClass: StorageClass.self
        case .persistentVolume: PersistentVolume.self
        case .persistentVolumeClaim: PersistentVolumeClaim.self
        case .pod: Pod.self
        case .node: Node.self
        case .event: Event.self
        case .namespace: Namespace.self
        case .statefulSet: StatefulSet.self
        case .replicaSet: ReplicaSet.self
        case .service: Service.self
        }
    }
}

/// Turns JSON into typed objects strictly: wrong types and unknown fields are errors with the field's
/// path, so nothing in a manifest is silently dropped (like `kubectl apply --validate=strict`).
public enum ObjectDecoding {
    /// The kind a document declares, or the error kubectl would give.
    public static func kind(of json: JSONValue) -> Result<Kind, FieldError> {
        guard case .object = json else {
            return .failure(.invalid("", json.typeName, "a manifest document must be an object"))
        }
        guard let apiVersion = json["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            return .failure(.required("apiVersion", "every object needs apiVersion (e.g. apps/v1)"))
        }
        guard let kind = json["kind"]?.stringValue, !kind.isEmpty else {
            return .failure(.required("kind", "every object needs kind (e.g. StatefulSet)"))
        }
        guard let k = Kind.from(apiVersion: apiVersion, kind: kind) else {
            if let other = Kind(rawValue: kind) {
                return .failure(.invalid("apiVersion", string: apiVersion,
                                         "no matches for kind \"\(kind)\" in version \"\(apiVersion)\"; \(kind) is served as \(other.apiVersion)"))
            }
            let known = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(.invalid("kind", string: kind,
                                     "no matches for kind \"\(kind)\" in version \"\(apiVersion)\"; Cairn serves \(known)"))
        }
        return .success(k)
    }

    /// Decodes `json` as `type`, reporting every type mismatch and every unknown field.
    /// A field that fails to decode is set aside and decoding retried, so one bad value does not hide
    /// the document's other errors (an unknown field next to an invalid quantity is reported too).
    public static func decode<T: KubeObject>(_ type: T.Type, from json: JSONValue) -> Result<T, FieldErrors> {
        var input = json
        var errors: [FieldError] = []
        for _ in 0..<64 {
            do {
                let value = try input.decode(T.self)
                errors += unknownFields(input: input, typed: value)
                return errors.isEmpty ? .success(value) : .failure(FieldErrors(errors))
            } catch let error as DecodingError {
                errors.append(fieldError(error, in: json))
                guard let badPath = prunablePath(error), let pruned = input.removing(badPath), pruned != input else {
                    return .failure(FieldErrors(errors))
                }
                input = pruned
            } catch {
                errors.append(FieldError.invalid("", json.typeName, "\(error)"))
                return .failure(FieldErrors(errors))
            }
        }
        return .failure(FieldErrors(errors))
    }

    /// The object key whose value failed to decode, when removing it can let decoding go on: a
    /// missing required field cannot be set aside, and an array element cannot be removed without
    /// renumbering the elements after it.
    static func prunablePath(_ error: DecodingError) -> [String]? {
        let codingPath: [any CodingKey]
        switch error {
        case .typeMismatch(_, let ctx), .dataCorrupted(let ctx): codingPath = ctx.codingPath
        default: return nil
        }
        guard let last = codingPath.last, last.intValue == nil else { return nil }
        return codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
    }

    /// Decodes a document of any served kind.
    public static func decodeAny(_ json: JSONValue) -> Result<any KubeObject, FieldErrors> {
        switch kind(of: json) {
        case .failure(let e): return .failure(FieldErrors([e]))
        case .success(let k): return decodeErased(k.objectType, json)
        }
    }

    private static func decodeErased<T: KubeObject>(_ type: T.Type, _ json: JSONValue) -> Result<any KubeObject, FieldErrors> {
        decode(type, from: json).map { $0 as any KubeObject }
    }

    /// Paths present in the input that the typed value does not carry: fields Cairn does not model.
    static func unknownFields<T: Encodable>(input: JSONValue, typed: T) -> [FieldError] {
        guard let output = try? JSONValue(encoding: typed) else { return [] }
        let kept = Set(output.presentPaths().map(joinPath))
        var errors: [FieldError] = []
        var reported: [String] = []
        for path in input.presentPaths().map(joinPath).sorted() where !kept.contains(path) {
            // Report the outermost unknown field only, not everything beneath it.
            if reported.contains(where: { path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") }) { continue }
            reported.append(path)
            errors.append(otherVolumeSource(path) ?? .unknown(path))
        }
        return errors
    }

    /// The volume sources Kubernetes defines beside persistentVolumeClaim (core/v1 VolumeSource).
    static let volumeSources: Set<String> = [
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
        "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume",
        "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi",
        "ephemeral", "image",
    ]

    /// A pod volume of another type is not a typo: say what Cairn serves and why.
    static func otherVolumeSource(_ path: String) -> FieldError? {
        guard let bracket = path.range(of: "volumes[", options: .backwards),
              path[..<bracket.lowerBound].hasSuffix("spec."),
              let close = path[bracket.upperBound...].firstIndex(of: "]") else { return nil }
        let rest = path[path.index(after: close)...]
        guard rest.hasPrefix("."), volumeSources.contains(String(rest.dropFirst())) else { return nil }
        let source = String(rest.dropFirst())
        return .forbidden(path, "Cairn serves only persistentVolumeClaim volumes: a Cairn pod runs no containers, it mounts "
                          + "its claims' volumes, and a \(source) volume has no claim behind it to provision, size or keep; "
                          + "use a persistentVolumeClaim volume")
    }

    public static func joinPath(_ components: [String]) -> String {
        var s = ""
        for c in components {
            if c.hasPrefix("[") { s += c } else { s += s.isEmpty ? c : ".\(c)" }
        }
        return s
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        joinPath(codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue })
    }

    static func value(at codingPath: [any CodingKey], in json: JSONValue) -> JSONValue? {
        var cur: JSONValue? = json
        for key in codingPath {
            if let i = key.intValue, case .array(let a)? = cur { cur = i < a.count ? a[i] : nil }
            else { cur = cur?[key.stringValue] }
        }
        return cur
    }

    static func render(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: return quoted(s)
        case .int(let i)?: return "\(i)"
        case .double(let d)?: return "\(d)"
        case .bool(let b)?: return "\(b)"
        case .null?, nil: return "null"
        case .array?: return "array"
        case .object?: return "object"
        }
    }

    static func fieldError(_ error: DecodingError, in json: JSONValue) -> FieldError {
        switch error {
        case .typeMismatch(let type, let ctx):
            let p = path(ctx.codingPath)
            let got = value(at: ctx.codingPath, in: json)
            return .invalid(p, render(got), "expected \(typeWord(type)), got \(got?.typeName ?? "nothing")")
        case .valueNotFound(let type, let ctx):
            return .required(path(ctx.codingPath), "expected \(typeWord(type))")
        case .keyNotFound(let key, let ctx):
            return .required(path(ctx.codingPath + [key]))
        case .dataCorrupted(let ctx):
            let p = path(ctx.codingPath)
            return .invalid(p, render(value(at: ctx.codingPath, in: json)), ctx.debugDescription)
        @unknown default:
            return .invalid("", "", "\(error)")
        }
    }

    static func typeWord(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "a string"
        case "Int32", "Int64", "Int": return "an integer"
        case "Bool": return "a boolean (true or false)"
        case "Double": return "a number"
        default:
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a map of strings" }
            return "an object (\(name))"
        }
    }
}
