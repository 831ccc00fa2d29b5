/// A problem with what was typed, reported as kubectl reports it (`error: <message>`, exit status 1).
public struct CommandLineError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The printers `-o` selects, as kubectl names them (PrintFlags): tables, json, yaml, name, jsonpath,
/// custom-columns.
public enum OutputFormat: Sendable {
    case table(wide: Bool)
    case json
    case yaml
    case name
    case jsonPath(JSONPath, asJSON: Bool)
    case customColumns(CustomColumns)

    public static let allowed = ["custom-columns", "custom-columns-file", "json", "jsonpath", "jsonpath-as-json",
                                 "jsonpath-file", "name", "wide", "yaml"]

    /// Parses `-o VALUE`; `readFile` reads the file of `jsonpath-file=` and `custom-columns-file=`.
    public static func parse(_ value: String?, readFile: (String) throws -> String) throws(CommandLineError) -> OutputFormat {
        guard let value, !value.isEmpty else { return .table(wide: false) }
        let (format, argument): (String, String?) = {
            guard let eq = value.firstIndex(of: "=") else { return (value, nil) }
            return (String(value[..<eq]), String(value[value.index(after: eq)...]))
        }()
        func read(_ path: String) throws(CommandLineError) -> String {
            do { return try readFile(path) } catch {
                throw CommandLineError("error reading --template \(path), open \(path): \(error)")
            }
        }
        switch format {
        case "wide" where argument == nil: return .table(wide: true)
        case "json" where argument == nil: return .json
        case "yaml" where argument == nil: return .yaml
        case "name" where argument == nil: return .name
        case "jsonpath", "jsonpath-file", "jsonpath-as-json":
            guard var template = argument, !template.isEmpty else {
                throw CommandLineError("template format specified but no template given")
            }
            if format == "jsonpath-file" { template = try read(template) }
            do {
                return .jsonPath(try JSONPath(template), asJSON: format == "jsonpath-as-json")
            } catch {
                throw CommandLineError("error parsing jsonpath \(template), \(error)")
            }
        case "custom-columns":
            do { return .customColumns(try CustomColumns(spec: argument ?? "")) } catch { throw CommandLineError(error.message) }
        case "custom-columns-file":
            guard let path = argument, !path.isEmpty else {
                throw CommandLineError("custom-columns-file format specified but no custom columns file given")
            }
            do { return .customColumns(try CustomColumns(template: try read(path))) } catch let e as CommandLineError {
                throw e
            } catch {
                throw CommandLineError("\(error)")
            }
        default:
            throw CommandLineError("unable to match a printer suitable for the output format \"\(value)\", allowed formats are: \(allowed.joined(separator: ","))")
        }
    }

    /// Whether the printer reads objects as JSON trees (the others print typed objects).
    public var readsJSON: Bool {
        switch self {
        case .table, .name: false
        default: true
        }
    }
}
