import CairnCore

/// kubectl's `-o custom-columns=HEADER:PATH,...` and `-o custom-columns-file=FILE`
/// (pkg/cmd/get/customcolumn.go): one column per JSONPath, values joined by commas, `<none>` when a
/// path finds nothing, laid out like every kubectl table.
public struct CustomColumns: Sendable {
    public struct Column: Sendable {
        public var header: String
        public var path: JSONPath
    }
    public var columns: [Column]

    /// From `NAME:.metadata.name,PHASE:status.phase`.
    public init(spec: String) throws(JSONPathError) {
        if spec.isEmpty { throw JSONPathError("custom-columns format specified but no custom columns given") }
        var columns: [Column] = []
        for part in spec.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = part.firstIndex(of: ":") else {
                throw JSONPathError("unexpected custom-columns spec: \(part), expected <header>:<json-path-expr>")
            }
            let path = try Self.relaxed(String(part[part.index(after: colon)...]))
            columns.append(Column(header: String(part[..<colon]), path: try JSONPath(path)))
        }
        self.columns = columns
    }

    /// From a template file: a line of headers and a line of paths, separated by whitespace.
    public init(template: String) throws(JSONPathError) {
        let lines = template.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 1, !lines[0].isEmpty || lines.count > 1 else {
            throw JSONPathError("invalid template, missing header line. Expected format is one line of space separated headers, one line of space separated column specs.")
        }
        guard lines.count >= 2 else {
            throw JSONPathError("invalid template, missing spec line. Expected format is one line of space separated headers, one line of space separated column specs.")
        }
        let headers = lines[0].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let specs = lines[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard headers.count == specs.count else {
            throw JSONPathError("number of headers (\(headers.count)) and field specifications (\(specs.count)) don't match")
        }
        var columns: [Column] = []
        for (h, s) in zip(headers, specs) { columns.append(Column(header: h, path: try JSONPath(try Self.relaxed(s)))) }
        self.columns = columns
    }

    /// RelaxedJSONPathExpression: `metadata.name`, `.metadata.name`, `{metadata.name}` and
    /// `{.metadata.name}` all mean `{.metadata.name}`.
    public static func relaxed(_ expression: String) throws(JSONPathError) -> String {
        if expression.isEmpty { return expression }
        var inner = Substring(expression)
        if inner.hasPrefix("{") {
            guard inner.hasSuffix("}"), inner.count >= 2 else { throw relaxedError }
            inner = inner.dropFirst().dropLast()
        }
        // The regular expression's optional dot gives way when nothing would follow it.
        if inner.hasPrefix("."), inner.count > 1 { inner = inner.dropFirst() }
        guard !inner.isEmpty, !inner.contains("{"), !inner.contains("}") else { throw relaxedError }
        return "{.\(inner)}"
    }

    static let relaxedError = JSONPathError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'")

    /// The header and the cells of each object.
    public func rows(_ objects: [JSONValue]) throws(JSONPathError) -> (header: [String], rows: [[String]]) {
        var rows: [[String]] = []
        for o in objects {
            var cells: [String] = []
            for c in columns {
                let values = try c.path.findResults(o)
                var strings: [String] = []
                if values.first?.isEmpty ?? true { strings.append("<none>") }
                strings += values.flatMap { $0 }.map(GoFormat.sprint)
                cells.append(strings.joined(separator: ","))
            }
            rows.append(cells)
        }
        return (columns.map(\.header), rows)
    }
}
