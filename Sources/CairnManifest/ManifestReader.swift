import CairnCore
import Foundation
import Yams

/// One document of a manifest file, as a JSON tree plus where each field came from.
public struct ManifestDocument: Sendable {
    /// The file name (or "-" for standard input) the document came from.
    public var source: String
    /// 1-based position of the document in its file.
    public var index: Int
    public var json: JSONValue
    /// Field path ("spec.template.spec.containers[0].name") to its line and column in the file.
    public var positions: [String: Position]
    /// Where the document starts.
    public var start: Position

    public struct Position: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var description: String { "\(line):\(column)" }
    }

    public func position(of field: String) -> Position {
        // The field itself, or the nearest ancestor that the file spells out (a missing field is reported
        // where its parent is).
        // Kubernetes writes map keys as "requests[storage]"; the file has them as "requests.storage".
        var path = field.replacingOccurrences(of: #"\[([^\]0-9][^\]]*)\]"#, with: ".$1", options: .regularExpression)
        while !path.isEmpty {
            if let p = positions[path] { return p }
            if let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
                path = String(path[..<cut])
            } else {
                break
            }
        }
        return start
    }

    /// "file.yaml:14:7" for a field of this document.
    public func location(of field: String?) -> String {
        "\(source):\(field.map { position(of: $0) } ?? start)"
    }
}

/// A manifest that could not be read at all (malformed YAML or JSON).
public struct ManifestSyntaxError: Error, CustomStringConvertible, Sendable {
    public var source: String
    public var line: Int?
    public var column: Int?
    public var problem: String
    public var description: String {
        let at = line.map { "\(source):\($0):\(column ?? 1)" } ?? source
        return "\(at): invalid YAML: \(problem)"
    }
}

public enum ManifestReader {
    /// Largest manifest accepted, so a huge document gets a clear error instead of exhausting memory.
    public static let maximumBytes = 3 * 1024 * 1024

    /// Reads every document of a YAML (multi-document) or JSON manifest. `kind: List` documents are
    /// expanded into their items, as kubectl does. Empty documents are skipped.
    public static func read(_ text: String, source: String) throws(ManifestSyntaxError) -> [ManifestDocument] {
        if text.utf8.count > maximumBytes {
            throw ManifestSyntaxError(source: source, line: nil, column: nil,
                                      problem: "manifest is \(text.utf8.count) bytes; the limit is \(maximumBytes) bytes (3 MiB, as the Kubernetes API server's request limit)")
        }
        var documents: [ManifestDocument] = []
        do {
            let resolver = Resolver.default.removing(.timestamp).removing(.merge).removing(.value)
            let parser = try Parser(yaml: text, resolver: resolver)
            var index = 0
            while let root = try parser.nextRoot() {
                index += 1
                var positions: [String: ManifestDocument.Position] = [:]
                let json = try convert(root, path: "", positions: &positions, source: source)
                if json == .null { continue }
                let start = root.mark.map { ManifestDocument.Position(line: $0.line, column: $0.column) }
                    ?? .init(line: 1, column: 1)
                let doc = ManifestDocument(source: source, index: index, json: json, positions: positions, start: start)
                if json["kind"]?.stringValue == "List", case .array(let items)? = json["items"] {
                    for (i, item) in items.enumerated() {
                        let prefix = "items[\(i)]"
                        var sub: [String: ManifestDocument.Position] = [:]
                        for (k, v) in positions where k.hasPrefix(prefix + ".") {
                            sub[String(k.dropFirst(prefix.count + 1))] = v
                        }
                        documents.append(ManifestDocument(source: source, index: index, json: item, positions: sub,
                                                          start: positions[prefix] ?? start))
                    }
                } else {
                    documents.append(doc)
                }
            }
        } catch let e as ManifestSyntaxError {
            throw e
        } catch let e as YamlError {
            throw syntaxError(e, source: source)
        } catch {
            throw ManifestSyntaxError(source: source, line: nil, column: nil, problem: "\(error)")
        }
        return documents
    }

    private static func syntaxError(_ e: YamlError, source: String) -> ManifestSyntaxError {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            return ManifestSyntaxError(source: source, line: mark.line, column: mark.column, problem: ctx + problem)
        case .duplicatedKeysInMapping(let duplicates, _):
            return ManifestSyntaxError(source: source, line: nil, column: nil,
                                       problem: "duplicate keys in a mapping: \(duplicates.joined(separator: ", "))")
        default:
            return ManifestSyntaxError(source: source, line: nil, column: nil, problem: "\(e)")
        }
    }

    /// YAML to JSON as sigs.k8s.io/yaml does it: mapping keys must be strings; scalars resolve to bool,
    /// int, float, null or string.
    private static func convert(_ node: Yams.Node, path: String, positions: inout [String: ManifestDocument.Position],
                                source: String) throws -> JSONValue {
        if let m = node.mark { positions[path] = .init(line: m.line, column: m.column) }
        switch node {
        case .scalar(let s):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            case .int:
                if let i = Int64(s.string.replacingOccurrences(of: "_", with: "")) { return .int(i) }
                if let i = node.int { return .int(Int64(i)) }
                return .string(s.string)
            case .float:
                if let d = node.float, d.isFinite { return .double(d) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (k, v) in mapping {
                guard case .scalar(let ks) = k else {
                    let m = k.mark
                    throw ManifestSyntaxError(source: source, line: m?.line, column: m?.column,
                                              problem: "mapping keys must be strings")
                }
                let key = ks.string
                if object[key] != nil {
                    let m = k.mark
                    throw ManifestSyntaxError(source: source, line: m?.line, column: m?.column,
                                              problem: "key \"\(key)\" appears twice in the same mapping")
                }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let km = k.mark { positions[childPath] = .init(line: km.line, column: km.column) }
                object[key] = try convert(v, path: childPath, positions: &positions, source: source)
                // The key's own position is the better pointer for the field; keep it.
                if let km = k.mark { positions[childPath] = .init(line: km.line, column: km.column) }
            }
            return .object(object)
        case .sequence(let seq):
            var array: [JSONValue] = []
            for (i, v) in seq.enumerated() {
                array.append(try convert(v, path: "\(path)[\(i)]", positions: &positions, source: source))
            }
            return .array(array)
        case .alias:
            let m = node.mark
            throw ManifestSyntaxError(source: source, line: m?.line, column: m?.column,
                                      problem: "YAML aliases (*name) are not supported in manifests")
        }
    }
}
